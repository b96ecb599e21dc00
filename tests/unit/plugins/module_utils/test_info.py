"""Routing and mTLS reports."""

import pytest

from ansible_collections.difymesh.platform.plugins.module_utils import builder, info


def pa(namespace, mode=None, name="default", selector=None, ports=None):
    return builder.peer_authentication(name, namespace, mode, selector, ports)


def test_routing_report_for_a_managed_gray_release(gray_release):
    [entry] = info.routing_report([builder.virtual_service(gray_release)],
                                  [builder.destination_rule(gray_release)])
    assert entry["name"] == "dify-api-vs" and entry["namespace"] == "dify"
    assert entry["managed"] is True and entry["hosts"] == ["dify-api"] and entry["gateways"] == ["mesh"]
    assert entry["routes"] == [
        {"name": "testers", "match": [{"headers": {"x-version": {"exact": "v2"}}}],
         "destinations": [{"host": "dify-api", "subset": "v2", "weight": 100}]},
        {"name": "default", "match": [],
         "destinations": [{"host": "dify-api", "subset": "v1", "weight": 90},
                          {"host": "dify-api", "subset": "v2", "weight": 10}]}]
    assert entry["subsets"] == {"dify-api": {"v1": {"version": "v1"}, "v2": {"version": "v2"}}}


def test_routing_report_defaults_for_a_hand_made_virtual_service():
    vs = {"metadata": {"name": "legacy", "namespace": "tools"},
          "spec": {"hosts": ["legacy"], "gateways": ["istio-ingress/gw"],
                   "http": [{"route": [{"destination": {"host": "legacy"}}]},
                            {"route": [{"destination": {"host": "a"}}, {"destination": {"host": "b"}}]}]}}
    [entry] = info.routing_report([vs], [])
    assert entry["managed"] is False and entry["gateways"] == ["istio-ingress/gw"]
    assert [r["name"] for r in entry["routes"]] == ["route-0", "route-1"]
    assert entry["routes"][0]["destinations"] == [{"host": "legacy", "subset": None, "weight": 100}]
    assert [d["weight"] for d in entry["routes"][1]["destinations"]] == [0, 0]
    assert entry["subsets"] == {"a": {}, "b": {}, "legacy": {}}


def test_routing_report_matches_subsets_by_namespace_and_host(gray_release):
    elsewhere = dict(gray_release, namespace="staging", subsets={"canary": {"track": "canary"}})
    [entry] = info.routing_report([builder.virtual_service(gray_release)],
                                  [builder.destination_rule(elsewhere)])
    assert entry["subsets"] == {"dify-api": {}}


def test_routing_report_is_sorted_by_namespace_then_name(gray_release, plain_service):
    services = [dict(plain_service, namespace="b"), dict(gray_release, namespace="a"),
                dict(plain_service, namespace="a")]
    report = info.routing_report([builder.virtual_service(s) for s in services], [])
    assert [(e["namespace"], e["name"]) for e in report] == [("a", "dify-api-vs"), ("a", "dify-web-vs"),
                                                             ("b", "dify-web-vs")]


def test_routing_report_without_http_routes():
    [entry] = info.routing_report([{"metadata": {"name": "tcp", "namespace": "x"}, "spec": {"hosts": ["tcp"]}}], [])
    assert entry["routes"] == [] and entry["subsets"] == {}


NAMESPACES = ["dify", "istio-system", "legacy"]


@pytest.mark.parametrize("policies, mesh, namespaces", [
    pytest.param([], "PERMISSIVE",
                 {"dify": ("PERMISSIVE", "default"), "legacy": ("PERMISSIVE", "default")}, id="nothing-declared"),
    pytest.param([pa("istio-system", "STRICT")], "STRICT",
                 {"dify": ("STRICT", "mesh"), "legacy": ("STRICT", "mesh")}, id="mesh-strict-inherited"),
    pytest.param([pa("istio-system", "STRICT"), pa("legacy", "PERMISSIVE")], "STRICT",
                 {"dify": ("STRICT", "mesh"), "legacy": ("PERMISSIVE", "namespace")}, id="namespace-overrides"),
    pytest.param([pa("istio-system", "STRICT"), pa("legacy", "UNSET")], "STRICT",
                 {"dify": ("STRICT", "mesh"), "legacy": ("STRICT", "mesh")}, id="namespace-unset-inherits"),
    pytest.param([pa("istio-system", "UNSET"), pa("dify", "DISABLE")], "PERMISSIVE",
                 {"dify": ("DISABLE", "namespace"), "legacy": ("PERMISSIVE", "default")}, id="mesh-unset"),
    pytest.param([pa("istio-system"), pa("legacy")], "PERMISSIVE",
                 {"dify": ("PERMISSIVE", "default"), "legacy": ("PERMISSIVE", "default")}, id="policies-without-mode"),
    pytest.param([pa("istio-system", "STRICT", name="x", selector={"app": "gw"})], "PERMISSIVE",
                 {"dify": ("PERMISSIVE", "default"), "legacy": ("PERMISSIVE", "default")},
                 id="selector-in-root-is-not-mesh-wide"),
])
def test_mtls_report_mesh_and_namespaces(policies, mesh, namespaces):
    report = info.mtls_report(policies, NAMESPACES, "istio-system")
    assert report["mesh"] == mesh
    assert report["namespaces"]["istio-system"]["mode"] == mesh
    assert {ns: (v["mode"], v["source"]) for ns, v in report["namespaces"].items() if ns != "istio-system"} == \
        namespaces


def test_mtls_report_root_namespace_follows_the_mesh():
    report = info.mtls_report([pa("istio-system", "STRICT")], NAMESPACES, "istio-system")
    assert report["namespaces"]["istio-system"] == {"mode": "STRICT", "source": "mesh"}


@pytest.mark.parametrize("policies, workload", [
    pytest.param([pa("dify", name="w", selector={"app": "sandbox"}, mode="DISABLE")],
                 {"mode": "DISABLE", "ports": {}}, id="own-mode"),
    pytest.param([pa("istio-system", "STRICT"), pa("dify", name="w", selector={"app": "sandbox"}, mode="UNSET")],
                 {"mode": "STRICT", "ports": {}}, id="unset-inherits-mesh"),
    pytest.param([pa("istio-system", "STRICT"), pa("dify", "PERMISSIVE"),
                  pa("dify", name="w", selector={"app": "sandbox"}, ports={8194: "DISABLE"})],
                 {"mode": "PERMISSIVE", "ports": {"8194": "DISABLE"}}, id="ports-only-inherits-namespace"),
    pytest.param([pa("dify", name="w", selector={"app": "sandbox"}, mode="STRICT",
                     ports={8080: "PERMISSIVE", 9090: "DISABLE"})],
                 {"mode": "STRICT", "ports": {"8080": "PERMISSIVE", "9090": "DISABLE"}}, id="mode-and-ports"),
    pytest.param([pa("dify", name="w", selector={"app": "sandbox"})],
                 {"mode": "PERMISSIVE", "ports": {}}, id="nothing-set-is-default"),
])
def test_mtls_report_workloads(policies, workload):
    [entry] = info.mtls_report(policies, NAMESPACES, "istio-system")["workloads"]
    assert entry == dict(workload, name="w", namespace="dify", selector={"app": "sandbox"})


def test_mtls_report_workload_outside_listed_namespaces_inherits_the_mesh():
    policies = [pa("istio-system", "STRICT"), pa("elsewhere", name="w", selector={"app": "x"})]
    [entry] = info.mtls_report(policies, ["dify"], "istio-system")["workloads"]
    assert entry["mode"] == "STRICT"


def test_mtls_report_namespace_policy_is_the_one_without_selector():
    policies = [pa("dify", "DISABLE", name="w", selector={"app": "x"}), pa("dify", "STRICT", name="ns-wide")]
    report = info.mtls_report(policies, ["dify"], "istio-system")
    assert report["namespaces"]["dify"] == {"mode": "STRICT", "source": "namespace"}
    assert [w["name"] for w in report["workloads"]] == ["w"]


def test_mesh_info_reads_once_per_kind_and_reports(fake_api, gray_release):
    fake_api.seed(builder.virtual_service(gray_release))
    fake_api.seed(builder.destination_rule(gray_release))
    fake_api.seed(pa("istio-system", "STRICT"))
    result = info.mesh_info(fake_api, {"namespaces": [], "istio_namespace": "istio-system", "concurrency": 2})
    assert result["changed"] is False
    assert [r["name"] for r in result["routing"]] == ["dify-api-vs"]
    assert result["mtls"]["namespaces"]["dify"] == {"mode": "STRICT", "source": "mesh"}
    assert sorted(c for c in fake_api.calls if c[0] == "list") == [
        ("list", "DestinationRule", None), ("list", "PeerAuthentication", None), ("list", "VirtualService", None)]


def test_mesh_info_with_namespaces_also_reads_the_root_namespace(fake_api):
    fake_api.seed(pa("istio-system", "STRICT"))
    result = info.mesh_info(fake_api, {"namespaces": ["dify"], "istio_namespace": "istio-system", "concurrency": 1})
    assert result["mtls"]["mesh"] == "STRICT" and list(result["mtls"]["namespaces"]) == ["dify"]
    assert {c[2] for c in fake_api.calls if c[0] == "list"} == {"dify", "istio-system"}
    assert ("list_namespaces",) not in fake_api.calls
