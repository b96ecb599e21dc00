"""Write docs/modules/<module>.md from what ansible-doc reports for each module.

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
OUT = os.path.join(REPO, "docs", "modules")
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


def ansible_doc(names):
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "--json", "-t", "module"]
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
    lines += ["", "*Generated from `ansible-doc` by `make docs`; edit the module's documentation instead.*", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    docs = ansible_doc(module_names())
    stale = []
    os.makedirs(OUT, exist_ok=True)
    for full_name, data in sorted(docs.items()):
        name = full_name.split(".")[-1]
        path = os.path.join(OUT, name + ".md")
        text = page(name, data)
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
