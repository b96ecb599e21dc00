"""Write docs/modules/<module>.md and docs/roles/<role>-variables.md from what ansible-doc reports.

    python tools/docs/module_docs.py [--check]

With --check nothing is written; the exit code says whether the pages are current.
"""

import argparse
import json
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = os.path.join(REPO, "plugins", "modules")
ROLES = os.path.join(REPO, "roles")
OUT = os.path.join(REPO, "docs", "modules")
ROLE_OUT = os.path.join(REPO, "docs", "roles")
GENERATED = "*Generated from `ansible-doc` by `make docs`; edit the %s instead.*"
MARKUP = [
    (re.compile(r"[CVO]\(([^)]*)\)"), r"`\1`"),
    (re.compile(r"M\((?:\w+\.\w+\.)?([^)]*)\)"), r"[\1](\1.md)"),
    (re.compile(r"[IB]\(([^)]*)\)"), r"*\1*"),
    (re.compile(r"L\(([^,]*),\s*([^)]*)\)"), r"[\1](\2)"),
    (re.compile(r"U\(([^)]*)\)"), r"<\1>"),
]


def plain(text):
    """Ansible's documentation markup, in Markdown."""
    if isinstance(text, list):
        text = " ".join(text)
    for pattern, replacement in MARKUP:
        text = pattern.sub(replacement, str(text))
    return text.replace("|", "\\|")


def module_names():
    return sorted(name[:-3] for name in os.listdir(MODULES) if name.endswith(".py") and name != "__init__.py")


def role_names():
    return sorted(name for name in os.listdir(ROLES)
                  if os.path.exists(os.path.join(ROLES, name, "meta", "argument_specs.yml")))


def ansible_doc(plugin_type, names):
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "--json", "-t", plugin_type]
    output = subprocess.run(command + ["difymesh.platform." + n for n in names], capture_output=True,
                            text=True, check=True).stdout
    return json.loads(output)


def option_rows(options, prefix=""):
    for name in sorted(options):
        option = options[name]
        default = option.get("default")
        yield "| `%s%s` | %s | %s | %s |" % (
            prefix, name, option.get("type", "str"),
            "yes" if option.get("required") else ("`%s`" % json.dumps(default) if default is not None else ""),
            plain(option.get("description", "")))
        if option.get("suboptions"):
            yield from option_rows(option["suboptions"], prefix + name + ".")


def page(name, data):
    doc = data["doc"]
    lines = ["# difymesh.platform.%s" % name, "", plain(doc["short_description"]), ""]
    lines += [plain(paragraph) + "\n" for paragraph in doc.get("description", [])]
    lines += ["## Options", "", "| option | type | required / default | description |", "|---|---|---|---|"]
    lines += list(option_rows(doc.get("options", {})))
    if doc.get("notes"):
        lines += ["", "## Notes", ""] + ["- " + plain(note) for note in doc["notes"]]
    lines += ["", "## Examples", "", "```yaml", data["examples"].strip(), "```", "", "## Return values", ""]
    for key, value in sorted((data.get("return") or {}).items()):
        cells = (key, value.get("type"), value.get("returned"), plain(value.get("description", "")))
        lines.append("- `%s` (%s, %s): %s" % cells)
    lines += ["", GENERATED % "module's documentation", ""]
    return "\n".join(lines)


def role_page(name, data):
    """Every entry point of a role with its variables, from meta/argument_specs.yml."""
    lines = ["# Role difymesh.platform.%s: variables" % name, "",
             "The role's guide is [roles/%s/README.md](../../roles/%s/README.md). Every variable below is "
             "checked against its type and choices before the role changes anything." % (name, name), ""]
    for entry, spec in sorted(data["entry_points"].items(), key=lambda item: item[0] != "main"):
        lines += ["## Entry point `%s`" % entry, "", plain(spec.get("short_description", "")), ""]
        lines += [plain(paragraph) + "\n" for paragraph in spec.get("description") or []]
        lines += ["| variable | type | required / default | description |", "|---|---|---|---|"]
        lines += list(option_rows(spec.get("options") or {})) + [""]
    lines += [GENERATED % "role's meta/argument_specs.yml", ""]
    return "\n".join(lines)


def pages():
    """path -> text of every generated page."""
    texts = {}
    for full_name, data in ansible_doc("module", module_names()).items():
        name = full_name.split(".")[-1]
        texts[os.path.join(OUT, name + ".md")] = page(name, data)
    for full_name, data in ansible_doc("role", role_names()).items():
        name = full_name.split(".")[-1]
        texts[os.path.join(ROLE_OUT, name + "-variables.md")] = role_page(name, data)
    return texts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for path, text in sorted(pages().items()):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current != text:
            stale.append(path)
            if not args.check:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
    for path in stale:
        print("%s %s" % ("stale:" if args.check else "wrote", os.path.relpath(path, REPO)))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
