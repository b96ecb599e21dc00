"""Checking a spec against the cluster's OpenAPI v3 schema: what is refused and what passes."""

import pytest

from ansible_collections.difymesh.platform.plugins.module_utils import openapi

# A cut-down DestinationRule spec in the shape the API server publishes for Istio's CRDs.
SPEC = {
    "type": "object",
    "required": ["host"],
    "properties": {
        "host": {"type": "string"},
        "exportTo": {"type": "array", "items": {"type": "string"}},
        "trafficPolicy": {"type": "object", "properties": {
            "loadBalancer": {"type": "object", "properties": {
                "simple": {"type": "string", "enum": ["UNSPECIFIED", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN",
                                                      "LEAST_REQUEST", "LEAST_CONN"]},
                "warmupDurationSecs": {"type": "string"}}},
            "connectionPool": {"type": "object", "properties": {
                "tcp": {"type": "object", "properties": {
                    "maxConnections": {"type": "integer", "format": "int32"},
                    "tcpKeepalive": {"type": "object", "nullable": True, "properties": {
                        "probes": {"type": "integer", "maximum": 4294967295, "minimum": 0}}}}},
                "http": {"type": "object", "properties": {
                    "useClientProtocol": {"type": "boolean"}}}}},
            "outlierDetection": {"type": "object", "properties": {
                "maxEjectionPercent": {"type": "integer"},
                "minHealthPercent": {"type": "number"}}},
            "portLevelSettings": {"type": "array", "items": {"type": "object", "properties": {
                "port": {"type": "object", "properties": {"number": {"type": "integer"}}}}}}}},
        "subsets": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}}}}},
        "workloadSelector": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "targetPort": {"x-kubernetes-int-or-string": True},
        "anything": {},
    },
}


def good_spec():
    return {"host": "dify-api", "trafficPolicy": {"loadBalancer": {"simple": "ROUND_ROBIN"}},
            "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}


@pytest.mark.parametrize("change", [
    {},
    {"trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 100}, "http": {"useClientProtocol": True}}}},
    {"trafficPolicy": {"connectionPool": {"tcp": {"tcpKeepalive": None}}}},
    {"trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 100.0}}}},
    {"trafficPolicy": {"outlierDetection": {"minHealthPercent": 50, "maxEjectionPercent": 100}}},
    {"trafficPolicy": {"outlierDetection": {"minHealthPercent": 12.5}}},
    {"exportTo": ["."]},
    {"workloadSelector": {"matchLabels": {"app": "x"}, "future": [1, 2]}},
    {"targetPort": 8080},
    {"targetPort": "http"},
    {"anything": {"deep": ["x", 1, {"y": None}]}},
    {"trafficPolicy": None},
])
def test_what_the_server_accepts_passes(change):
    spec = dict(good_spec(), **change)
    assert openapi.check(spec, SPEC, "DestinationRule dify/dify-api-dr spec") == []


@pytest.mark.parametrize("change, where, problem, fix", [
    ({"trafficPolicy": {"loadBalancer": {"simpel": "ROUND_ROBIN"}}},
     "spec.trafficPolicy.loadBalancer.simpel", "is not a field of Istio's API here",
     "did you mean 'simple'? fields here: simple, warmupDurationSecs"),
    ({"trafficPolicy": {"conectionPool": {}}},
     "spec.trafficPolicy.conectionPool", "is not a field of Istio's API here", "did you mean 'connectionPool'?"),
    ({"trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": "lots"}}}},
     "spec.trafficPolicy.connectionPool.tcp.maxConnections", "is a string, not an integer",
     "write an integer here"),
    ({"trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 1.5}}}},
     "spec.trafficPolicy.connectionPool.tcp.maxConnections", "is a number, not an integer", "write an integer"),
    ({"trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": True}}}},
     "spec.trafficPolicy.connectionPool.tcp.maxConnections", "is a boolean, not an integer", "write an integer"),
    ({"trafficPolicy": {"connectionPool": {"http": {"useClientProtocol": "yes"}}}},
     "spec.trafficPolicy.connectionPool.http.useClientProtocol", "is a string, not a boolean (true/false)",
     "write a boolean"),
    ({"trafficPolicy": {"outlierDetection": {"minHealthPercent": "50%"}}},
     "spec.trafficPolicy.outlierDetection.minHealthPercent", "is a string, not a number", "write a number"),
    ({"trafficPolicy": {"loadBalancer": {"simple": "ROUND_ROBN"}}},
     "spec.trafficPolicy.loadBalancer.simple", "'ROUND_ROBN' is not one of the values Istio accepts",
     "did you mean 'ROUND_ROBIN'? use one of: UNSPECIFIED, RANDOM"),
    ({"trafficPolicy": {"loadBalancer": "ROUND_ROBIN"}},
     "spec.trafficPolicy.loadBalancer", "is a string, not an object", "write an object here"),
    ({"exportTo": "."}, "spec.exportTo", "is a string, not a list", "write a list"),
    ({"exportTo": [".", 7]}, "spec.exportTo[1]", "is an integer, not a string", "write a string"),
    ({"subsets": [{"labels": {"version": "v1"}}]}, "spec.subsets[0].name", "is required by Istio's API", "set it"),
    ({"subsets": [{"name": "v1", "labels": {"version": 1}}]}, "spec.subsets[0].labels.version",
     "is an integer, not a string", "write a string"),
    ({"trafficPolicy": {"portLevelSettings": [{"port": {"numbr": 80}}]}},
     "spec.trafficPolicy.portLevelSettings[0].port.numbr", "is not a field", "did you mean 'number'?"),
    ({"targetPort": 80.5}, "spec.targetPort", "is a number, not an integer or a string", "write an integer or"),
])
def test_what_the_server_rejects_is_named_with_its_fix(change, where, problem, fix):
    spec = dict(good_spec(), **change)
    errors = openapi.check(spec, SPEC, "DestinationRule dify/dify-api-dr spec")
    assert len(errors) == 1
    assert errors[0].where == "DestinationRule dify/dify-api-dr " + where
    assert errors[0].problem.startswith(problem)
    assert fix in errors[0].fix


def test_missing_required_field_and_every_other_mistake_are_reported_together():
    spec = {"trafficPolicy": {"loadBalancer": {"simpel": "RANDOM"}, "outlierDetection": {"maxEjectionPercent": "x"}}}
    wheres = sorted(error.where for error in openapi.check(spec, SPEC, "spec"))
    assert wheres == ["spec.host", "spec.trafficPolicy.loadBalancer.simpel",
                      "spec.trafficPolicy.outlierDetection.maxEjectionPercent"]


def test_no_schema_or_a_reference_checks_nothing():
    assert openapi.check({"whatever": 1}, None, "spec") == []
    assert openapi.check({"whatever": 1}, {"$ref": "#/components/schemas/x"}, "spec") == []


def document(*components):
    return {"components": {"schemas": dict(("io.istio.%d" % number, component)
                                           for number, component in enumerate(components))}}


def component(group, version, kind, spec):
    return {"type": "object", "properties": {"spec": spec},
            "x-kubernetes-group-version-kind": [{"group": group, "kind": kind, "version": version}]}


def test_spec_schema_is_found_by_group_version_and_kind():
    served = document({"type": "object", "description": "a kind of the core group, without the mark"},
                      component("networking.istio.io", "v1", "VirtualService", {"type": "object"}),
                      component("networking.istio.io", "v1", "DestinationRule", SPEC))
    assert openapi.spec_schemas(served, "networking.istio.io/v1")["DestinationRule"] is SPEC
    assert openapi.spec_schemas(served, "networking.istio.io/v1").get("Gateway") is None
    assert openapi.spec_schemas(served, "networking.istio.io/v1beta1").get("DestinationRule") is None
    assert openapi.spec_schemas(None, "networking.istio.io/v1").get("DestinationRule") is None
