# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One line per changed field, from what kubernetes.core.k8s registered.

kubernetes.core.k8s prints its before/after diff only when a task applies one object. The roles
apply many objects per task, so their diffs sit in the registered result, one per object, full of
server bookkeeping (managedFields, resourceVersion). These functions turn them into lines such as
"update Deployment dify/dify-web: spec.replicas 1 -> 3", for a role to print in diff mode.

kubernetes.core.helm prints a release's diff only with the helm-diff plugin. In check mode it
registers the release's current values and the task its declared ones, which give the same lines
for a Helm release: "update HelmRelease istio-system/istiod: values.meshConfig.accessLogEncoding ...".
The task's arguments survive registration only in a loop's items; outside a loop a role adds them
back as invocation.module_args (release_name, release_namespace, release_values).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# Fields the server writes for its own bookkeeping: a change there is not a change of ours.
IGNORED_PATHS = (
    "metadata.managedFields",
    "metadata.resourceVersion",
    "metadata.generation",
    "metadata.uid",
    "metadata.creationTimestamp",
    "status",
)
# A Secret's values are never shown, whatever the task's no_log says.
HIDDEN_KINDS = {"Secret": ("data", "stringData")}
HIDDEN = "(hidden)"
ABSENT = "(absent)"
LONGEST_VALUE = 80


def object_changes(registered):
    """Lines describing every change in registered kubernetes.core.k8s or kubernetes.core.helm results."""
    lines = []
    for item in _object_results(registered):
        lines.extend(_describe(item))
    return lines


def _object_results(registered):
    """The per-object results inside a registered result, a loop's result or a list of them."""
    if isinstance(registered, (list, tuple)):
        return [item for entry in registered for item in _object_results(entry)]
    if not isinstance(registered, dict) or registered.get("skipped"):
        return []
    if isinstance(registered.get("results"), list):  # a loop
        return _object_results(registered["results"])
    inner = registered.get("result")
    if isinstance(inner, dict) and isinstance(inner.get("results"), list):  # many objects in one task
        return _object_results(inner["results"])
    if not registered.get("changed"):
        return []
    return [registered] if _object_diff(registered) or _helm_values(registered) else []


def _object_diff(item):
    """(before, after) of one object from kubernetes.core.k8s, else None."""
    diff = item.get("diff")
    if isinstance(diff, dict) and ("before" in diff or "after" in diff):
        return diff.get("before") or {}, diff.get("after") or {}
    if item.get("method") == "create" and isinstance(item.get("result"), dict):
        # Without apply, a new object of a multi-object task comes with no diff, only the object.
        return {}, item["result"]
    return None  # not diff mode, or helm-diff's text ({"prepared": ...})


def _helm_values(item):
    """(current, declared) values of a release from kubernetes.core.helm in check mode, else None.

    In check mode the module registers status.values as {"current": ..., "declared": ...}, where
    "declared" holds the installed release's status (empty when there is none); the declared
    values are the task's own release_values."""
    values = (item.get("status") or {}).get("values")
    args = (item.get("invocation") or {}).get("module_args") or {}
    if not isinstance(values, dict) or set(values) != {"current", "declared"} or "release_name" not in args:
        return None
    before = {"values": values["current"] or {}} if values["declared"] else {}
    after = {} if args.get("release_state") == "absent" else {"values": args.get("release_values") or {}}
    return before, after


def _describe(item):
    object_diff = _object_diff(item)
    if object_diff:
        before, after = object_diff
        identity = _identity(item.get("result") or after or before)
    else:
        before, after = _helm_values(item)
        args = item["invocation"]["module_args"]
        identity = "HelmRelease %s/%s" % (args.get("release_namespace"), args["release_name"])
    if not before:
        return ["create " + identity]
    if not after:
        return ["delete " + identity]
    hidden = HIDDEN_KINDS.get(identity.split(" ", 1)[0], ())
    changes = _changed_fields(_leaves(before), _leaves(after))
    return ["update %s: %s" % (identity, _change_text(path, old, new, hidden)) for path, old, new in changes]


def _identity(obj):
    metadata = obj.get("metadata") or {}
    name = metadata.get("name", "?")
    if metadata.get("namespace"):
        name = "%s/%s" % (metadata["namespace"], name)
    return "%s %s" % (obj.get("kind", "?"), name)


def _changed_fields(before, after):
    """(path, before, after) for every leaf that differs, server bookkeeping left out."""
    found = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path, ABSENT), after.get(path, ABSENT)
        if old != new and not _ignored(path):
            found.append((path, old, new))
    return found


def _ignored(path):
    return any(_under(path, ignored) for ignored in IGNORED_PATHS)


def _under(path, prefix):
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def _leaves(value, path=""):
    """{dotted path: value as JSON text} for every leaf of a document."""
    if isinstance(value, dict) and value:
        found = {}
        for key, child in value.items():
            found.update(_leaves(child, "%s.%s" % (path, key) if path else str(key)))
        return found
    if isinstance(value, list) and value:
        found = {}
        for index, child in enumerate(value):
            found.update(_leaves(child, "%s[%d]" % (path, index)))
        return found
    return {path: json.dumps(value, sort_keys=True)}


def _change_text(path, old, new, hidden):
    if any(_under(path, field) for field in hidden):
        old, new = (HIDDEN if value != ABSENT else ABSENT for value in (old, new))
    return "%s %s -> %s" % (path, _shortened(old), _shortened(new))


def _shortened(text):
    return text if len(text) <= LONGEST_VALUE else text[:LONGEST_VALUE - 3] + "..."
