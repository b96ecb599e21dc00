#!/usr/bin/env bash
# Build Jaeger v2 (github.com/jaegertracing/jaeger/cmd/jaeger) from the Go module proxy into a cache
# keyed by the pins, for the span round-trip test. A warm run (binary for these pins built) does nothing.
# Result: $TRACING_CACHE/current/jaeger (default .cache/tracing/current/jaeger).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tools/tracing/pins.env
source "$here/pins.env"

cache=${TRACING_CACHE:-$repo/.cache/tracing}
key=$({ grep -v "^#" "$here/pins.env"; go env GOVERSION; } | sha256sum | cut -c1-12)
bin="$cache/bin/$key"
dir="$cache/src/jaeger"
module=github.com/jaegertracing/jaeger

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-auto}

# A wrapper module requires Jaeger at the pinned release. Replace directives only apply in the main
# module, so Jaeger's own (non-local) replace lines are copied into the wrapper.
wrapper() {
    local gomod
    gomod=$(go mod download -json "$module@$JAEGER_MODULE_VERSION" |
        sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
    mkdir -p "$dir"
    {
        echo "module difymesh.tracing/jaeger"
        echo "go 1.26"
        echo "require $module $JAEGER_MODULE_VERSION"
        grep -E '^replace [^ ]+ => [^./][^ ]* v[0-9]' "$gomod" || true
    } >"$dir/go.mod"
}

main() {
    if [[ -x "$bin/jaeger" ]]; then
        echo "tracing build: cached ($bin)"
    else
        local start=$SECONDS
        echo "tracing build: jaeger $JAEGER_VERSION (module $module $JAEGER_MODULE_VERSION)"
        mkdir -p "$bin"
        wrapper
        (cd "$dir" && go build -trimpath \
            -ldflags "-s -w -X $module/internal/version.latestVersion=$JAEGER_VERSION" \
            -o "$bin/jaeger.tmp" "$module/cmd/jaeger") && mv "$bin/jaeger.tmp" "$bin/jaeger"
        echo "tracing build: done in $((SECONDS - start))s"
    fi
    ln -sfn "$bin" "$cache/current"
}

main "$@"
