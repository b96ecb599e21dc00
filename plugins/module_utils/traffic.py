# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bulk reconcile behind mesh_traffic and the mesh_policy role, and the single-object one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from ansible_collections.difymesh.platform.plugins.module_utils import builder, reconcile, schema
from ansible_collections.difymesh.platform.plugins.module_utils.reconcile import ReconcileError


def normalise_weights(services):
    """Accept weights written as strings of digits (AWX surveys send strings)."""
    for service in services if isinstance(services, list) else []:
        if not isinstance(service, dict):
            continue
        for holder in [service] + [r for r in service.get("routes") or [] if isinstance(r, dict)]:
            weights = holder.get("weights")
            if isinstance(weights, dict):
                holder["weights"] = {k: int(v) if isinstance(v, str) and v.isdigit() else v
                                     for k, v in weights.items()}
    return services


def declared_namespaces(services, mtls_objects, extra):
    namespaces = set(extra or [])
    namespaces.update(service["namespace"] for service in services)
    namespaces.update(obj["metadata"]["namespace"] for obj in mtls_objects)
    return namespaces


def check_namespaces(api, steps, concurrency=1):
    """Namespaces that would receive a new object must exist: checked before any write."""
    wanted = sorted(set(step.key[1] for step in steps if step.current is None and step.desired))
    exists = reconcile.in_pool(api.namespace_exists, wanted, concurrency)
    return ["namespace '%s' does not exist; create it first (the dify role does) or fix the "
            "namespace of the entries that use it" % ns for ns, found in zip(wanted, exists) if not found]


def bulk_steps(params, services, mtls_objects, current, namespaces):
    if params["state"] == "absent":
        keys = [builder.object_key(builder.virtual_service(s)) for s in services]
        keys += [builder.object_key(builder.destination_rule(s)) for s in services]
        keys += [builder.object_key(obj) for obj in mtls_objects]
        return reconcile.delete_steps(keys, current, 1)
    steps = reconcile.present_steps(services, mtls_objects, current)
    if params["prune"]:
        declared = set(step.key for step in steps)
        stale = reconcile.prune_keys(current, declared, namespaces)
        steps += reconcile.delete_steps(stale, current, 5)
    return steps


# Summary keys are past participles: "update" would clash with dict.update in Jinja.
SUMMARY_KEYS = {"create": "created", "update": "updated", "delete": "deleted", "unchanged": "unchanged"}


def summarise(results):
    counts = collections.Counter(result["action"] for result in results)
    return dict((key, counts.get(action, 0)) for action, key in SUMMARY_KEYS.items())


def outcome(results, want_diff):
    """Module result: changed, per-object results, counts and Ansible's list of diffs."""
    result = {"changed": any(r["changed"] for r in results), "summary": summarise(results),
              "objects": [dict((k, v) for k, v in r.items() if k not in ("object", "diff"))
                          for r in results]}
    if want_diff:
        result["diff"] = [dict(r["diff"], before_header="%s %s/%s" % (r["kind"], r["namespace"], r["name"]),
                               after_header="%s %s/%s" % (r["kind"], r["namespace"], r["name"]))
                          for r in results if "diff" in r]
    return result


def refuse_unsafe(api, steps, take_ownership, concurrency=1, check_mode=False):
    """Fields the cluster's schema rejects, foreign-owned objects and missing namespaces stop the run
    before any write.

    In check mode a missing namespace is a warning: the preview of a first install runs before
    the tasks that create the namespaces, and the real run still refuses."""
    errors = reconcile.spec_errors(api, steps)
    if errors:
        raise ReconcileError(schema.describe(errors))
    missing = check_namespaces(api, steps, concurrency)
    if check_mode:
        for problem in missing:
            api.warn("check mode: %s; the objects are previewed as created, and the real run refuses "
                     "until the namespace exists" % problem)
        missing = []
    problems = reconcile.check_ownership(steps, take_ownership) + missing
    if problems:
        raise ReconcileError("nothing was changed: " + "; ".join(problems))


def read_declared(api, kinds, namespaces, concurrency, check_mode, removing):
    """The current objects. A kind the cluster does not serve reads as empty where that is safe:
    when removing (no object of it can exist) and in check mode (a warning: the preview of a first
    install runs before the CRDs are installed)."""
    unserved = set() if check_mode or removing else None
    current = reconcile.read_current(api, kinds, namespaces, concurrency, unserved)
    if check_mode and not removing:
        for api_version in sorted(unserved):
            api.warn("check mode: the cluster does not serve %s yet (the Istio CRDs are not installed), so "
                     "its objects are previewed as created; the real run needs the CRDs first" % api_version)
    return current


def mesh_traffic(api, params, check_mode, want_diff):
    """Validate the whole inventory, read the cluster once, then reconcile it."""
    services = normalise_weights(params["services"])
    errors = schema.validate(services, params["mtls"])
    if errors:
        raise ReconcileError(schema.describe(errors))
    mtls_objects = builder.mtls_objects(params["mtls"], params["istio_namespace"])
    namespaces = declared_namespaces(services, mtls_objects, params.get("namespaces"))
    current = read_declared(api, reconcile.DELETE_ORDER, namespaces, params["concurrency"], check_mode,
                            params["state"] == "absent")
    steps = bulk_steps(params, services, mtls_objects, current, namespaces)
    refuse_unsafe(api, steps, params["take_ownership"], params["concurrency"], check_mode)
    results = reconcile.run_phases(api, steps, check_mode, want_diff, params["concurrency"])
    return outcome(results, want_diff)


def single_object(api, desired, params, check_mode, want_diff):
    """Reconcile one object (the virtual_service, destination_rule and peer_authentication modules)."""
    key = builder.object_key(desired)
    kind = reconcile.kind_of(key)
    current = api.get(kind, key[1], key[2])
    if current is not None:
        current = dict(current, apiVersion=kind.api_version, kind=kind.kind)
    if params["state"] == "absent":
        steps = reconcile.delete_steps([key], {key: current} if current else {}, 1)
    else:
        steps = [reconcile.Step(1, kind, key, desired, current)]
    refuse_unsafe(api, steps, params["take_ownership"], check_mode=check_mode)
    results = reconcile.run_phases(api, steps, check_mode, want_diff, 1)
    only = results[0] if results else {"action": "absent", "changed": False}
    single = {"changed": only["changed"], "action": only["action"], "result": only.get("object", {})}
    if "diff" in only:
        single["diff"] = only["diff"]
    return single
