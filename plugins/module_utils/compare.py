# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide whether an object needs a write, the server-side-apply way.

With server-side apply the fields an applier owns are listed in metadata.managedFields.
Comparing only those fields with what we would apply now ignores everything the server
or other managers populate, so an unchanged inventory makes no write at all.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
SERVER_METADATA = ("managedFields", "resourceVersion", "uid", "generation", "creationTimestamp",
                   "selfLink", "deletionGracePeriodSeconds")


def owned_fields(obj, manager):
    """The merged FieldsV1 tree that `manager` owns through apply in `obj`."""
    tree = {}
    for entry in (obj or {}).get("metadata", {}).get("managedFields") or []:
        if entry.get("manager") == manager and entry.get("operation") == "Apply":
            _merge_trees(tree, entry.get("fieldsV1") or {})
    return tree


def _merge_trees(into, other):
    for key, sub in other.items():
        _merge_trees(into.setdefault(key, {}), sub)


def _is_leaf(fields):
    return not any(key.startswith(("f:", "k:", "v:", "i:")) for key in fields)


def _list_item_matches(key, item):
    if key.startswith("k:"):
        wanted = json.loads(key[2:])
        return isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items())
    if key.startswith("v:"):
        return json.loads(key[2:]) == item
    return False


def extract(value, fields):
    """The part of `value` covered by a FieldsV1 tree."""
    if _is_leaf(fields):
        return copy.deepcopy(value)
    if isinstance(value, dict):
        return {key[2:]: extract(value[key[2:]], sub) for key, sub in fields.items()
                if key.startswith("f:") and key[2:] in value}
    if isinstance(value, list):
        return [extract(item, sub) for item in value for key, sub in fields.items()
                if _list_item_matches(key, item)]
    return copy.deepcopy(value)


def applied_view(obj, manager):
    """What `manager` last applied to `obj`, as the object stands now (None if nothing)."""
    fields = owned_fields(obj, manager)
    if not fields:
        return None
    view = extract(obj, fields)
    view.setdefault("apiVersion", obj.get("apiVersion"))
    view.setdefault("kind", obj.get("kind"))
    metadata = view.setdefault("metadata", {})
    metadata["name"] = obj["metadata"]["name"]
    metadata["namespace"] = obj["metadata"].get("namespace")
    return view


def needs_apply(current, desired, manager):
    """True unless the fields we own already hold exactly what we would apply."""
    if current is None:
        return True
    return applied_view(current, manager) != desired


def clean(obj):
    """A copy of an object without server bookkeeping, for diffs and results.

    The bookkeeping is left out before copying: managedFields is most of a small object, and
    copying it only to throw it away was the largest CPU cost of a bulk run."""
    if obj is None:
        return None
    cleaned = dict((key, value) for key, value in obj.items() if key != "status")
    if "metadata" in obj:
        metadata = dict((key, value) for key, value in obj["metadata"].items() if key not in SERVER_METADATA)
        annotations = dict((key, value) for key, value in (metadata.get("annotations") or {}).items()
                           if key != LAST_APPLIED)
        if annotations:
            metadata["annotations"] = annotations
        else:
            metadata.pop("annotations", None)
        cleaned["metadata"] = metadata
    return copy.deepcopy(cleaned)


def _drop(value, fields):
    """`value` with the leaves of a FieldsV1 tree removed."""
    if _is_leaf(fields) or not isinstance(value, dict):
        return value
    kept = {}
    for key, item in value.items():
        sub = fields.get("f:" + key)
        if sub is None:
            kept[key] = item
        elif not _is_leaf(sub):
            kept[key] = _drop(item, sub)
    return kept


def merge(base, overlay):
    """Deep merge of mappings; lists and scalars from overlay win, as in an atomic apply."""
    if not isinstance(base, dict) or not isinstance(overlay, dict):
        return copy.deepcopy(overlay)
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        merged[key] = merge(merged.get(key), value) if key in merged else copy.deepcopy(value)
    return merged


def predict(current, desired, manager):
    """The object as it would be after applying `desired`: for check mode and diffs."""
    if current is None:
        return copy.deepcopy(desired)
    base = _drop(clean(current), owned_fields(current, manager))
    return merge(base, desired)


def diff(before, after):
    """Ansible's diff dict from two objects."""
    return {"before": clean(before) or {}, "after": clean(after) or {}}
