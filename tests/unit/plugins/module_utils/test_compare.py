"""Server-side-apply comparison: what we own, whether to write, and the predicted result."""

import copy

import pytest

from ansible_collections.difymesh.platform.plugins.module_utils import builder, compare

MANAGER = "difymesh"


@pytest.fixture
def desired(gray_release):
    return builder.virtual_service(gray_release)


@pytest.fixture
def live(desired):
    """The VirtualService as the API server returns it: our apply, a label added by another
    manager, an annotation from kubectl, Istio's status and all the bookkeeping."""
    obj = copy.deepcopy(desired)
    obj["metadata"].update({
        "labels": dict(desired["metadata"]["labels"], team="platform"),
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "note": "hand-made"},
        "uid": "5d7c", "resourceVersion": "4711", "generation": 2,
        "creationTimestamp": "2024-05-01T10:00:00Z",
        "managedFields": [
            {"manager": MANAGER, "operation": "Apply", "apiVersion": "networking.istio.io/v1",
             "fieldsType": "FieldsV1", "time": "2024-05-01T10:00:00Z",
             "fieldsV1": {"f:metadata": {"f:labels": {"f:app.kubernetes.io/managed-by": {},
                                                      "f:difymesh.io/owner": {}}},
                          "f:spec": {"f:hosts": {}, "f:http": {}}}},
            {"manager": "kubectl-label", "operation": "Update", "apiVersion": "networking.istio.io/v1",
             "fieldsType": "FieldsV1",
             "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:team": {}}}}},
            {"manager": "kubectl-client-side-apply", "operation": "Update",
             "fieldsType": "FieldsV1",
             "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:note": {},
                                                           "f:kubectl.kubernetes.io/last-applied-configuration": {}}},
                          "f:spec": {"f:exportTo": {}}}},
            {"manager": "pilot-discovery", "operation": "Update", "subresource": "status",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {".": {}, "f:observedGeneration": {}}}},
        ],
    })
    obj["spec"]["exportTo"] = ["."]
    obj["status"] = {"observedGeneration": 2}
    return obj


def test_owned_fields_are_only_ours_from_apply(live):
    assert compare.owned_fields(live, MANAGER) == {
        "f:metadata": {"f:labels": {"f:app.kubernetes.io/managed-by": {}, "f:difymesh.io/owner": {}}},
        "f:spec": {"f:hosts": {}, "f:http": {}}}


def test_owned_fields_ignore_our_update_operations(live):
    live["metadata"]["managedFields"][0]["operation"] = "Update"
    assert compare.owned_fields(live, MANAGER) == {}


def test_owned_fields_merge_several_apply_entries():
    obj = {"metadata": {"managedFields": [
        {"manager": MANAGER, "operation": "Apply", "fieldsV1": {"f:spec": {"f:hosts": {}}}},
        {"manager": MANAGER, "operation": "Apply", "subresource": "", "fieldsV1": {"f:spec": {"f:http": {}}}}]}}
    assert compare.owned_fields(obj, MANAGER) == {"f:spec": {"f:hosts": {}, "f:http": {}}}


@pytest.mark.parametrize("obj", [None, {}, {"metadata": {}}, {"metadata": {"managedFields": None}}])
def test_owned_fields_of_objects_without_managed_fields(obj):
    assert compare.owned_fields(obj, MANAGER) == {}


def test_applied_view_is_exactly_what_we_applied(live, desired):
    assert compare.applied_view(live, MANAGER) == desired


def test_applied_view_is_none_when_we_own_nothing(live):
    assert compare.applied_view(live, "someone-else") is None


def test_unchanged_object_needs_no_apply(live, desired):
    assert compare.needs_apply(live, desired, MANAGER) is False


@pytest.mark.parametrize("server_change", [
    lambda o: o["metadata"].update(resourceVersion="9999", generation=7),
    lambda o: o.update(status={"validationMessages": [{"type": "warning"}]}),
    lambda o: o["metadata"]["labels"].update(team="ai"),
    lambda o: o["metadata"]["annotations"].update(extra="yes"),
    lambda o: o["spec"].update(exportTo=["*"]),
    lambda o: o["metadata"]["managedFields"].append(
        {"manager": "flagger", "operation": "Update", "fieldsV1": {"f:spec": {"f:tcp": {}}}}),
])
def test_fields_we_do_not_own_never_cause_a_write(live, desired, server_change):
    server_change(live)
    assert compare.needs_apply(live, desired, MANAGER) is False


def test_missing_object_needs_apply(desired):
    assert compare.needs_apply(None, desired, MANAGER) is True


def test_object_we_never_applied_needs_apply(live, desired):
    live["metadata"]["managedFields"] = live["metadata"]["managedFields"][1:]
    assert compare.needs_apply(live, desired, MANAGER) is True


def test_changed_weight_needs_apply(live, desired):
    desired["spec"]["http"][-1]["route"][0]["weight"] = 80
    desired["spec"]["http"][-1]["route"][1]["weight"] = 20
    assert compare.needs_apply(live, desired, MANAGER) is True


def test_field_another_manager_changed_under_us_needs_apply(live, desired):
    live["spec"]["hosts"] = ["hijacked"]
    assert compare.needs_apply(live, desired, MANAGER) is True


def test_removed_field_we_owned_needs_apply(live, desired):
    live["spec"]["gateways"] = ["istio-ingress/dify"]
    live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:gateways"] = {}
    assert compare.needs_apply(live, desired, MANAGER) is True


def test_field_we_lost_ownership_of_needs_apply(live, desired):
    del live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:hosts"]
    assert compare.needs_apply(live, desired, MANAGER) is True


def test_new_field_in_desired_needs_apply(live, desired):
    desired["spec"]["gateways"] = ["mesh"]
    assert compare.needs_apply(live, desired, MANAGER) is True


PORTS = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
         {"name": "grpc", "port": 9090, "protocol": "TCP", "targetPort": 9090, "appProtocol": "grpc"}]
PORT_80 = 'k:{"port":80,"protocol":"TCP"}'
PORT_9090 = 'k:{"port":9090,"protocol":"TCP"}'


def test_extract_associative_list_keeps_only_items_and_fields_we_own():
    fields = {PORT_80: {".": {}, "f:name": {}, "f:port": {}, "f:protocol": {}}}
    assert compare.extract(PORTS, fields) == [{"name": "http", "port": 80, "protocol": "TCP"}]


def test_extract_associative_list_keeps_list_order():
    fields = {PORT_9090: {"f:port": {}}, PORT_80: {"f:port": {}}}
    assert compare.extract(PORTS, fields) == [{"port": 80}, {"port": 9090}]


def test_extract_set_list_by_value():
    finalizers = ["difymesh.io/cleanup", "other.io/keep"]
    assert compare.extract(finalizers, {'v:"difymesh.io/cleanup"': {}}) == ["difymesh.io/cleanup"]


def test_extract_skips_owned_fields_no_longer_present():
    assert compare.extract({"a": 1}, {"f:a": {}, "f:b": {}}) == {"a": 1}


def test_extract_whole_value_for_a_leaf():
    value = {"a": [1, {"b": 2}]}
    extracted = compare.extract(value, {})
    assert extracted == value and extracted is not value


def test_extract_treats_dot_only_as_a_leaf():
    assert compare.extract({"x": 1}, {".": {}}) == {"x": 1}


def _service_with_ports(ports, fields):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "dify-api", "namespace": "dify",
                         "managedFields": [{"manager": MANAGER, "operation": "Apply", "fieldsV1": fields}]},
            "spec": {"ports": ports, "clusterIP": "10.0.0.7"}}


def test_needs_apply_through_associative_list_keys():
    fields = {"f:spec": {"f:ports": {PORT_80: {".": {}, "f:port": {}, "f:protocol": {}, "f:targetPort": {}}}}}
    live = _service_with_ports(PORTS, fields)
    desired = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dify-api", "namespace": "dify"},
               "spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}]}}
    assert compare.needs_apply(live, desired, MANAGER) is False
    desired["spec"]["ports"][0]["targetPort"] = 8081
    assert compare.needs_apply(live, desired, MANAGER) is True


def test_needs_apply_when_an_owned_list_item_disappeared():
    fields = {"f:spec": {"f:ports": {PORT_80: {"f:port": {}, "f:protocol": {}},
                                     PORT_9090: {"f:port": {}, "f:protocol": {}}}}}
    live = _service_with_ports(PORTS[:1], fields)
    desired = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dify-api", "namespace": "dify"},
               "spec": {"ports": [{"port": 80, "protocol": "TCP"}, {"port": 9090, "protocol": "TCP"}]}}
    assert compare.needs_apply(live, desired, MANAGER) is True


def test_clean_drops_server_bookkeeping(live):
    cleaned = compare.clean(live)
    assert "status" not in cleaned
    assert not set(compare.SERVER_METADATA) & set(cleaned["metadata"])
    assert cleaned["metadata"]["annotations"] == {"note": "hand-made"}
    assert cleaned["metadata"]["labels"]["team"] == "platform" and cleaned["spec"] == live["spec"]


def test_clean_does_not_modify_its_argument(live):
    before = copy.deepcopy(live)
    compare.clean(live)
    assert live == before


def test_clean_drops_annotations_left_empty(live):
    live["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
    assert "annotations" not in compare.clean(live)["metadata"]


def test_clean_of_none_is_none():
    assert compare.clean(None) is None


def test_predict_create_is_desired(desired):
    predicted = compare.predict(None, desired, MANAGER)
    assert predicted == desired and predicted is not desired


def test_predict_keeps_other_managers_fields(live, desired):
    predicted = compare.predict(live, desired, MANAGER)
    assert predicted["metadata"]["labels"]["team"] == "platform"
    assert predicted["metadata"]["annotations"] == {"note": "hand-made"}
    assert predicted["spec"]["exportTo"] == ["."]


def test_predict_replaces_our_old_fields(live, desired):
    live["spec"]["gateways"] = ["istio-ingress/dify"]
    live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:gateways"] = {}
    desired["spec"]["hosts"] = ["api.example.com"]
    predicted = compare.predict(live, desired, MANAGER)
    assert "gateways" not in predicted["spec"]
    assert predicted["spec"]["hosts"] == ["api.example.com"]


def test_predict_drops_a_label_we_no_longer_set(live, desired):
    live["metadata"]["labels"]["tier"] = "backend"
    live["metadata"]["managedFields"][0]["fieldsV1"]["f:metadata"]["f:labels"]["f:tier"] = {}
    predicted = compare.predict(live, desired, MANAGER)
    assert predicted["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "difymesh",
                                               "difymesh.io/owner": "traffic", "team": "platform"}


def test_predict_has_no_server_bookkeeping(live, desired):
    predicted = compare.predict(live, desired, MANAGER)
    assert "status" not in predicted and "managedFields" not in predicted["metadata"]


@pytest.mark.parametrize("base, overlay, merged", [
    ({"a": 1, "b": {"c": 2}}, {"b": {"d": 3}}, {"a": 1, "b": {"c": 2, "d": 3}}),
    ({"a": {"b": 1}}, {"a": {"b": 2}}, {"a": {"b": 2}}),
    ({"l": [1, 2, 3]}, {"l": [4]}, {"l": [4]}),
    ({"a": {"b": 1}}, {"a": "scalar"}, {"a": "scalar"}),
    ({"a": "scalar"}, {"a": {"b": 1}}, {"a": {"b": 1}}),
    ({}, {"a": 1}, {"a": 1}),
    (None, {"a": 1}, {"a": 1}),
])
def test_merge(base, overlay, merged):
    assert compare.merge(base, overlay) == merged


def test_merge_copies_instead_of_sharing():
    base, overlay = {"a": {"b": [1]}}, {"c": {"d": [2]}}
    merged = compare.merge(base, overlay)
    merged["a"]["b"].append(9)
    merged["c"]["d"].append(9)
    assert base == {"a": {"b": [1]}} and overlay == {"c": {"d": [2]}}


def test_diff_is_cleaned_before_and_after(live, desired):
    result = compare.diff(live, desired)
    assert result["before"] == compare.clean(live) and result["after"] == desired


@pytest.mark.parametrize("before, after", [(None, {"a": 1}), ({"a": 1}, None)])
def test_diff_uses_empty_mapping_for_a_missing_side(before, after):
    result = compare.diff(before, after)
    assert {} in (result["before"], result["after"])
