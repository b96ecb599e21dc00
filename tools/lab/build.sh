#!/usr/bin/env bash
# Build the lab's programs from their Go modules into a cache keyed by the pins.
# A warm run (binaries for these pins already built) does nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tools/lab/pins.env
source "$here/pins.env"

cache=${LAB_CACHE:-$repo/.cache/lab}
key=$({ grep -v "^#" "$here/pins.env"; go env GOVERSION; } | sha256sum | cut -c1-12)
bin="$cache/bin/$key"
src="$cache/src"
programs=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok helm crane)

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-auto}

all_built() {
    local p
    for p in "${programs[@]}"; do [[ -x "$bin/$p" ]] || return 1; done
    [[ -s "$bin/kwok-stages.yaml" ]]
}

# The module's own go.mod points every k8s.io staging module at ./staging;
# a wrapper module must point them at their published releases instead.
staging_replaces() {
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
        sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
    sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#\1#p' "$gomod" |
        while read -r m; do echo "replace $m => $m $KUBERNETES_STAGING_VERSION"; done
}

wrapper() {  # wrapper DIR REQUIRE-LINES...
    local dir=$1; shift
    mkdir -p "$dir"
    {
        echo "module difymesh.lab/$(basename "$dir")"
        echo "go 1.26"
        printf 'require %s\n' "$@"
    } >"$dir/go.mod"
}

kube_ldflags() {
    local d b=k8s.io/component-base/version c=k8s.io/client-go/pkg/version minor
    d=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
    for p in $b $c; do
        printf -- '-X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s ' "$p" "$KUBERNETES_VERSION" "$p" "$p" "$minor"
        printf -- '-X %s.gitTreeState=clean -X %s.buildDate=%s ' "$p" "$p" "$d"
    done
}

build_kubernetes() {
    local dir="$src/kubernetes" p
    wrapper "$dir" "k8s.io/kubernetes $KUBERNETES_VERSION"
    staging_replaces >>"$dir/go.mod"
    for p in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
        [[ -x "$bin/$p" ]] && continue
        echo "lab build: $p $KUBERNETES_VERSION"
        (cd "$dir" && go build -trimpath -tags selinux,notest -ldflags "-s -w $(kube_ldflags)" \
            -o "$bin/$p.tmp" "k8s.io/kubernetes/cmd/$p") && mv "$bin/$p.tmp" "$bin/$p"
    done
}

build_etcd() {
    local dir="$src/etcd" m
    [[ -x "$bin/etcd" ]] && return 0
    echo "lab build: etcd $ETCD_VERSION"
    # etcd's own replace lines point at sibling folders; require the siblings at the same release.
    wrapper "$dir" "go.etcd.io/etcd/server/v3 $ETCD_VERSION" "go.etcd.io/etcd/api/v3 $ETCD_VERSION" \
        "go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION" "go.etcd.io/etcd/client/v3 $ETCD_VERSION" \
        "go.etcd.io/etcd/pkg/v3 $ETCD_VERSION"
    (cd "$dir" && go build -trimpath -ldflags "-s -w" -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3) &&
        mv "$bin/etcd.tmp" "$bin/etcd"
}

# kwok and helm are built against a slightly older k8s.io release; align them with the lab's.
k8s_aligned_replaces() {  # module@version
    local gomod
    gomod=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
    # Staging modules carry real releases (v0.36.x); pseudo-versions (v0.0.0-...) are left alone.
    # A module without k8s.io dependencies (crane) has none to align: grep's no-match is not an error.
    { grep -oE '^[[:space:]]*k8s\.io/[a-z0-9-]+ v0\.[1-9][0-9]*\.[0-9]+' "$gomod" || true; } | awk '{print $1}' | sort -u |
        while read -r m; do echo "replace $m => $m $KUBERNETES_STAGING_VERSION"; done
}

build_go_program() {  # name module version package ldflags
    local name=$1 module=$2 version=$3 package=$4 ldflags=$5 dir="$src/$1"
    [[ -x "$bin/$name" ]] && return 0
    echo "lab build: $name $version"
    wrapper "$dir" "$module $version"
    k8s_aligned_replaces "$module@$version" >>"$dir/go.mod"
    (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$bin/$name.tmp" "$package") &&
        mv "$bin/$name.tmp" "$bin/$name"
}

# kwok's own stage definitions (Apache-2.0, shipped in its module) for fast nodes, pods and
# volumes, gathered at build time into the cache; the lab's StorageClass is called "standard".
kwok_stages() {
    local out="$bin/kwok-stages.yaml" root f
    [[ -s "$out" ]] && return 0
    root=$(cd "$src/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
        pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml \
        volume/fast/pvc-provision.yaml volume/fast/pv-bind.yaml volume/fast/pv-delete.yaml \
        volume/fast/pvc-delete.yaml; do
        echo "---"
        sed "s/'kwok-volume'/'standard'/g" "$root/$f"
    done >"$out.tmp"
    mv "$out.tmp" "$out"
}

main() {
    if all_built; then
        echo "lab build: cached ($bin)"
    else
        mkdir -p "$bin" "$src"
        local start=$SECONDS
        build_etcd
        build_kubernetes
        build_go_program kwok sigs.k8s.io/kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok \
            ""
        build_go_program helm helm.sh/helm/v3 "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
            "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
        build_go_program crane github.com/google/go-containerregistry "$CRANE_VERSION" \
            github.com/google/go-containerregistry/cmd/crane ""
        kwok_stages
        echo "lab build: done in $((SECONDS - start))s"
    fi
    ln -sfn "$bin" "$cache/current"
}

main "$@"
