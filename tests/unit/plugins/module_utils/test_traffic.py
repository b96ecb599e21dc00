"""The bulk reconcile behind mesh_traffic, end to end on an in-memory API."""

import copy

import pytest

from ansible_collections.difymesh.platform.plugins.module_utils import builder, traffic
from ansible_collections.difymesh.platform.plugins.module_utils.api import ApiNotServed
from ansible_collections.difymesh.platform.plugins.module_utils.reconcile import ReconcileError

VS_KEY = ("VirtualService", "dify", "dify-api-vs")
DR_KEY = ("DestinationRule", "dify", "dify-api-dr")


def make_params(services, mtls=None, **changes):
    params = {"services": services, "mtls": mtls or {}, "state": "present", "prune": False,
              "namespaces": [], "istio_namespace": "istio-system", "concurrency": 4, "take_ownership": False}
    params.update(changes)
    return params


@pytest.mark.parametrize("services, expected", [
    ([{"weights": {"v1": "90", "v2": "10"}}], [{"weights": {"v1": 90, "v2": 10}}]),
    ([{"routes": [{"weights": {"v2": "100"}}]}], [{"routes": [{"weights": {"v2": 100}}]}]),
    ([{"weights": {"v1": "ninety", "v2": 10}}], [{"weights": {"v1": "ninety", "v2": 10}}]),
    ([{"weights": {"v1": "-5"}}], [{"weights": {"v1": "-5"}}]),
    ([{"weights": "90/10"}], [{"weights": "90/10"}]),
    ([{"routes": ["not-a-route", {"weights": {"a": "1"}}]}], [{"routes": ["not-a-route", {"weights": {"a": 1}}]}]),
    (["not-a-service", {}], ["not-a-service", {}]),
])
def test_normalise_weights(services, expected):
    assert traffic.normalise_weights(services) == expected


@pytest.mark.parametrize("services", [None, "x", {"a": 1}])
def test_normalise_weights_leaves_non_lists_alone(services):
    assert traffic.normalise_weights(services) == services


def _result(action, changed, **extra):
    return dict({"kind": "VirtualService", "namespace": "dify", "name": "a-vs", "action": action,
                 "changed": changed}, **extra)


def test_summarise_counts_every_action():
    results = [_result("create", True), _result("create", True), _result("unchanged", False),
               _result("delete", True)]
    assert traffic.summarise(results) == {"created": 2, "updated": 0, "deleted": 1, "unchanged": 1}


def test_outcome_is_unchanged_when_nothing_changed():
    result = traffic.outcome([_result("unchanged", False, object={"x": 1})], False)
    assert result == {"changed": False, "summary": {"created": 0, "updated": 0, "deleted": 0, "unchanged": 1},
                      "objects": [_result("unchanged", False)]}


def test_outcome_strips_objects_and_collects_diffs_with_headers():
    diff = {"before": {}, "after": {"spec": 1}}
    result = traffic.outcome([_result("create", True, object={"spec": 1}, diff=diff),
                              _result("unchanged", False, object={})], True)
    assert result["changed"] is True
    assert all("object" not in o and "diff" not in o for o in result["objects"])
    assert result["diff"] == [{"before": {}, "after": {"spec": 1}, "before_header": "VirtualService dify/a-vs",
                               "after_header": "VirtualService dify/a-vs"}]


def test_outcome_of_no_results():
    assert traffic.outcome([], True) == {"changed": False, "objects": [], "diff": [],
                                         "summary": {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0}}


def test_declared_namespaces_gather_services_mtls_and_extras(gray_release, strict_mtls):
    namespaces = traffic.declared_namespaces([gray_release], builder.mtls_objects(strict_mtls), ["retired"])
    assert namespaces == {"dify", "istio-system", "legacy", "retired"}


def test_check_namespaces_only_for_new_objects(fake_api, gray_release, server):
    existing = server(builder.virtual_service(dict(gray_release, namespace="gone")))
    steps = traffic.bulk_steps(make_params([]), [dict(gray_release, namespace="new")], [],
                               {builder.object_key(existing): existing}, set())
    steps += traffic.bulk_steps(make_params([]), [dict(gray_release, namespace="gone")], [],
                                {builder.object_key(existing): existing}, set())
    problems = traffic.check_namespaces(fake_api, steps)
    assert problems == [
        "namespace 'gone' does not exist; create it first (the dify role does) or fix the namespace of the "
        "entries that use it",
        "namespace 'new' does not exist; create it first (the dify role does) or fix the namespace of the "
        "entries that use it"]


def _keys(steps):
    return [(step.phase, step.key, step.desired is None) for step in steps]


def test_bulk_steps_present(gray_release, strict_mtls):
    steps = traffic.bulk_steps(make_params([]), [gray_release], builder.mtls_objects(strict_mtls), {}, {"dify"})
    assert [(phase, key[0]) for phase, key, _name in _keys(steps)] == [
        (1, "DestinationRule"), (2, "VirtualService"),
        (4, "PeerAuthentication"), (4, "PeerAuthentication"), (4, "PeerAuthentication")]


def test_bulk_steps_prune_deletes_only_stale_objects_after_everything_else(gray_release, plain_service, server):
    stale = [builder.destination_rule(plain_service), builder.virtual_service(plain_service)]
    kept = [builder.destination_rule(gray_release), builder.virtual_service(gray_release)]
    current = {builder.object_key(o): server(o) for o in stale + kept}
    steps = traffic.bulk_steps(make_params([], prune=True), [gray_release], [], current, {"dify"})
    assert _keys(steps)[2:] == [(5, ("VirtualService", "dify", "dify-web-vs"), True),
                                (6, ("DestinationRule", "dify", "dify-web-dr"), True)]


def test_bulk_steps_without_prune_never_delete(gray_release, plain_service, server):
    current = {builder.object_key(o): server(o) for o in [builder.virtual_service(plain_service)]}
    steps = traffic.bulk_steps(make_params([]), [gray_release], [], current, {"dify"})
    assert all(step.desired is not None for step in steps)


def test_bulk_steps_absent_deletes_what_exists_in_safe_order(gray_release, strict_mtls, server):
    mtls_objects = builder.mtls_objects(strict_mtls)
    existing = [builder.destination_rule(gray_release), builder.virtual_service(gray_release), mtls_objects[0]]
    current = {builder.object_key(o): server(o) for o in existing}
    steps = traffic.bulk_steps(make_params([], state="absent"), [gray_release], mtls_objects, current, set())
    assert _keys(steps) == [(1, VS_KEY, True), (2, DR_KEY, True),
                            (3, ("PeerAuthentication", "istio-system", "default"), True)]


def test_validation_errors_stop_before_any_api_call(fake_api, gray_release):
    gray_release["weights"] = {"v1": 90, "v3": 20}
    with pytest.raises(ReconcileError) as caught:
        traffic.mesh_traffic(fake_api, make_params([gray_release], {"mesh": "OFF"}), False, False)
    assert fake_api.calls == []
    message = str(caught.value)
    assert message.startswith("2 problem(s) in the inventory; nothing was changed:")
    assert "services[0] (dify-api).weights.v3: subset 'v3' is not defined" in message
    assert "mtls.mesh: mode 'OFF'" in message
    assert caught.value.results == []


def test_tls_disabled_toward_strict_stops_before_any_api_call(fake_api, gray_release):
    gray_release["traffic_policy"] = {"tls": {"mode": "DISABLE"}}
    with pytest.raises(ReconcileError, match="KIA0207"):
        traffic.mesh_traffic(fake_api, make_params([gray_release], {"mesh": "STRICT"}), False, False)
    assert fake_api.calls == []


def test_missing_namespace_is_refused_before_any_write(fake_api, gray_release, plain_service):
    services = [gray_release, dict(plain_service, namespace="dify-staging")]
    with pytest.raises(ReconcileError, match="nothing was changed: namespace 'dify-staging' does not exist"):
        traffic.mesh_traffic(fake_api, make_params(services), False, False)
    assert fake_api.writes == []


def test_check_mode_previews_into_a_missing_namespace_with_a_warning(fake_api, gray_release, plain_service):
    services = [gray_release, dict(plain_service, namespace="dify-staging")]
    result = traffic.mesh_traffic(fake_api, make_params(services), True, False)
    assert fake_api.writes == []
    assert result["summary"]["created"] == 4
    assert len(fake_api.warnings) == 1
    assert "check mode: namespace 'dify-staging' does not exist" in fake_api.warnings[0]
    assert "the real run refuses" in fake_api.warnings[0]


def test_check_mode_previews_kinds_the_cluster_does_not_serve_yet(fake_api, gray_release, strict_mtls):
    fake_api.namespaces.add("legacy")
    fake_api.unserved.update(["networking.istio.io/v1", "security.istio.io/v1"])
    result = traffic.mesh_traffic(fake_api, make_params([gray_release], strict_mtls), True, True)
    assert fake_api.writes == []
    assert result["summary"] == {"created": 5, "updated": 0, "deleted": 0, "unchanged": 0}
    assert [w.split(" yet")[0] for w in fake_api.warnings] == [
        "check mode: the cluster does not serve networking.istio.io/v1",
        "check mode: the cluster does not serve security.istio.io/v1"]


def test_a_kind_the_cluster_does_not_serve_fails_a_real_run(fake_api, gray_release):
    fake_api.unserved.add("networking.istio.io/v1")
    with pytest.raises(ApiNotServed, match="are the Istio CRDs installed"):
        traffic.mesh_traffic(fake_api, make_params([gray_release]), False, False)
    assert fake_api.writes == [] and fake_api.warnings == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_removal_from_a_cluster_without_the_crds_changes_nothing(fake_api, gray_release, check_mode):
    fake_api.unserved.update(["networking.istio.io/v1", "security.istio.io/v1"])
    result = traffic.mesh_traffic(fake_api, make_params([gray_release], {"mesh": "STRICT"}, state="absent"),
                                  check_mode, False)
    assert result["changed"] is False and fake_api.writes == [] and fake_api.warnings == []


def test_first_run_creates_everything(fake_api, gray_release, strict_mtls):
    fake_api.namespaces.add("legacy")
    result = traffic.mesh_traffic(fake_api, make_params([gray_release], strict_mtls), False, False)
    assert result["changed"] is True
    assert result["summary"] == {"created": 5, "updated": 0, "deleted": 0, "unchanged": 0}
    assert len(fake_api.writes) == 5 and len(fake_api.objects) == 5


def test_second_run_is_a_true_no_op(fake_api, gray_release, strict_mtls):
    fake_api.namespaces.add("legacy")
    params = make_params([gray_release], strict_mtls)
    traffic.mesh_traffic(fake_api, copy.deepcopy(params), False, False)
    fake_api.calls = []
    result = traffic.mesh_traffic(fake_api, params, False, True)
    assert fake_api.writes == []
    assert result["changed"] is False and result["diff"] == []
    assert result["summary"] == {"created": 0, "updated": 0, "deleted": 0, "unchanged": 5}


def test_string_weights_are_written_as_integers(fake_api, gray_release):
    gray_release["weights"] = {"v1": "90", "v2": "10"}
    traffic.mesh_traffic(fake_api, make_params([gray_release]), False, False)
    default = fake_api.objects[VS_KEY]["spec"]["http"][-1]
    assert [d["weight"] for d in default["route"]] == [90, 10]


def test_check_mode_reports_changes_but_writes_nothing(fake_api, gray_release):
    result = traffic.mesh_traffic(fake_api, make_params([gray_release]), True, True)
    assert fake_api.writes == [] and fake_api.objects == {}
    assert result["summary"]["created"] == 2
    assert [d["after_header"] for d in result["diff"]] == ["DestinationRule dify/dify-api-dr",
                                                           "VirtualService dify/dify-api-vs"]


def test_weight_change_updates_only_the_virtual_service(fake_api, gray_release):
    traffic.mesh_traffic(fake_api, make_params([copy.deepcopy(gray_release)]), False, False)
    fake_api.calls = []
    gray_release["weights"] = {"v1": 50, "v2": 50}
    result = traffic.mesh_traffic(fake_api, make_params([gray_release]), False, False)
    assert fake_api.writes == [("apply", "VirtualService", "dify", "dify-api-vs")]
    assert result["summary"] == {"created": 0, "updated": 1, "deleted": 0, "unchanged": 1}


def test_dropping_a_routed_subset_is_make_before_break(fake_api, gray_release):
    traffic.mesh_traffic(fake_api, make_params([copy.deepcopy(gray_release)]), False, False)
    fake_api.calls = []
    after = dict(gray_release, subsets={"v1": {"version": "v1"}}, weights={"v1": 100}, routes=[])
    result = traffic.mesh_traffic(fake_api, make_params([after]), False, False)
    assert [w[1] for w in fake_api.writes] == ["DestinationRule", "VirtualService", "DestinationRule"]
    assert set(builder.subsets_of(fake_api.objects[DR_KEY])) == {"v1"}
    assert result["summary"]["updated"] == 2


def test_foreign_owned_object_is_refused_before_any_write(fake_api, gray_release):
    vs = fake_api.seed(builder.virtual_service(gray_release))
    vs["metadata"]["labels"]["argo-rollouts.argoproj.io/managed-by-rollouts"] = "dify-api"
    gray_release["weights"] = {"v1": 0, "v2": 100}
    with pytest.raises(ReconcileError, match="managed by Argo Rollouts .rollout 'dify-api'."):
        traffic.mesh_traffic(fake_api, make_params([gray_release]), False, False)
    assert fake_api.writes == []


def test_take_ownership_writes_a_foreign_owned_object(fake_api, gray_release):
    vs = fake_api.seed(builder.virtual_service(gray_release))
    vs["metadata"]["ownerReferences"] = [{"kind": "Canary", "name": "dify-api"}]
    gray_release["weights"] = {"v1": 0, "v2": 100}
    traffic.mesh_traffic(fake_api, make_params([gray_release], take_ownership=True), False, False)
    assert ("apply", "VirtualService", "dify", "dify-api-vs") in fake_api.writes


def test_prune_deletes_our_stale_objects_virtual_service_first(fake_api, gray_release, plain_service):
    for obj in (builder.destination_rule(plain_service), builder.virtual_service(plain_service)):
        fake_api.seed(obj)
    result = traffic.mesh_traffic(fake_api, make_params([gray_release], prune=True), False, False)
    deletes = [w for w in fake_api.writes if w[0] == "delete"]
    assert [d[1:4] for d in deletes] == [("VirtualService", "dify", "dify-web-vs"),
                                         ("DestinationRule", "dify", "dify-web-dr")]
    assert result["summary"] == {"created": 2, "updated": 0, "deleted": 2, "unchanged": 0}


def test_prune_leaves_unlabelled_and_undeclared_namespace_objects(fake_api, gray_release, plain_service):
    fake_api.namespaces.add("other")
    hand_made = builder.virtual_service(plain_service)
    hand_made["metadata"]["labels"] = {}
    fake_api.seed(hand_made)
    fake_api.seed(builder.virtual_service(dict(plain_service, namespace="other")))
    traffic.mesh_traffic(fake_api, make_params([gray_release], prune=True), False, False)
    assert [w for w in fake_api.writes if w[0] == "delete"] == []


def test_prune_reaches_extra_namespaces(fake_api, gray_release, plain_service):
    fake_api.namespaces.add("retired")
    fake_api.seed(builder.virtual_service(dict(plain_service, namespace="retired")))
    traffic.mesh_traffic(fake_api, make_params([gray_release], prune=True, namespaces=["retired"]), False, False)
    assert ("VirtualService", "retired", "dify-web-vs") not in fake_api.objects


def test_absent_deletes_declared_objects(fake_api, gray_release):
    traffic.mesh_traffic(fake_api, make_params([copy.deepcopy(gray_release)], {"mesh": "STRICT"}), False, False)
    fake_api.calls = []
    result = traffic.mesh_traffic(fake_api, make_params([gray_release], {"mesh": "STRICT"}, state="absent"),
                                  False, False)
    assert [w[1] for w in fake_api.writes] == ["VirtualService", "DestinationRule", "PeerAuthentication"]
    assert fake_api.objects == {} and result["summary"]["deleted"] == 3


def test_absent_when_nothing_exists_changes_nothing(fake_api, gray_release):
    result = traffic.mesh_traffic(fake_api, make_params([gray_release], state="absent"), False, False)
    assert fake_api.writes == [] and result["changed"] is False


def test_failure_reports_what_was_done(fake_api, gray_release):
    fake_api.fail("apply", "dify-api-vs")
    with pytest.raises(ReconcileError) as caught:
        traffic.mesh_traffic(fake_api, make_params([gray_release]), False, False)
    assert [(r["kind"], r["action"]) for r in caught.value.results] == [("DestinationRule", "create")]


def test_single_object_create_then_unchanged(fake_api, gray_release):
    desired = builder.virtual_service(gray_release)
    params = {"state": "present", "take_ownership": False}
    created = traffic.single_object(fake_api, desired, params, False, False)
    again = traffic.single_object(fake_api, desired, params, False, False)
    assert (created["action"], created["changed"]) == ("create", True)
    assert (again["action"], again["changed"]) == ("unchanged", False)
    assert again["result"]["spec"] == desired["spec"]


@pytest.mark.parametrize("check_mode", [False, True])
def test_single_object_into_a_missing_namespace(fake_api, gray_release, check_mode):
    desired = builder.virtual_service(dict(gray_release, namespace="dify-staging"))
    params = {"state": "present", "take_ownership": False}
    if not check_mode:
        with pytest.raises(ReconcileError, match="namespace 'dify-staging' does not exist"):
            traffic.single_object(fake_api, desired, params, False, False)
    else:
        result = traffic.single_object(fake_api, desired, params, True, False)
        assert (result["action"], result["changed"]) == ("create", True)
        assert fake_api.warnings and fake_api.warnings[0].startswith("check mode: namespace 'dify-staging'")
    assert fake_api.writes == []


def test_single_object_absent_when_already_gone(fake_api, gray_release):
    desired = builder.virtual_service(gray_release)
    result = traffic.single_object(fake_api, desired, {"state": "absent", "take_ownership": False}, False, False)
    assert result == {"changed": False, "action": "absent", "result": {}}
    assert fake_api.writes == []


def test_single_object_absent_deletes_existing(fake_api, gray_release):
    desired = builder.virtual_service(gray_release)
    fake_api.seed(desired)
    result = traffic.single_object(fake_api, desired, {"state": "absent", "take_ownership": False}, False, True)
    assert result["action"] == "delete" and result["diff"]["after"] == {}
    assert fake_api.writes == [("delete", "VirtualService", "dify", "dify-api-vs", "seed-dify-api-vs")]


LOAD_BALANCER_SCHEMA = {"type": "object", "properties": {
    "host": {"type": "string"}, "subsets": {"type": "array"},
    "trafficPolicy": {"type": "object", "properties": {
        "loadBalancer": {"type": "object", "properties": {"simple": {"type": "string"}}}}}}}


@pytest.mark.parametrize("check_mode", [False, True])
def test_fields_the_served_schema_rejects_stop_the_run_before_any_write(fake_api, gray_release, plain_service,
                                                                        check_mode):
    fake_api.schemas["DestinationRule"] = LOAD_BALANCER_SCHEMA
    typo = dict(plain_service, traffic_policy={"loadBalancer": {"simpel": "RANDOM"}})
    with pytest.raises(ReconcileError) as caught:
        traffic.mesh_traffic(fake_api, make_params([gray_release, typo]), check_mode, False)
    assert fake_api.writes == []
    assert str(caught.value) == (
        "1 problem(s) in the inventory; nothing was changed:\n- DestinationRule dify/dify-web-dr "
        "spec.trafficPolicy.loadBalancer.simpel: is not a field of Istio's API here. Fix: did you mean "
        "'simple'? fields here: simple")


def test_the_schema_is_read_only_for_kinds_about_to_be_written(fake_api, gray_release):
    fake_api.schemas["DestinationRule"] = LOAD_BALANCER_SCHEMA
    params = make_params([gray_release])
    traffic.mesh_traffic(fake_api, copy.deepcopy(params), False, False)
    assert sorted(set(fake_api.schema_reads)) == ["DestinationRule", "VirtualService"]
    fake_api.schema_reads = []
    traffic.mesh_traffic(fake_api, params, False, False)
    assert fake_api.schema_reads == []
