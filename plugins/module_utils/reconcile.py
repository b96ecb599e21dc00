# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring Istio objects to their desired state: read once, plan, then write in safe phases.

The current state is learned with one LIST per kind per namespace. Steps of one phase run
concurrently in a bounded pool; phases run one after another so that a DestinationRule
gains a subset before a VirtualService uses it, and keeps it until none does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.difymesh.platform.plugins.module_utils import builder, compare, openapi
from ansible_collections.difymesh.platform.plugins.module_utils.api import ApiNotServed
from ansible_collections.difymesh.platform.plugins.module_utils.builder import (
    DESTINATION_RULE, FIELD_MANAGER, KINDS, MANAGED_BY, MANAGED_BY_LABEL, OWNER, OWNER_LABEL,
    PEER_AUTHENTICATION, VIRTUAL_SERVICE)

ARGO_MARK = "argo-rollouts.argoproj.io/managed-by-rollouts"
DELETE_ORDER = (VIRTUAL_SERVICE, DESTINATION_RULE, PEER_AUTHENTICATION)


class ReconcileError(Exception):
    """A failure that stopped the run, with the results of what was already done."""

    def __init__(self, message, results=None):
        super(ReconcileError, self).__init__(message)
        self.results = results or []


class Step(object):
    """Apply `desired` (or delete `current` when desired is None) in a given phase."""

    def __init__(self, phase, kind, key, desired=None, current=None):
        self.phase = phase
        self.kind = kind
        self.key = key
        self.desired = desired
        self.current = current
        # Decided once: both the schema check and the write ask whether this step writes.
        self.due = desired is not None and compare.needs_apply(current, desired, FIELD_MANAGER)


def in_pool(function, items, concurrency):
    """function(item) for every item, at most `concurrency` at once, results in order."""
    items = list(items)
    if len(items) <= 1 or concurrency <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(function, items))


def read_current(api, kinds, namespaces, concurrency, unserved=None):
    """key -> object for every object of `kinds` in `namespaces`: one LIST per kind and namespace.

    With a set as `unserved`, a kind whose API the cluster does not serve reads as empty and its
    API version is added to the set, instead of failing the run."""
    pairs = [(kind, namespace) for kind in kinds for namespace in sorted(namespaces)]
    listed = in_pool(lambda pair: _list_kind(api, pair[0], pair[1], unserved), pairs, concurrency)
    return {builder.object_key(obj): obj for items in listed for obj in items}


def _list_kind(api, kind, namespace, unserved):
    try:
        return api.list(kind, namespace)
    except ApiNotServed as error:
        if unserved is None:
            raise
        unserved.add(error.api_version)
        return []


def foreign_owner(obj):
    """Who else controls this object (Flagger, Argo Rollouts), or None."""
    metadata = (obj or {}).get("metadata", {})
    for ref in metadata.get("ownerReferences") or []:
        if ref.get("kind") == "Canary":
            return "Flagger Canary '%s'" % ref.get("name")
    marks = dict(metadata.get("labels") or {}, **(metadata.get("annotations") or {}))
    if ARGO_MARK in marks:
        return "Argo Rollouts (rollout '%s')" % marks[ARGO_MARK]
    return None


def check_ownership(steps, take_ownership):
    """Refuse, before any write, to change or delete objects another controller owns."""
    if take_ownership:
        return []
    problems = []
    for step in steps:
        owner = foreign_owner(step.current)
        if owner:
            problems.append("%s %s/%s is managed by %s; set take_ownership: true to take it over" % (
                step.kind.kind, step.key[1], step.key[2], owner))
    return sorted(set(problems))


def spec_errors(api, steps):
    """Every mismatch with the cluster's schema in the objects this run would write, before any write."""
    errors = {}
    for step in steps:
        if not step.due:
            continue
        where = "%s %s/%s spec" % (step.kind.kind, step.key[1], step.key[2])
        for error in openapi.check(step.desired.get("spec"), api.spec_schema(step.kind), where):
            # A transitional DestinationRule repeats its final form's fields: report them once.
            errors.setdefault(str(error), error)
    return list(errors.values())


def _is_ours(obj):
    labels = obj.get("metadata", {}).get("labels") or {}
    return labels.get(MANAGED_BY_LABEL) == MANAGED_BY and labels.get(OWNER_LABEL) == OWNER


def service_steps(service, current):
    """DestinationRule and VirtualService steps for one service, make-before-break."""
    final_dr = builder.destination_rule(service)
    virtual_service = builder.virtual_service(service)
    dr_key = builder.object_key(final_dr)
    vs_key = builder.object_key(virtual_service)
    current_dr = current.get(dr_key)
    still_routed = builder.subsets_referenced(current.get(vs_key))
    dropped = set(builder.subsets_of(current_dr)) - set(builder.subsets_of(final_dr))
    keep = {name: compare.clean(subset) for name, subset in builder.subsets_of(current_dr).items()
            if name in dropped & still_routed}
    steps = []
    if keep:
        transitional = builder.destination_rule(service, keep_subsets=keep)
        steps.append(Step(1, DESTINATION_RULE, dr_key, transitional, current_dr))
        steps.append(Step(3, DESTINATION_RULE, dr_key, final_dr, current_dr))
    else:
        steps.append(Step(1, DESTINATION_RULE, dr_key, final_dr, current_dr))
    steps.append(Step(2, VIRTUAL_SERVICE, vs_key, virtual_service, current.get(vs_key)))
    return steps


def present_steps(services, mtls_objects, current):
    steps = []
    for service in services:
        steps += service_steps(service, current)
    for obj in mtls_objects:
        key = builder.object_key(obj)
        steps.append(Step(4, PEER_AUTHENTICATION, key, obj, current.get(key)))
    return steps


def delete_steps(keys, current, first_phase):
    """Deletion of existing objects: VirtualServices, then DestinationRules, then mTLS."""
    steps = []
    for offset, kind in enumerate(DELETE_ORDER):
        for key in sorted(keys):
            if key[0] == kind.kind and key in current:
                steps.append(Step(first_phase + offset, kind, key, None, current[key]))
    return steps


def prune_keys(current, declared_keys, namespaces):
    """Objects the traffic modules wrote in the declared namespaces that the inventory no longer declares."""
    return [key for key, obj in current.items()
            if key[1] in namespaces and key not in declared_keys and _is_ours(obj)]


def result_of(step, action, changed, after=None, want_diff=False):
    result = {"kind": step.kind.kind, "namespace": step.key[1], "name": step.key[2],
              "action": action, "changed": changed}
    if want_diff and changed:
        result["diff"] = compare.diff(step.current, after)
    if after is not None:
        result["object"] = compare.clean(after)
    return result


def execute(api, step, check_mode, want_diff):
    """Carry out one step; no request is made in check mode or when nothing would change."""
    if step.desired is None:
        if not check_mode:
            api.delete(step.kind, step.key[1], step.key[2], step.current["metadata"].get("uid"))
        return result_of(step, "delete", True, None, want_diff)
    if not step.due:
        return result_of(step, "unchanged", False, step.current)
    action = "create" if step.current is None else "update"
    if check_mode:
        after = compare.predict(step.current, step.desired, FIELD_MANAGER)
    else:
        after = api.apply(step.kind, step.desired)
    return result_of(step, action, True, after, want_diff)


def run_phases(api, steps, check_mode, want_diff, concurrency):
    """Phases in order, steps of a phase at once; stop at the first phase that fails."""
    results = {}
    for phase in sorted(set(step.phase for step in steps)):
        batch = [step for step in steps if step.phase == phase]
        outcomes = in_pool(lambda s: _safe_execute(api, s, check_mode, want_diff), batch, concurrency)
        failures = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
        for step, outcome in zip(batch, outcomes):
            if not isinstance(outcome, Exception):
                results[step.key] = _combine(results.get(step.key), outcome)
        if failures:
            raise ReconcileError("; ".join(str(f) for f in failures), list(results.values()))
    return list(results.values())


def _safe_execute(api, step, check_mode, want_diff):
    try:
        return execute(api, step, check_mode, want_diff)
    except Exception as error:  # pylint: disable=broad-except
        return error


def _combine(earlier, later):
    """One result per object when it took two steps (a transitional DestinationRule)."""
    if earlier is None:
        return later
    combined = dict(later)
    combined["changed"] = earlier["changed"] or later["changed"]
    if earlier["changed"]:
        combined["action"] = earlier["action"]
        if "diff" in earlier:
            combined["diff"] = {"before": earlier["diff"]["before"],
                                "after": later.get("diff", earlier["diff"])["after"]}
    return combined


def kind_of(key):
    return KINDS[key[0]]
