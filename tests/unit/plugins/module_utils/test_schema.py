"""Every inventory contract rule, with inputs that pass and inputs that must be refused."""

import pytest

from ansible_collections.difymesh.platform.plugins.module_utils import schema

DROP = object()
API = "services[0] (dify-api)"


def api_service(**changes):
    service = {"name": "dify-api", "namespace": "dify",
               "subsets": {"v1": {"version": "v1"}, "v2": {"version": "v2"}},
               "weights": {"v1": 90, "v2": 10}}
    for key, value in changes.items():
        if value is DROP:
            service.pop(key, None)
        else:
            service[key] = value
    return service


def web_service(**changes):
    service = {"name": "dify-web", "namespace": "dify"}
    service.update(changes)
    return service


def workload(**changes):
    entry = {"name": "dify-sandbox", "namespace": "dify", "selector": {"app": "dify-sandbox"},
             "mode": "STRICT"}
    for key, value in changes.items():
        if value is DROP:
            entry.pop(key, None)
        else:
            entry[key] = value
    return entry


def disabled(**extra):
    return dict({"tls": {"mode": "DISABLE"}}, **extra)


GOOD = [
    pytest.param([api_service()], {}, id="subsets-and-weights"),
    pytest.param([web_service()], {}, id="name-and-namespace-only"),
    pytest.param([], {}, id="empty-inventory"),
    pytest.param([api_service(weights={"v1": "90", "v2": "10"})], {}, id="weights-as-digit-strings"),
    pytest.param([api_service(weights={"v1": 100, "v2": 0})], {}, id="weights-0-and-100"),
    pytest.param([api_service(weights={"v2": 100})], {}, id="single-weight"),
    pytest.param([api_service(weights=DROP)], {}, id="subsets-without-weights"),
    pytest.param([api_service(name="a" * 60)], {}, id="name-60-chars"),
    pytest.param([api_service(namespace="n" * 63)], {}, id="namespace-63-chars"),
    pytest.param([api_service(hosts=["dify-api", "api.dify.example.com", "*.example.com", "*"])], {},
                 id="hosts-short-fqdn-wildcard"),
    pytest.param([api_service(gateways=["istio-ingress/dify-gw", "mesh"])], {}, id="gateways"),
    pytest.param([api_service(routes=[{"name": "testers", "weights": {"v2": 100},
                                       "match": [{"headers": {"x-version": {"exact": "v2"}}}],
                                       "timeout": "5s", "retries": {"attempts": 3}}])], {},
                 id="route-weights-with-istio-extras"),
    pytest.param([api_service(routes=[{"route": [{"destination": {"host": "dify-api"}}]}])], {},
                 id="route-istio-route"),
    pytest.param([api_service(routes=[{"redirect": {"uri": "/v2"}}])], {}, id="route-redirect"),
    pytest.param([api_service(routes=[{"directResponse": {"status": 503}}])], {}, id="route-direct-response"),
    pytest.param([api_service(routes=[{"delegate": {"name": "child", "namespace": "dify"}}])], {},
                 id="route-delegate"),
    pytest.param([api_service(traffic_policy={"loadBalancer": {"simple": "ROUND_ROBIN"},
                                              "tls": {"mode": "ISTIO_MUTUAL"}},
                              subset_policies={"v2": {"connectionPool": {"tcp": {"maxConnections": 5}}}})],
                 {"mesh": "STRICT"}, id="traffic-and-subset-policies"),
    pytest.param([api_service(), api_service(namespace="dify-staging")], {},
                 id="same-name-other-namespace"),
    pytest.param([api_service(hosts=["shared"]), web_service(namespace="other", hosts=["shared"])], {},
                 id="same-host-other-namespace"),
    pytest.param([api_service(subsets={"v1": {"version": "v1", "example.com/track": "stable"}},
                              weights={"v1": 100})], {}, id="prefixed-label-key"),
    pytest.param([api_service(subsets={"v1": {"version": "v" * 63, "example.com/" + "k" * 63: ""}},
                              weights={"v1": 100})], {}, id="label-63-chars-and-empty-value"),
]

MTLS_GOOD = [
    pytest.param({"mesh": mode}, id="mesh-" + mode) for mode in schema.MTLS_MODES
] + [
    pytest.param({"namespaces": {"dify": "STRICT", "legacy": "UNSET"}}, id="namespaces"),
    pytest.param({"workloads": [workload()]}, id="workload-mode"),
    pytest.param({"workloads": [workload(mode=DROP, ports={8080: "DISABLE"})]}, id="workload-ports-only"),
    pytest.param({"workloads": [workload(ports={1: "STRICT", "65535": "PERMISSIVE"})]},
                 id="workload-port-bounds"),
    pytest.param({"mesh": "STRICT", "namespaces": {"dify": "PERMISSIVE"}},
                 id="disable-needs-no-mtls-when-namespace-permissive"),
]


@pytest.mark.parametrize("services, mtls", GOOD)
def test_valid_inventory_has_no_errors(services, mtls):
    assert schema.validate(services, mtls) == []


@pytest.mark.parametrize("mtls", MTLS_GOOD)
def test_valid_mtls_has_no_errors(mtls):
    assert schema.validate([api_service()], mtls) == []


BAD = [
    # Weights: integers 0..100 that sum to exactly 100.
    pytest.param([api_service(weights={"v1": 101, "v2": 10})], {}, API + ".weights.v1",
                 "weight 101 is not an integer from 0 to 100", "whole number from 0 to 100", id="weight-101"),
    pytest.param([api_service(weights={"v1": -1, "v2": 10})], {}, API + ".weights.v1",
                 "not an integer", "whole number", id="weight-negative"),
    pytest.param([api_service(weights={"v1": 89.5, "v2": 10.5})], {}, API + ".weights.v1",
                 "89.5 is not an integer", "whole number", id="weight-float"),
    pytest.param([api_service(weights={"v1": True, "v2": 10})], {}, API + ".weights.v1",
                 "True is not an integer", "whole number", id="weight-bool"),
    pytest.param([api_service(weights={"v1": "ninety", "v2": 10})], {}, API + ".weights.v1",
                 "'ninety' is not an integer", "whole number", id="weight-word"),
    pytest.param([api_service(weights={"v1": "-5", "v2": 10})], {}, API + ".weights.v1",
                 "'-5' is not an integer", "whole number", id="weight-negative-string"),
    pytest.param([api_service(weights={"v1": None, "v2": 10})], {}, API + ".weights.v1",
                 "None is not an integer", "whole number", id="weight-null"),
    pytest.param([api_service(weights={"v1": 90, "v2": 20})], {}, API + ".weights",
                 "weights sum to 110, not 100", "add up to exactly 100", id="sum-110"),
    pytest.param([api_service(weights={"v1": 50, "v2": 40})], {}, API + ".weights",
                 "weights sum to 90, not 100", "add up to exactly 100", id="sum-90"),
    pytest.param([api_service(weights={"v1": "95", "v2": 10})], {}, API + ".weights",
                 "weights sum to 105", "exactly 100", id="sum-counts-digit-strings"),
    pytest.param([api_service(weights={})], {}, API + ".weights",
                 "must be a mapping of subset name to weight", "{v1: 90, v2: 10}", id="weights-empty"),
    pytest.param([api_service(weights=[90, 10])], {}, API + ".weights",
                 "must be a mapping", "{v1: 90, v2: 10}", id="weights-list"),
    # Subsets referenced must be defined (IST0101).
    pytest.param([api_service(weights={"v1": 90, "v3": 10})], {}, API + ".weights.v3",
                 "subset 'v3' is not defined in subsets (IST0101)", "add it to subsets", id="weight-undefined"),
    pytest.param([api_service(subsets=DROP, weights={"v1": 100})], {}, API + ".weights.v1",
                 "IST0101", "add it to subsets", id="weights-without-subsets"),
    pytest.param([api_service(routes=[{"name": "testers", "weights": {"v3": 100}}])], {},
                 API + ".routes[0].weights.v3", "IST0101", "add it to subsets", id="route-weight-undefined"),
    pytest.param([api_service(routes=[{"name": "testers", "weights": {"v2": 50}}])], {},
                 API + ".routes[0].weights", "sum to 50", "exactly 100", id="route-weights-sum"),
    # Every subset has labels (KIA0209).
    pytest.param([api_service(subsets={"v1": {"version": "v1"}, "v2": {}})], {}, API + ".subsets.v2",
                 "must be a non-empty mapping of pod labels", "KIA0209", id="subset-empty-labels"),
    pytest.param([api_service(subsets={"v1": {"version": "v1"}, "v2": None})], {}, API + ".subsets.v2",
                 "non-empty mapping", "KIA0209", id="subset-null-labels"),
    pytest.param([api_service(subsets={"v1": {"version": "v1"}, "v2": ["version=v2"]})], {},
                 API + ".subsets.v2", "non-empty mapping", "KIA0209", id="subset-labels-list"),
    pytest.param([api_service(subsets={"v1": {"version": "v1"}, "v2": {"version": 2}})], {},
                 API + ".subsets.v2.version", "'version: 2' is not a valid label", "quoted string value",
                 id="label-value-not-string"),
    pytest.param([api_service(subsets={"v1": {"version": "v1"}, "v2": {"bad key": "v2"}})], {},
                 API + ".subsets.v2.bad key", "is not a valid label", "label key", id="label-key-invalid"),
    pytest.param([api_service(subsets={"v1": {"version": "v1"}, "v2": {"version": "-v2"}})], {},
                 API + ".subsets.v2.version", "is not a valid label", "label key", id="label-value-invalid"),
    pytest.param([api_service(subsets={"v1": {"version": "v1"}, "v2": {"version": "v" * 64}})], {},
                 API + ".subsets.v2.version", "is not a valid label", "at most 63 characters",
                 id="label-value-64-chars"),
    pytest.param([api_service(subsets={"v1": {"version": "v1"}, "v2": {"k" * 64: "v2"}})], {},
                 API + ".subsets.v2." + "k" * 64, "is not a valid label", "at most 63 characters",
                 id="label-key-name-64-chars"),
    pytest.param([api_service(subsets={"V1": {"version": "v1"}}, weights=DROP)], {}, API + ".subsets.V1",
                 "'V1' is not a subset name", "lowercase letters", id="subset-name-uppercase"),
    pytest.param([api_service(subsets=["v1", "v2"], weights=DROP)], {}, API + ".subsets",
                 "must be a mapping of subset name to pod labels", "{v1: {version: v1}}", id="subsets-list"),
    pytest.param([api_service(subset_policies={"v3": {"loadBalancer": {"simple": "RANDOM"}}})], {},
                 API + ".subset_policies.v3", "subset 'v3' is not defined in subsets",
                 "define the subset or drop its policy", id="policy-undefined-subset"),
    pytest.param([api_service(subset_policies={"v2": {"loadBalancing": {}}})], {},
                 API + ".subset_policies.v2.loadBalancing", "unknown key", "did you mean 'loadBalancer'?",
                 id="policy-unknown-key"),
    pytest.param([api_service(subset_policies={"v2": "LEAST_REQUEST"})], {}, API + ".subset_policies.v2",
                 "must be an Istio TrafficPolicy mapping", "loadBalancer", id="policy-not-mapping"),
    pytest.param([api_service(subset_policies=["v2"])], {}, API + ".subset_policies",
                 "must be a mapping of subset name to traffic policy", "{v2:", id="policies-list"),
    # Names and namespaces.
    pytest.param([api_service(name=DROP)], {}, "services[0].name", "is required and must be a string",
                 "such as 'dify-api'", id="name-missing"),
    pytest.param([api_service(name=["dify-api"])], {}, "services[0].name", "is required", "such as",
                 id="name-not-string"),
    pytest.param([api_service(name="Dify_API")], {}, "services[0] (Dify_API).name",
                 "'Dify_API' is not a Kubernetes Service name", "lowercase letters, digits and '-'",
                 id="name-invalid-chars"),
    pytest.param([api_service(name="dify-api-")], {}, "services[0] (dify-api-).name",
                 "not a Kubernetes Service name", "ending with a letter or digit", id="name-trailing-dash"),
    pytest.param([api_service(name="a" * 61)], {}, "services[0] (%s).name" % ("a" * 61),
                 "not a Kubernetes Service name", "at most 60", id="name-61-chars"),
    pytest.param([api_service(namespace=DROP)], {}, API + ".namespace", "is required",
                 "give a namespace name", id="namespace-missing"),
    pytest.param([api_service(namespace="Dify")], {}, API + ".namespace", "'Dify' is not a namespace name",
                 "at most 63", id="namespace-uppercase"),
    pytest.param([api_service(namespace="n" * 64)], {}, API + ".namespace", "is not a namespace name",
                 "at most 63", id="namespace-64-chars"),
    # Hosts and gateways.
    pytest.param([api_service(hosts=[])], {}, API + ".hosts", "must be a non-empty list", "[dify-api]",
                 id="hosts-empty"),
    pytest.param([api_service(hosts="dify-api")], {}, API + ".hosts", "must be a non-empty list",
                 "[dify-api]", id="hosts-string"),
    pytest.param([api_service(hosts=["dify-api", "Bad_Host"])], {}, API + ".hosts[1]",
                 "'Bad_Host' is not valid", "dify-api", id="host-invalid"),
    pytest.param([api_service(gateways=["istio-ingress/Dify"])], {}, API + ".gateways[0]",
                 "is not valid", "istio-ingress/dify", id="gateway-invalid"),
    # Unknown keys, with a suggestion when one is close.
    pytest.param([api_service(weight={"v1": 100})], {}, API + ".weight", "unknown key",
                 "did you mean 'weights'?", id="service-key-typo"),
    pytest.param([api_service(trafic_policy={})], {}, API + ".trafic_policy", "unknown key",
                 "did you mean 'traffic_policy'?", id="service-key-typo-2"),
    pytest.param([api_service(zzz=1)], {}, API + ".zzz", "unknown key", "allowed keys: name, namespace",
                 id="service-key-unrelated"),
    pytest.param([api_service(routes=[{"name": "r", "matches": [], "weights": {"v1": 100}}])], {},
                 API + ".routes[0].matches", "unknown key", "did you mean 'match'?", id="route-key-typo"),
    pytest.param([api_service(traffic_policy={"loadbalancer": {}})], {}, API + ".traffic_policy.loadbalancer",
                 "unknown key", "did you mean 'loadBalancer'?", id="traffic-policy-key-typo"),
    # Routes: exactly one target.
    pytest.param([api_service(routes=[{"name": "r", "match": []}])], {}, API + ".routes[0]",
                 "needs exactly one of weights, route, redirect, directResponse, delegate, found none",
                 "give weights", id="route-no-target"),
    pytest.param([api_service(routes=[{"weights": {"v1": 100}, "redirect": {"uri": "/"}}])], {},
                 API + ".routes[0]", "found weights, redirect", "one Istio destination field",
                 id="route-weights-and-redirect"),
    pytest.param([api_service(routes=[{"weights": {"v1": 100}, "route": []}])], {}, API + ".routes[0]",
                 "found weights, route", "give weights", id="route-weights-and-route"),
    pytest.param([api_service(routes=[{"route": [], "delegate": {"name": "child"}}])], {},
                 API + ".routes[0]", "found route, delegate", "give weights", id="route-route-and-delegate"),
    pytest.param([api_service(routes=[{"name": "Testers", "weights": {"v1": 100}}])], {},
                 API + ".routes[0].name", "'Testers' is not a route name", "lowercase", id="route-name-invalid"),
    pytest.param([api_service(routes=[{"match": {"headers": {}}, "weights": {"v1": 100}}])], {},
                 API + ".routes[0].match", "must be a list of Istio HTTPMatchRequest", "x-version",
                 id="route-match-not-list"),
    pytest.param([api_service(routes=["testers"])], {}, API + ".routes[0]", "must be a mapping",
                 "name, match and weights", id="route-not-mapping"),
    pytest.param([api_service(routes={"testers": {}})], {}, API + ".routes", "must be a list",
                 "list of routes", id="routes-not-list"),
    pytest.param([api_service(traffic_policy="ROUND_ROBIN")], {}, API + ".traffic_policy",
                 "must be an Istio TrafficPolicy mapping", "ROUND_ROBIN", id="traffic-policy-not-mapping"),
    pytest.param(["dify-api"], {}, "services[0]", "must be a mapping", "name and namespace",
                 id="service-not-mapping"),
    pytest.param({"dify-api": {}}, {}, "services", "must be a list", "list of service entries",
                 id="services-not-list"),
    # One entry per Service, one VirtualService per host (IST0109).
    pytest.param([api_service(), api_service(weights={"v1": 100})], {}, "services[1] (dify-api)",
                 "declared twice (also services[0] (dify-api))", "merge the two entries", id="duplicate-service"),
    pytest.param([api_service(), web_service(hosts=["dify-api"])], {}, "services[1] (dify-web).hosts",
                 "host 'dify-api' is already routed by services[0] (dify-api) (IST0109)",
                 "one host from one VirtualService", id="host-routed-twice"),
    pytest.param([api_service(hosts=["api.example.com"]), web_service(hosts=["web", "api.example.com"])],
                 {}, "services[1] (dify-web).hosts", "'api.example.com' is already routed", "one host",
                 id="explicit-host-routed-twice"),
    # mTLS modes, namespaces and workloads.
    pytest.param([], {"mesh": "strict"}, "mtls.mesh", "mode 'strict' is not one of STRICT, PERMISSIVE",
                 "use one of STRICT, PERMISSIVE, DISABLE, UNSET", id="mesh-mode-lowercase"),
    pytest.param([], {"namespaces": {"dify": "ON"}}, "mtls.namespaces.dify", "mode 'ON' is not one of",
                 "use one of", id="namespace-mode-invalid"),
    pytest.param([], {"namespaces": {"Dify_NS": "STRICT"}}, "mtls.namespaces.Dify_NS",
                 "is not a namespace name", "lowercase", id="mtls-namespace-invalid"),
    pytest.param([], {"namespaces": ["dify"]}, "mtls.namespaces", "must be a mapping of namespace to mode",
                 "{dify: STRICT}", id="mtls-namespaces-list"),
    pytest.param([], {"namespace": {"dify": "STRICT"}}, "mtls.namespace", "unknown key",
                 "did you mean 'namespaces'?", id="mtls-key-typo"),
    pytest.param([], "STRICT", "mtls", "must be a mapping", "mesh, namespaces and/or workloads",
                 id="mtls-not-mapping"),
    pytest.param([], {"workloads": {"dify-sandbox": {}}}, "mtls.workloads", "must be a list",
                 "list of workload policies", id="workloads-not-list"),
    pytest.param([], {"workloads": ["dify-sandbox"]}, "mtls.workloads[0]", "must be a mapping",
                 "selector and mode", id="workload-not-mapping"),
    pytest.param([], {"workloads": [workload(name=DROP)]}, "mtls.workloads[0].name", "is required",
                 "PeerAuthentication name", id="workload-name-missing"),
    pytest.param([], {"workloads": [workload(namespace="Dify")]}, "mtls.workloads[0].namespace",
                 "not a namespace name", "lowercase", id="workload-namespace-invalid"),
    pytest.param([], {"workloads": [workload(selector={})]}, "mtls.workloads[0].selector",
                 "must be a non-empty mapping of pod labels", "{version: v1}", id="workload-selector-empty"),
    pytest.param([], {"workloads": [workload(selector=DROP)]}, "mtls.workloads[0].selector",
                 "non-empty mapping", "labels", id="workload-selector-missing"),
    pytest.param([], {"workloads": [workload(selectors={"app": "x"})]}, "mtls.workloads[0].selectors",
                 "unknown key", "did you mean 'selector'?", id="workload-key-typo"),
    pytest.param([], {"workloads": [workload(mode="ON")]}, "mtls.workloads[0].mode", "mode 'ON' is not one of",
                 "use one of", id="workload-mode-invalid"),
    pytest.param([], {"workloads": [workload(ports={0: "STRICT"})]}, "mtls.workloads[0].ports.0",
                 "not a port number", "from 1 to 65535", id="port-0"),
    pytest.param([], {"workloads": [workload(ports={65536: "STRICT"})]}, "mtls.workloads[0].ports.65536",
                 "not a port number", "from 1 to 65535", id="port-65536"),
    pytest.param([], {"workloads": [workload(ports={"http": "STRICT"})]}, "mtls.workloads[0].ports.http",
                 "not a port number", "from 1 to 65535", id="port-name"),
    pytest.param([], {"workloads": [workload(ports={8080: "OFF"})]}, "mtls.workloads[0].ports.8080",
                 "mode 'OFF' is not one of", "use one of", id="port-mode-invalid"),
    pytest.param([], {"workloads": [workload(ports=[8080])]}, "mtls.workloads[0].ports",
                 "must be a mapping of port number to mode", "{8080: PERMISSIVE}", id="ports-list"),
    pytest.param([], {"workloads": [workload(mode=DROP)]}, "mtls.workloads[0]", "sets neither mode nor ports",
                 "give a mode, port-level modes, or both", id="workload-neither"),
    pytest.param([], {"workloads": [workload(mode=DROP, ports={})]}, "mtls.workloads[0]",
                 "sets neither mode nor ports", "port-level modes", id="workload-empty-ports"),
    # A DestinationRule may not DISABLE TLS toward STRICT mTLS (KIA0207 / KIA0208).
    pytest.param([api_service(traffic_policy=disabled())], {"namespaces": {"dify": "STRICT"}},
                 API + ".traffic_policy.tls.mode",
                 "TLS is DISABLEd toward namespace 'dify' whose mTLS is STRICT (KIA0207)",
                 "use tls.mode ISTIO_MUTUAL, or make the namespace PERMISSIVE", id="disable-vs-namespace"),
    pytest.param([api_service(traffic_policy=disabled())], {"mesh": "STRICT"},
                 API + ".traffic_policy.tls.mode", "namespace 'dify' whose mTLS is STRICT (KIA0207)",
                 "ISTIO_MUTUAL", id="disable-vs-mesh"),
    pytest.param([api_service(traffic_policy=disabled())], {"mesh": "STRICT", "namespaces": {"dify": "UNSET"}},
                 API + ".traffic_policy.tls.mode", "KIA0207", "ISTIO_MUTUAL", id="disable-vs-mesh-via-unset"),
    pytest.param([api_service(subset_policies={"v2": disabled()})], {"namespaces": {"dify": "STRICT"}},
                 API + ".subset_policies.v2.tls.mode", "KIA0207", "ISTIO_MUTUAL", id="disable-in-subset-policy"),
    pytest.param([api_service(traffic_policy={"portLevelSettings": [
        {"port": {"number": 80}, "tls": {"mode": "ISTIO_MUTUAL"}},
        {"port": {"number": 5001}, "tls": {"mode": "DISABLE"}}]})], {"mesh": "STRICT"},
        API + ".traffic_policy.portLevelSettings[1].tls.mode", "KIA0207", "ISTIO_MUTUAL",
        id="disable-on-port"),
    pytest.param([api_service(subset_policies={"v2": {"portLevelSettings": [
        {"port": {"number": 5001}, "tls": {"mode": "DISABLE"}}]}})], {"namespaces": {"dify": "STRICT"}},
        API + ".subset_policies.v2.portLevelSettings[0].tls.mode", "KIA0207", "ISTIO_MUTUAL",
        id="disable-on-subset-port"),
    pytest.param([api_service(traffic_policy=disabled())],
                 {"workloads": [workload(name="api-strict", selector={"app": "dify-api"})]},
                 API + ".traffic_policy.tls.mode",
                 "TLS is DISABLEd toward workload 'api-strict' whose mTLS is STRICT (KIA0208)",
                 "use tls.mode ISTIO_MUTUAL, or relax that workload's mode", id="disable-vs-workload"),
    pytest.param([api_service(subset_policies={"v2": disabled()})],
                 {"workloads": [workload(name="v2-strict", selector={"app": "dify-api", "version": "v2"})]},
                 API + ".subset_policies.v2.tls.mode", "workload 'v2-strict'", "relax that workload's mode",
                 id="disable-vs-subset-workload"),
]


@pytest.mark.parametrize("services, mtls, where, problem, fix", BAD)
def test_rule_names_where_problem_and_fix(services, mtls, where, problem, fix):
    errors = schema.validate(services, mtls)
    at_where = [error for error in errors if error.where == where]
    assert at_where, "no error at %r among %r" % (where, errors)
    assert any(problem in error.problem and fix in error.fix for error in at_where), at_where


NOT_TOWARD_STRICT = [
    pytest.param({}, id="no-mtls"),
    pytest.param({"mesh": "PERMISSIVE"}, id="mesh-permissive"),
    pytest.param({"mesh": "STRICT", "namespaces": {"dify": "PERMISSIVE"}}, id="namespace-overrides-mesh"),
    pytest.param({"namespaces": {"other": "STRICT"}}, id="other-namespace-strict"),
    pytest.param({"workloads": [workload(selector={"app": "dify-web"})]}, id="workload-selects-other-app"),
    pytest.param({"workloads": [workload(namespace="other", selector={"app": "dify-api"})]},
                 id="workload-in-other-namespace"),
    pytest.param({"workloads": [workload(selector={"app": "dify-api"}, mode="PERMISSIVE")]},
                 id="workload-permissive"),
    pytest.param({"workloads": [workload(selector={"app": "dify-api", "version": "v3"})]},
                 id="workload-selects-undeclared-subset"),
]


@pytest.mark.parametrize("mtls", NOT_TOWARD_STRICT)
def test_disable_is_allowed_when_nothing_it_reaches_is_strict(mtls):
    assert schema.validate([api_service(traffic_policy=disabled())], mtls) == []


def test_istio_mutual_is_allowed_toward_strict():
    service = api_service(traffic_policy={"tls": {"mode": "ISTIO_MUTUAL"}})
    assert schema.validate([service], {"mesh": "STRICT"}) == []


def test_disable_toward_namespace_and_workload_reports_both():
    mtls = {"mesh": "STRICT", "workloads": [workload(name="api-strict", selector={"app": "dify-api"})]}
    problems = [e.problem for e in schema.validate([api_service(traffic_policy=disabled())], mtls)]
    assert len(problems) == 2
    assert "KIA0207" in problems[0] and "KIA0208" in problems[1]


def test_out_of_range_weights_do_not_also_report_a_sum():
    errors = schema.validate([api_service(weights={"v1": 150, "v2": -50})], {})
    assert [e.where for e in errors] == [API + ".weights.v1", API + ".weights.v2"]


def test_one_mistake_gives_exactly_one_error():
    assert len(schema.validate([api_service(weights={"v1": 90, "v2": 20})], {})) == 1


def test_every_mistake_is_reported_in_one_run():
    services = [api_service(weights={"v1": 90, "v2": 20}), web_service(namespace="Bad")]
    errors = schema.validate(services, {"mesh": "ON"})
    assert [e.where for e in errors] == [API + ".weights", "services[1] (dify-web).namespace", "mtls.mesh"]


def test_duplicate_service_reports_the_second_entry_only():
    wheres = [e.where for e in schema.validate([api_service(), api_service()], {})]
    assert "services[0] (dify-api)" not in wheres
    assert "services[1] (dify-api)" in wheres


def test_tls_rules_run_only_on_an_otherwise_valid_inventory():
    services = [api_service(traffic_policy=disabled(), namespace="Dify")]
    errors = schema.validate(services, {"mesh": "STRICT"})
    assert [e.where for e in errors] == [API + ".namespace"]


def test_unknown_key_without_a_close_match_lists_allowed_keys_only():
    [error] = schema.unknown_keys("x", {"zzz": 1}, ("name", "namespace"))
    assert error.fix == "allowed keys: name, namespace"


def test_unknown_key_suggestion_lists_allowed_keys_too():
    [error] = schema.unknown_keys("x", {"nmae": 1}, ("name", "namespace"))
    assert error.fix == "did you mean 'name'? Allowed keys: name, namespace"


MALFORMED = [
    pytest.param([api_service(hosts=[{"host": "dify-api"}])], {}, id="host-is-mapping"),
    pytest.param([api_service(name={"n": 1})], {}, id="name-is-mapping"),
    pytest.param([api_service(namespace=["dify"])], {}, id="namespace-is-list"),
    pytest.param([api_service(subset_policies="v2")], {}, id="subset-policies-string"),
    pytest.param([], {"namespaces": "dify"}, id="mtls-namespaces-string"),
    pytest.param([], {"workloads": "dify-sandbox"}, id="mtls-workloads-string"),
    pytest.param([], {"workloads": [workload(ports="8080")]}, id="workload-ports-string"),
    pytest.param([None, 3], None, id="entries-not-mappings"),
]


@pytest.mark.parametrize("services, mtls", MALFORMED)
def test_malformed_inventory_returns_errors_instead_of_raising(services, mtls):
    errors = schema.validate(services, mtls)
    assert errors
    assert all(isinstance(error, schema.ValidationError) for error in errors)


def test_scalar_tls_settings_do_not_break_the_strict_check():
    service = api_service(traffic_policy={"tls": "DISABLE", "portLevelSettings": ["5001", None]})
    assert schema.validate([service], {"mesh": "STRICT"}) == []


def test_describe_counts_and_lists_every_error():
    errors = [schema.ValidationError("services[0] (dify-api).weights", "weights sum to 90, not 100",
                                     "make the weights of one route add up to exactly 100"),
              schema.ValidationError("mtls.mesh", "mode 'ON' is not one of STRICT", "use one of STRICT")]
    assert schema.describe(errors) == (
        "2 problem(s) in the inventory; nothing was changed:\n"
        "- services[0] (dify-api).weights: weights sum to 90, not 100. "
        "Fix: make the weights of one route add up to exactly 100\n"
        "- mtls.mesh: mode 'ON' is not one of STRICT. Fix: use one of STRICT")


def test_validation_error_str_and_repr():
    error = schema.ValidationError("mtls.mesh", "bad", "do better")
    assert str(error) == "mtls.mesh: bad. Fix: do better"
    assert repr(error) == "ValidationError('mtls.mesh: bad. Fix: do better')"


@pytest.mark.parametrize("mtls, namespace, expected", [
    ({}, "dify", "PERMISSIVE"),
    ({"mesh": "STRICT"}, "dify", "STRICT"),
    ({"mesh": "STRICT", "namespaces": {"dify": "PERMISSIVE"}}, "dify", "PERMISSIVE"),
    ({"mesh": "STRICT", "namespaces": {"dify": "UNSET"}}, "dify", "STRICT"),
    ({"mesh": "UNSET", "namespaces": {"dify": "UNSET"}}, "dify", "PERMISSIVE"),
    ({"namespaces": {"dify": "DISABLE"}}, "dify", "DISABLE"),
    ({"namespaces": {"other": "STRICT"}}, "dify", "PERMISSIVE"),
])
def test_effective_namespace_mode(mtls, namespace, expected):
    assert schema.effective_namespace_mode(mtls, namespace) == expected


@pytest.mark.parametrize("value, kind, fragment", [
    (None, "a route name", "give a route name such as 'dify-api'"),
    ("", "a route name", "give a route name"),
    ("UPPER", "a route name", "use at most 63"),
])
def test_check_name_fix_names_the_kind_and_limit(value, kind, fragment):
    [error] = schema.check_name("routes[0].name", value, kind)
    assert error.where == "routes[0].name" and fragment in error.fix


def test_check_subsets_without_prefix_for_single_object_modules():
    errors = schema.check_subsets("", {"subsets": {"v1": {}}})
    assert [e.where for e in errors] == ["subsets.v1"]


@pytest.mark.parametrize("params, wheres", [
    ({"name": "dify-api-vs", "namespace": "dify"}, []),
    ({"name": "Dify_API", "namespace": "dify"}, ["name"]),
    ({"name": "dify-api-vs", "namespace": None}, ["namespace"]),
    ({"name": "", "namespace": "-dify"}, ["name", "namespace"]),
])
def test_check_metadata_names_the_option_and_the_kind(params, wheres):
    errors = schema.check_metadata(params, "VirtualService")
    assert [e.where for e in errors] == wheres
    if "name" in wheres:
        assert "a VirtualService name" in errors[0].fix + errors[0].problem
