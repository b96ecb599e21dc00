"""Istio objects built from inventory entries."""

import pytest

from ansible_collections.difymesh.platform.plugins.module_utils import builder

MANAGED = {"app.kubernetes.io/managed-by": "difymesh", "difymesh.io/owner": "traffic"}


def test_virtual_service_envelope(gray_release):
    vs = builder.virtual_service(gray_release)
    assert vs["apiVersion"] == "networking.istio.io/v1"
    assert vs["kind"] == "VirtualService"
    assert vs["metadata"] == {"name": "dify-api-vs", "namespace": "dify", "labels": MANAGED}


def test_virtual_service_name_override(gray_release):
    assert builder.virtual_service(gray_release, name="api")["metadata"]["name"] == "api"


def test_hosts_default_to_the_service_name(plain_service):
    assert builder.virtual_service_spec(plain_service)["hosts"] == ["dify-web"]


def test_declared_hosts_replace_the_default(plain_service):
    plain_service["hosts"] = ["web.example.com", "dify-web"]
    assert builder.virtual_service_spec(plain_service)["hosts"] == ["web.example.com", "dify-web"]


def test_default_route_without_weights_goes_to_the_service(plain_service):
    assert builder.virtual_service_spec(plain_service)["http"] == [
        {"name": "default", "route": [{"destination": {"host": "dify-web"}}]}]


def test_default_route_splits_by_weight(gray_release):
    default = builder.virtual_service_spec(gray_release)["http"][-1]
    assert default == {"name": "default", "route": [
        {"destination": {"host": "dify-api", "subset": "v1"}, "weight": 90},
        {"destination": {"host": "dify-api", "subset": "v2"}, "weight": 10}]}


def test_ordered_routes_come_before_the_default(gray_release):
    gray_release["routes"].append({"name": "beta", "weights": {"v1": 100}})
    names = [http["name"] for http in builder.virtual_service_spec(gray_release)["http"]]
    assert names == ["testers", "beta", "default"]


def test_route_shorthand_becomes_match_and_destinations(gray_release):
    testers = builder.virtual_service_spec(gray_release)["http"][0]
    assert testers == {"name": "testers", "match": [{"headers": {"x-version": {"exact": "v2"}}}],
                       "route": [{"destination": {"host": "dify-api", "subset": "v2"}, "weight": 100}]}


@pytest.mark.parametrize("field, value", [
    ("timeout", "5s"),
    ("retries", {"attempts": 3, "perTryTimeout": "2s"}),
    ("fault", {"delay": {"percentage": {"value": 5}, "fixedDelay": "1s"}}),
    ("mirror", {"host": "dify-api", "subset": "v2"}),
    ("mirrorPercentage", {"value": 10.0}),
    ("headers", {"request": {"set": {"x-mesh": "difymesh"}}}),
    ("corsPolicy", {"allowOrigins": [{"exact": "https://dify.example.com"}]}),
    ("rewrite", {"uri": "/"}),
])
def test_extra_http_route_fields_pass_through(field, value):
    route = {"name": "r", "weights": {"v1": 100}, field: value}
    service = {"name": "dify-api", "namespace": "dify", "routes": [route]}
    assert builder.virtual_service_spec(service)["http"][0][field] == value


@pytest.mark.parametrize("field, value", [
    ("redirect", {"uri": "/v2", "redirectCode": 301}),
    ("directResponse", {"status": 503}),
    ("delegate", {"name": "child", "namespace": "dify"}),
    ("route", [{"destination": {"host": "other"}}]),
])
def test_istio_targets_are_written_as_given(field, value):
    service = {"name": "dify-api", "namespace": "dify", "routes": [{field: value}]}
    assert builder.virtual_service_spec(service)["http"][0] == {field: value}


def test_passed_through_fields_are_copies(gray_release):
    gray_release["routes"][0]["retries"] = {"attempts": 3}
    spec = builder.virtual_service_spec(gray_release)
    spec["http"][0]["retries"]["attempts"] = 9
    spec["http"][0]["match"][0]["headers"] = {}
    assert gray_release["routes"][0]["retries"] == {"attempts": 3}
    assert gray_release["routes"][0]["match"][0]["headers"] == {"x-version": {"exact": "v2"}}


def test_raw_http_replaces_routes_and_default(gray_release):
    raw = [{"route": [{"destination": {"host": "elsewhere"}}]}]
    gray_release["http"] = raw
    spec = builder.virtual_service_spec(gray_release)
    assert spec["http"] == raw and spec["http"] is not raw


def test_gateways_are_included_only_when_given(plain_service):
    assert "gateways" not in builder.virtual_service_spec(plain_service)
    plain_service["gateways"] = ["istio-ingress/dify", "mesh"]
    assert builder.virtual_service_spec(plain_service)["gateways"] == ["istio-ingress/dify", "mesh"]


def test_destination_rule_envelope_and_host(gray_release):
    dr = builder.destination_rule(gray_release)
    assert dr["kind"] == "DestinationRule" and dr["apiVersion"] == "networking.istio.io/v1"
    assert dr["metadata"] == {"name": "dify-api-dr", "namespace": "dify", "labels": MANAGED}
    assert dr["spec"]["host"] == "dify-api"


def test_destination_rule_explicit_host_and_name():
    dr = builder.destination_rule({"name": None, "host": "api.example.com", "namespace": "dify"}, name="ext")
    assert dr["metadata"]["name"] == "ext" and dr["spec"] == {"host": "api.example.com"}


def test_destination_rule_subsets_and_traffic_policy(gray_release):
    spec = builder.destination_rule_spec(gray_release)
    assert spec == {"host": "dify-api", "trafficPolicy": {"loadBalancer": {"simple": "ROUND_ROBIN"}},
                    "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                {"name": "v2", "labels": {"version": "v2"}}]}


def test_destination_rule_without_subsets_or_policy(plain_service):
    assert builder.destination_rule_spec(plain_service) == {"host": "dify-web"}


def test_subset_policy_attaches_to_its_subset(gray_release):
    gray_release["subset_policies"] = {"v2": {"loadBalancer": {"simple": "LEAST_REQUEST"}}}
    subsets = builder.destination_rule_spec(gray_release)["subsets"]
    assert "trafficPolicy" not in subsets[0]
    assert subsets[1]["trafficPolicy"] == {"loadBalancer": {"simple": "LEAST_REQUEST"}}


def test_keep_subsets_are_added_before_the_declared_ones(gray_release):
    old = {"v0": {"name": "v0", "labels": {"version": "v0"}}}
    names = [s["name"] for s in builder.destination_rule_spec(gray_release, keep_subsets=old)["subsets"]]
    assert names == ["v0", "v1", "v2"]


def test_declared_subset_wins_over_a_kept_one_of_the_same_name(gray_release):
    old = {"v1": {"name": "v1", "labels": {"version": "old"}}}
    subsets = builder.destination_rule_spec(gray_release, keep_subsets=old)["subsets"]
    assert subsets[0] == {"name": "v1", "labels": {"version": "v1"}} and len(subsets) == 2


def test_keep_subsets_alone_still_produce_subsets(plain_service):
    old = {"v0": {"name": "v0", "labels": {"version": "v0"}}}
    assert builder.destination_rule_spec(plain_service, keep_subsets=old)["subsets"] == [old["v0"]]


@pytest.mark.parametrize("args, spec", [
    ({"mode": "STRICT"}, {"mtls": {"mode": "STRICT"}}),
    ({"mode": "PERMISSIVE", "selector": {"app": "dify-sandbox"}},
     {"selector": {"matchLabels": {"app": "dify-sandbox"}}, "mtls": {"mode": "PERMISSIVE"}}),
    ({"selector": {"app": "x"}, "ports": {8080: "DISABLE", "9090": "STRICT"}},
     {"selector": {"matchLabels": {"app": "x"}},
      "portLevelMtls": {"8080": {"mode": "DISABLE"}, "9090": {"mode": "STRICT"}}}),
    ({"mode": "STRICT", "selector": {"app": "x"}, "ports": {8194: "PERMISSIVE"}},
     {"selector": {"matchLabels": {"app": "x"}}, "mtls": {"mode": "STRICT"},
      "portLevelMtls": {"8194": {"mode": "PERMISSIVE"}}}),
    ({}, {}),
])
def test_peer_authentication_spec(args, spec):
    assert builder.peer_authentication_spec(**args) == spec


def test_peer_authentication_envelope():
    pa = builder.peer_authentication("default", "dify", "STRICT")
    assert pa["apiVersion"] == "security.istio.io/v1" and pa["kind"] == "PeerAuthentication"
    assert pa["metadata"] == {"name": "default", "namespace": "dify", "labels": MANAGED}


def test_mtls_objects_mesh_namespaces_and_workloads(strict_mtls):
    objects = builder.mtls_objects(strict_mtls)
    assert [builder.object_key(o) for o in objects] == [
        ("PeerAuthentication", "istio-system", "default"),
        ("PeerAuthentication", "legacy", "default"),
        ("PeerAuthentication", "dify", "dify-sandbox")]
    assert objects[0]["spec"] == {"mtls": {"mode": "STRICT"}}
    assert objects[1]["spec"] == {"mtls": {"mode": "PERMISSIVE"}}
    assert objects[2]["spec"] == {"selector": {"matchLabels": {"app": "dify-sandbox"}},
                                  "mtls": {"mode": "STRICT"}, "portLevelMtls": {"8194": {"mode": "PERMISSIVE"}}}


def test_mesh_policy_goes_to_the_given_root_namespace():
    [mesh] = builder.mtls_objects({"mesh": "STRICT"}, root_namespace="istio-root")
    assert mesh["metadata"]["namespace"] == "istio-root"


@pytest.mark.parametrize("mtls", [None, {}, {"namespaces": {}, "workloads": []}])
def test_no_mtls_means_no_objects(mtls):
    assert builder.mtls_objects(mtls) == []


def test_every_built_object_carries_the_managed_by_label(gray_release, strict_mtls):
    objects = [builder.virtual_service(gray_release), builder.destination_rule(gray_release)]
    objects += builder.mtls_objects(strict_mtls)
    assert all(o["metadata"]["labels"] == MANAGED for o in objects)


def test_envelope_keeps_extra_labels_but_forces_managed_by():
    obj = builder.envelope(builder.VIRTUAL_SERVICE, "n", "ns", {},
                           labels={"team": "ai", "app.kubernetes.io/managed-by": "helm"})
    assert obj["metadata"]["labels"] == dict(MANAGED, team="ai")


def test_kind_paths():
    assert builder.VIRTUAL_SERVICE.collection_path("dify") == \
        "/apis/networking.istio.io/v1/namespaces/dify/virtualservices"
    assert builder.DESTINATION_RULE.collection_path() == "/apis/networking.istio.io/v1/destinationrules"
    assert builder.PEER_AUTHENTICATION.object_path("dify", "default") == \
        "/apis/security.istio.io/v1/namespaces/dify/peerauthentications/default"


def test_subsets_referenced_by_all_routes(gray_release):
    gray_release["weights"] = {"v1": 100}
    assert builder.subsets_referenced(builder.virtual_service(gray_release)) == {"v1", "v2"}


@pytest.mark.parametrize("vs", [
    None,
    {},
    {"spec": {}},
    {"spec": {"http": [{"route": [{"destination": {"host": "dify-api"}}]}, {"redirect": {"uri": "/"}}]}},
])
def test_subsets_referenced_is_empty_without_subset_destinations(vs):
    assert builder.subsets_referenced(vs) == set()


def test_subsets_of_indexes_by_name(gray_release):
    subsets = builder.subsets_of(builder.destination_rule(gray_release))
    assert subsets == {"v1": {"name": "v1", "labels": {"version": "v1"}},
                       "v2": {"name": "v2", "labels": {"version": "v2"}}}


@pytest.mark.parametrize("obj", [None, {}, {"spec": {"host": "x"}}, {"spec": {"subsets": None}}])
def test_subsets_of_is_empty_for_objects_without_subsets(obj):
    assert builder.subsets_of(obj) == {}


def test_object_key():
    assert builder.object_key(builder.peer_authentication("default", "dify", "STRICT")) == \
        ("PeerAuthentication", "dify", "default")


def test_kinds_index_by_kind_name():
    assert builder.KINDS["DestinationRule"] is builder.DESTINATION_RULE
    assert set(builder.KINDS) == {"VirtualService", "DestinationRule", "PeerAuthentication"}
