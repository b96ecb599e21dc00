"""Planning and phased execution of writes, on an in-memory API."""

import pytest

from ansible_collections.difymesh.platform.plugins.module_utils import builder, reconcile
from ansible_collections.difymesh.platform.plugins.module_utils.api import ApiNotServed
from ansible_collections.difymesh.platform.plugins.module_utils.builder import (
    DESTINATION_RULE, PEER_AUTHENTICATION, VIRTUAL_SERVICE)
from ansible_collections.difymesh.platform.plugins.module_utils.reconcile import ReconcileError, Step

VS_KEY = ("VirtualService", "dify", "dify-api-vs")
DR_KEY = ("DestinationRule", "dify", "dify-api-dr")


def current_of(*objects):
    return {builder.object_key(obj): obj for obj in objects}


def canary_owned(obj):
    obj["metadata"]["ownerReferences"] = [{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
                                           "name": "dify-api", "controller": True}]
    return obj


@pytest.mark.parametrize("metadata, owner", [
    ({"ownerReferences": [{"kind": "Canary", "name": "dify-api"}]}, "Flagger Canary 'dify-api'"),
    ({"ownerReferences": [{"kind": "ReplicaSet", "name": "x"}, {"kind": "Canary", "name": "c"}]},
     "Flagger Canary 'c'"),
    ({"labels": {reconcile.ARGO_MARK: "dify-api-rollout"}}, "Argo Rollouts (rollout 'dify-api-rollout')"),
    ({"annotations": {reconcile.ARGO_MARK: "dify-api-rollout"}}, "Argo Rollouts (rollout 'dify-api-rollout')"),
    ({"ownerReferences": [{"kind": "Deployment", "name": "x"}]}, None),
    ({"labels": {"app.kubernetes.io/managed-by": "difymesh"}, "annotations": None}, None),
    ({}, None),
])
def test_foreign_owner(metadata, owner):
    assert reconcile.foreign_owner({"metadata": metadata}) == owner


def test_foreign_owner_of_missing_object():
    assert reconcile.foreign_owner(None) is None


def test_check_ownership_refuses_writing_a_foreign_object(gray_release):
    vs = canary_owned(builder.virtual_service(gray_release))
    problems = reconcile.check_ownership([Step(2, VIRTUAL_SERVICE, VS_KEY, vs, vs)], False)
    assert problems == ["VirtualService dify/dify-api-vs is managed by Flagger Canary 'dify-api'; "
                        "set take_ownership: true to take it over"]


def test_check_ownership_allows_it_with_take_ownership(gray_release):
    vs = canary_owned(builder.virtual_service(gray_release))
    assert reconcile.check_ownership([Step(2, VIRTUAL_SERVICE, VS_KEY, vs, vs)], True) == []


def test_check_ownership_refuses_deleting_a_foreign_object(gray_release):
    vs = canary_owned(builder.virtual_service(gray_release))
    assert len(reconcile.check_ownership([Step(5, VIRTUAL_SERVICE, VS_KEY, None, vs)], False)) == 1


def test_check_ownership_reports_each_object_once(gray_release):
    dr = canary_owned(builder.destination_rule(gray_release))
    steps = [Step(1, DESTINATION_RULE, DR_KEY, dr, dr), Step(3, DESTINATION_RULE, DR_KEY, dr, dr)]
    assert len(reconcile.check_ownership(steps, False)) == 1


def test_check_ownership_ignores_our_own_and_new_objects(gray_release):
    vs = builder.virtual_service(gray_release)
    steps = [Step(2, VIRTUAL_SERVICE, VS_KEY, vs, vs), Step(1, DESTINATION_RULE, DR_KEY, vs, None)]
    assert reconcile.check_ownership(steps, False) == []


def _phases(steps):
    return [(step.phase, step.kind.kind) for step in steps]


def test_new_service_writes_destination_rule_before_virtual_service(gray_release):
    steps = reconcile.service_steps(gray_release, {})
    assert _phases(steps) == [(1, "DestinationRule"), (2, "VirtualService")]
    assert steps[0].desired == builder.destination_rule(gray_release) and steps[0].current is None


def test_new_subset_is_in_the_destination_rule_before_routing(gray_release, server):
    old = dict(gray_release, subsets={"v1": {"version": "v1"}}, weights={"v1": 100}, routes=[])
    current = current_of(server(builder.destination_rule(old)), server(builder.virtual_service(old)))
    dr_step, vs_step = reconcile.service_steps(gray_release, current)
    assert (dr_step.phase, vs_step.phase) == (1, 2)
    assert set(builder.subsets_of(dr_step.desired)) == {"v1", "v2"}
    assert builder.subsets_referenced(vs_step.desired) == {"v1", "v2"}


def test_dropped_subset_still_routed_is_kept_until_after_the_virtual_service(gray_release, server):
    current = current_of(server(builder.destination_rule(gray_release)),
                         server(builder.virtual_service(gray_release)))
    after = dict(gray_release, subsets={"v1": {"version": "v1"}}, weights={"v1": 100}, routes=[])
    steps = reconcile.service_steps(after, current)
    assert _phases(steps) == [(1, "DestinationRule"), (3, "DestinationRule"), (2, "VirtualService")]
    transitional, final, vs = steps
    assert set(builder.subsets_of(transitional.desired)) == {"v1", "v2"}
    assert set(builder.subsets_of(final.desired)) == {"v1"}
    assert builder.subsets_referenced(vs.desired) == {"v1"}


def test_transitional_destination_rule_keeps_the_old_subset_definition(gray_release, server):
    old_dr = server(builder.destination_rule(gray_release))
    current = current_of(old_dr, server(builder.virtual_service(gray_release)))
    after = dict(gray_release, subsets={"v1": {"version": "v1"}}, weights={"v1": 100}, routes=[])
    kept = builder.subsets_of(reconcile.service_steps(after, current)[0].desired)["v2"]
    assert kept == builder.subsets_of(old_dr)["v2"]


def test_dropped_subset_no_longer_routed_goes_in_one_step(gray_release, server):
    routed_to_v1_only = dict(gray_release, weights={"v1": 100}, routes=[])
    current = current_of(server(builder.destination_rule(gray_release)),
                         server(builder.virtual_service(routed_to_v1_only)))
    after = dict(gray_release, subsets={"v1": {"version": "v1"}}, weights={"v1": 100}, routes=[])
    steps = reconcile.service_steps(after, current)
    assert _phases(steps) == [(1, "DestinationRule"), (2, "VirtualService")]
    assert set(builder.subsets_of(steps[0].desired)) == {"v1"}


def test_present_steps_put_peer_authentications_in_phase_4(gray_release, strict_mtls):
    steps = reconcile.present_steps([gray_release], builder.mtls_objects(strict_mtls), {})
    assert [s.phase for s in steps if s.kind is PEER_AUTHENTICATION] == [4, 4, 4]


def test_delete_steps_order_virtual_service_then_destination_rule_then_peer_authentication(
        gray_release, server):
    pa = builder.peer_authentication("default", "dify", "STRICT")
    objects = [builder.virtual_service(gray_release), builder.destination_rule(gray_release), pa]
    current = current_of(*[server(o) for o in objects])
    keys = [builder.object_key(o) for o in reversed(objects)]
    steps = reconcile.delete_steps(keys, current, 5)
    assert [(s.phase, s.kind.kind) for s in steps] == [
        (5, "VirtualService"), (6, "DestinationRule"), (7, "PeerAuthentication")]
    assert all(s.desired is None and s.current is current[s.key] for s in steps)


def test_delete_steps_skip_objects_that_do_not_exist():
    keys = [VS_KEY, DR_KEY]
    assert reconcile.delete_steps(keys, {}, 1) == []


def test_prune_keys_only_our_labelled_undeclared_objects_in_declared_namespaces(server):
    ours_stale = builder.peer_authentication("old", "dify", "STRICT")
    ours_declared = builder.peer_authentication("default", "dify", "STRICT")
    ours_elsewhere = builder.peer_authentication("old", "other", "STRICT")
    hand_made = builder.peer_authentication("manual", "dify", "STRICT")
    hand_made["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "Helm"}
    unlabelled = builder.peer_authentication("bare", "dify", "STRICT")
    del unlabelled["metadata"]["labels"]
    role_made = builder.peer_authentication("from-a-role", "dify", "STRICT")
    del role_made["metadata"]["labels"]["difymesh.io/owner"]
    objects = (ours_stale, ours_declared, ours_elsewhere, hand_made, unlabelled, role_made)
    current = current_of(*[server(o) for o in objects])
    stale = reconcile.prune_keys(current, {builder.object_key(ours_declared)}, {"dify"})
    assert stale == [("PeerAuthentication", "dify", "old")]


def test_execute_creates_a_missing_object(fake_api, gray_release):
    vs = builder.virtual_service(gray_release)
    result = reconcile.execute(fake_api, Step(2, VIRTUAL_SERVICE, VS_KEY, vs, None), False, False)
    assert fake_api.writes == [("apply", "VirtualService", "dify", "dify-api-vs")]
    assert result["action"] == "create" and result["changed"] is True
    assert result["object"]["spec"] == vs["spec"] and "managedFields" not in result["object"]["metadata"]


def test_execute_makes_no_call_for_an_unchanged_object(fake_api, gray_release, server):
    vs = builder.virtual_service(gray_release)
    result = reconcile.execute(fake_api, Step(2, VIRTUAL_SERVICE, VS_KEY, vs, server(vs)), False, True)
    assert fake_api.calls == []
    assert result == {"kind": "VirtualService", "namespace": "dify", "name": "dify-api-vs",
                      "action": "unchanged", "changed": False, "object": vs}


def test_execute_update_in_check_mode_predicts_without_calls(fake_api, gray_release, server):
    current = server(builder.virtual_service(gray_release))
    desired = builder.virtual_service(dict(gray_release, weights={"v1": 50, "v2": 50}))
    result = reconcile.execute(fake_api, Step(2, VIRTUAL_SERVICE, VS_KEY, desired, current), True, True)
    assert fake_api.calls == []
    assert result["action"] == "update" and result["object"] == desired
    assert result["diff"]["after"] == desired and result["diff"]["before"]["spec"] == current["spec"]


def test_execute_delete_sends_the_uid_precondition(fake_api, gray_release, server):
    current = server(builder.virtual_service(gray_release), uid="uid-77")
    result = reconcile.execute(fake_api, Step(5, VIRTUAL_SERVICE, VS_KEY, None, current), False, True)
    assert fake_api.writes == [("delete", "VirtualService", "dify", "dify-api-vs", "uid-77")]
    assert result["action"] == "delete" and result["diff"]["after"] == {} and "object" not in result


def test_execute_delete_in_check_mode_makes_no_call(fake_api, gray_release, server):
    current = server(builder.virtual_service(gray_release))
    result = reconcile.execute(fake_api, Step(5, VIRTUAL_SERVICE, VS_KEY, None, current), True, False)
    assert fake_api.calls == [] and result["changed"] is True and "diff" not in result


def _dropping_v2(gray_release, fake_api):
    fake_api.seed(builder.destination_rule(gray_release))
    fake_api.seed(builder.virtual_service(gray_release))
    after = dict(gray_release, subsets={"v1": {"version": "v1"}}, weights={"v1": 100}, routes=[])
    current = reconcile.read_current(fake_api, reconcile.DELETE_ORDER, {"dify"}, 1)
    fake_api.calls = []
    return reconcile.service_steps(after, current)


def test_run_phases_writes_in_phase_order(fake_api, gray_release):
    reconcile.run_phases(fake_api, _dropping_v2(gray_release, fake_api), False, False, 4)
    assert [call[1] for call in fake_api.writes] == ["DestinationRule", "VirtualService", "DestinationRule"]


def test_run_phases_ends_with_the_final_destination_rule(fake_api, gray_release):
    reconcile.run_phases(fake_api, _dropping_v2(gray_release, fake_api), False, False, 4)
    assert set(builder.subsets_of(fake_api.objects[DR_KEY])) == {"v1"}


def test_run_phases_gives_one_result_per_object(fake_api, gray_release):
    results = reconcile.run_phases(fake_api, _dropping_v2(gray_release, fake_api), False, True, 4)
    by_kind = {r["kind"]: r for r in results}
    assert len(results) == 2 and by_kind["DestinationRule"]["action"] == "update"
    assert set(builder.subsets_of(by_kind["DestinationRule"]["diff"]["before"])) == {"v1", "v2"}
    assert set(builder.subsets_of(by_kind["DestinationRule"]["diff"]["after"])) == {"v1"}


def test_run_phases_in_check_mode_makes_no_write(fake_api, gray_release):
    results = reconcile.run_phases(fake_api, _dropping_v2(gray_release, fake_api), True, True, 4)
    assert fake_api.calls == []
    assert [r["action"] for r in results] == ["update", "update"]


def test_run_phases_with_nothing_to_change_makes_no_call(fake_api, gray_release):
    fake_api.seed(builder.destination_rule(gray_release))
    fake_api.seed(builder.virtual_service(gray_release))
    current = reconcile.read_current(fake_api, reconcile.DELETE_ORDER, {"dify"}, 1)
    fake_api.calls = []
    results = reconcile.run_phases(fake_api, reconcile.service_steps(gray_release, current), False, False, 4)
    assert fake_api.calls == [] and [r["action"] for r in results] == ["unchanged", "unchanged"]


def test_failed_phase_stops_later_phases_with_partial_results(fake_api, gray_release, plain_service):
    stale = fake_api.seed(builder.peer_authentication("old", "dify", "STRICT"))
    stale_key = builder.object_key(stale)
    fake_api.fail("apply", "dify-api-vs")
    steps = reconcile.present_steps([gray_release, plain_service], [], {})
    steps += reconcile.delete_steps([stale_key], {stale_key: stale}, 5)
    with pytest.raises(ReconcileError) as caught:
        reconcile.run_phases(fake_api, steps, False, False, 4)
    assert "apply dify-api-vs refused" in str(caught.value)
    assert sorted((r["kind"], r["name"]) for r in caught.value.results) == [
        ("DestinationRule", "dify-api-dr"), ("DestinationRule", "dify-web-dr"), ("VirtualService", "dify-web-vs")]
    assert stale_key in fake_api.objects
    assert not [call for call in fake_api.calls if call[0] == "delete"]


def test_later_phases_run_when_earlier_ones_succeed(fake_api, gray_release):
    stale = fake_api.seed(builder.peer_authentication("old", "dify", "STRICT"))
    stale_key = builder.object_key(stale)
    steps = reconcile.service_steps(gray_release, {}) + reconcile.delete_steps([stale_key], {stale_key: stale}, 5)
    reconcile.run_phases(fake_api, steps, False, False, 4)
    assert fake_api.writes[-1] == ("delete", "PeerAuthentication", "dify", "old", "seed-old")
    assert stale_key not in fake_api.objects


def test_failure_in_phase_1_writes_no_virtual_service(fake_api, gray_release):
    fake_api.fail("apply", "dify-api-dr")
    with pytest.raises(ReconcileError) as caught:
        reconcile.run_phases(fake_api, reconcile.service_steps(gray_release, {}), False, False, 1)
    assert fake_api.writes == [("apply", "DestinationRule", "dify", "dify-api-dr")]
    assert caught.value.results == []


def test_every_failure_of_a_phase_is_reported(fake_api, gray_release, plain_service):
    fake_api.fail("apply", "dify-api-dr")
    fake_api.fail("apply", "dify-web-dr")
    steps = reconcile.present_steps([gray_release, plain_service], [], {})
    with pytest.raises(ReconcileError, match="apply dify-api-dr refused; apply dify-web-dr refused"):
        reconcile.run_phases(fake_api, steps, False, False, 1)


def test_read_current_lists_each_kind_in_each_namespace_once(fake_api, gray_release):
    fake_api.seed(builder.virtual_service(gray_release))
    current = reconcile.read_current(fake_api, reconcile.DELETE_ORDER, {"dify", "istio-system"}, 3)
    assert sorted(fake_api.calls) == sorted(
        ("list", kind.kind, ns) for kind in reconcile.DELETE_ORDER for ns in ("dify", "istio-system"))
    assert list(current) == [VS_KEY]


def test_read_current_collects_unserved_api_versions_when_asked(fake_api, gray_release):
    fake_api.seed(builder.virtual_service(gray_release))
    fake_api.unserved.add("security.istio.io/v1")
    unserved = set()
    current = reconcile.read_current(fake_api, reconcile.DELETE_ORDER, {"dify"}, 2, unserved)
    assert unserved == {"security.istio.io/v1"} and list(current) == [VS_KEY]
    with pytest.raises(ApiNotServed):
        reconcile.read_current(fake_api, reconcile.DELETE_ORDER, {"dify"}, 2)


def test_in_pool_keeps_order():
    assert reconcile.in_pool(lambda x: x * 2, range(10), 4) == list(range(0, 20, 2))


def result(action, changed, diff=None):
    entry = {"kind": "DestinationRule", "namespace": "dify", "name": "dify-api-dr",
             "action": action, "changed": changed}
    if diff:
        entry["diff"] = diff
    return entry


@pytest.mark.parametrize("earlier, later, expected", [
    (None, result("update", True), result("update", True)),
    (result("unchanged", False), result("update", True, {"before": 1, "after": 2}),
     result("update", True, {"before": 1, "after": 2})),
    (result("update", True, {"before": "old", "after": "mid"}),
     result("update", True, {"before": "mid", "after": "new"}),
     result("update", True, {"before": "old", "after": "new"})),
    (result("create", True, {"before": {}, "after": "mid"}), result("unchanged", False),
     result("create", True, {"before": {}, "after": "mid"})),
    (result("unchanged", False), result("unchanged", False), result("unchanged", False)),
])
def test_combine(earlier, later, expected):
    assert reconcile._combine(earlier, later) == expected


def test_kind_of_key():
    assert reconcile.kind_of(DR_KEY) is DESTINATION_RULE
