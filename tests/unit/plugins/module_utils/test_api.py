"""REST calls and their retry policy, on a fake dynamic client."""

import copy
import json

import pytest
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ProtocolError

from ansible_collections.difymesh.platform.plugins.module_utils import api as api_module
from ansible_collections.difymesh.platform.plugins.module_utils import builder
from ansible_collections.difymesh.platform.plugins.module_utils.api import ApiNotServed, IstioApi, IstioApiError

VS = builder.VIRTUAL_SERVICE


class Response(object):
    def __init__(self, data):
        self.data = data


class Settings(object):
    user_agent = "OpenAPI-Generator/python"


def api_error(status, body=None):
    error = ApiException(status=status, reason="reason %d" % status)
    error.body = body
    return error


class FakeDynamicClient(object):
    """request() plays the given outcomes in turn: an exception is raised, anything else is the body."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.requests = []
        self.serialize = []
        self.client = Settings()

    def request(self, method, path, **params):
        self.serialize.append(params.pop("serialize", True))
        self.requests.append((method, path, copy.deepcopy(params)))
        # Like kubernetes.dynamic.DynamicClient.request, which appends to the caller's list.
        params.get("query_params", []).append(("fieldManager", params.get("field_manager")))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return Response(outcome)


def make_api(*outcomes, **kwargs):
    client = FakeDynamicClient(*outcomes)
    kwargs.setdefault("backoff", 0)
    return IstioApi(client, **kwargs), client


@pytest.fixture
def vs(gray_release):
    return builder.virtual_service(gray_release)


@pytest.mark.parametrize("status", [409, 429, 500, 502, 503, 504])
def test_apply_retries_transient_status(vs, status):
    api, client = make_api(api_error(status), api_error(status), b'{"kind": "VirtualService"}')
    assert api.apply(VS, vs) == {"kind": "VirtualService"}
    assert len(client.requests) == 3


def test_apply_gives_up_after_the_retries(vs):
    api, client = make_api(*[api_error(503)] * 3, retries=2)
    with pytest.raises(IstioApiError) as caught:
        api.apply(VS, vs)
    assert caught.value.status == 503 and len(client.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_apply_does_not_retry_other_status(vs, status):
    api, client = make_api(api_error(status), b"{}")
    with pytest.raises(IstioApiError):
        api.apply(VS, vs)
    assert len(client.requests) == 1


def test_unprocessable_reports_the_server_message(vs):
    body = json.dumps({"kind": "Status", "message": 'VirtualService "dify-api-vs" is invalid: spec.http: '
                       "weights must total 100", "code": 422})
    api, _client = make_api(api_error(422, body))
    with pytest.raises(IstioApiError) as caught:
        api.apply(VS, vs)
    assert str(caught.value) == ('apply VirtualService dify/dify-api-vs failed (HTTP 422): '
                                 'VirtualService "dify-api-vs" is invalid: spec.http: weights must total 100')


@pytest.mark.parametrize("body, message", [
    ("upstream connect error", "upstream connect error"),
    ('{"kind": "Status"}', '{"kind": "Status"}'),
    ('["not", "a", "mapping"]', '["not", "a", "mapping"]'),
])
def test_server_message_falls_back_to_the_raw_body(vs, body, message):
    api, _client = make_api(api_error(400, body))
    with pytest.raises(IstioApiError, match="failed \\(HTTP 400\\): " + message.replace("[", "\\[")):
        api.apply(VS, vs)


def test_server_message_without_body_uses_the_exception(vs):
    api, _client = make_api(api_error(403))
    with pytest.raises(IstioApiError, match=r"HTTP 403\): \(403\)\nReason: reason 403"):
        api.apply(VS, vs)


def test_delete_conflict_is_not_retried():
    api, client = make_api(api_error(409), b"{}")
    with pytest.raises(IstioApiError) as caught:
        api.delete(VS, "dify", "dify-api-vs", uid="uid-1")
    assert caught.value.status == 409 and len(client.requests) == 1


def test_delete_retries_server_errors():
    api, client = make_api(api_error(503), b'{"status": "Success"}')
    assert api.delete(VS, "dify", "dify-api-vs") == {"status": "Success"}
    assert len(client.requests) == 2


def test_delete_of_a_missing_object_is_none():
    api, _client = make_api(api_error(404))
    assert api.delete(VS, "dify", "dify-api-vs") is None


def test_get_of_a_missing_object_is_none():
    api, client = make_api(api_error(404))
    assert api.get(VS, "dify", "dify-api-vs") is None
    assert client.requests == [("GET", "/apis/networking.istio.io/v1/namespaces/dify/virtualservices/dify-api-vs",
                                {})]


def test_get_returns_the_decoded_object():
    api, _client = make_api(b'{"metadata": {"name": "dify-api-vs"}}')
    assert api.get(VS, "dify", "dify-api-vs") == {"metadata": {"name": "dify-api-vs"}}


def test_apply_of_a_missing_path_raises(vs):
    api, _client = make_api(api_error(404))
    with pytest.raises(IstioApiError) as caught:
        api.apply(VS, vs)
    assert caught.value.status == 404


@pytest.mark.parametrize("error", [ConnectionResetError("reset by peer"),
                                   ProtocolError("Connection aborted.", ConnectionResetError(104))])
def test_connection_errors_are_retried(vs, error):
    api, client = make_api(error, b"{}")
    assert api.apply(VS, vs) == {}
    assert len(client.requests) == 2


def test_connection_errors_give_up_after_the_retries(vs):
    api, _client = make_api(*[ConnectionResetError("reset by peer")] * 2, retries=1)
    with pytest.raises(IstioApiError, match=r"failed \(HTTP n/a\): reset by peer"):
        api.apply(VS, vs)


def test_backoff_doubles_between_attempts(vs, monkeypatch):
    pauses = []
    monkeypatch.setattr(api_module.time, "sleep", pauses.append)
    api, _client = make_api(*[api_error(429)] * 3 + [b"{}"], backoff=0.2)
    api.apply(VS, vs)
    assert pauses == pytest.approx([0.2, 0.4, 0.8])


def test_apply_is_a_forced_server_side_apply_with_strict_validation(vs):
    api, client = make_api(b"{}")
    api.apply(VS, vs)
    [(method, path, params)] = client.requests
    assert (method, path) == ("PATCH", "/apis/networking.istio.io/v1/namespaces/dify/virtualservices/dify-api-vs")
    assert json.loads(params.pop("body")) == vs
    assert params == {"content_type": "application/apply-patch+yaml", "field_manager": "difymesh",
                      "force_conflicts": True, "query_params": [("fieldValidation", "Strict")]}


def test_retries_send_the_same_query_parameters(vs):
    api, client = make_api(api_error(409), api_error(503), b"{}")
    api.apply(VS, vs)
    assert [p["query_params"] for _method, _path, p in client.requests] == [[("fieldValidation", "Strict")]] * 3


def test_delete_with_uid_sends_a_precondition():
    api, client = make_api(b"{}")
    api.delete(VS, "dify", "dify-api-vs", uid="5d7c")
    [(method, path, params)] = client.requests
    assert method == "DELETE" and path.endswith("/namespaces/dify/virtualservices/dify-api-vs")
    assert params["body"] == {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "5d7c"}}


def test_every_request_asks_for_plain_json(vs):
    api, client = make_api(api_error(503), b"{}", b'{"items": []}')
    api.apply(VS, vs)
    api.list(VS, "dify")
    assert client.serialize == [False, False, False]


def test_delete_without_uid_sends_no_body():
    api, client = make_api(b"{}")
    api.delete(VS, "dify", "dify-api-vs")
    assert client.requests[0][2] == {"body": None}


def test_list_adds_api_version_and_kind_to_items():
    api, client = make_api(b'{"items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]}')
    items = api.list(VS, "dify", label_selector="app.kubernetes.io/managed-by=difymesh")
    assert items == [{"metadata": {"name": n}, "apiVersion": "networking.istio.io/v1", "kind": "VirtualService"}
                     for n in ("a", "b")]
    assert client.requests == [("GET", "/apis/networking.istio.io/v1/namespaces/dify/virtualservices",
                                {"label_selector": "app.kubernetes.io/managed-by=difymesh"})]


def test_list_without_namespace_is_cluster_wide():
    api, client = make_api(b'{"items": []}')
    assert api.list(builder.PEER_AUTHENTICATION) == []
    assert client.requests[0][1] == "/apis/security.istio.io/v1/peerauthentications"


def test_list_of_an_unserved_kind_says_the_crds_are_missing():
    api, _client = make_api(api_error(404))
    with pytest.raises(ApiNotServed, match="are the Istio CRDs installed") as caught:
        api.list(VS, "dify")
    assert caught.value.status == 404
    assert caught.value.api_version == "networking.istio.io/v1"
    assert isinstance(caught.value, IstioApiError)


@pytest.mark.parametrize("outcome, exists", [(b'{"metadata": {"name": "dify"}}', True), (api_error(404), False)])
def test_namespace_exists(outcome, exists):
    api, client = make_api(outcome)
    assert api.namespace_exists("dify") is exists
    assert client.requests[0][:2] == ("GET", "/api/v1/namespaces/dify")


def test_list_namespaces_returns_names():
    api, _client = make_api(b'{"items": [{"metadata": {"name": "default"}}, {"metadata": {"name": "dify"}}]}')
    assert api.list_namespaces() == ["default", "dify"]


def test_empty_response_body_is_none():
    api, _client = make_api(b"")
    assert api.get(VS, "dify", "x") is None


def test_user_agent_is_set_on_the_client():
    client = FakeDynamicClient()
    IstioApi(client, user_agent="difymesh.platform/0.1.0")
    assert client.client.user_agent == "difymesh.platform/0.1.0"


def test_istio_api_error_text_and_status():
    error = IstioApiError("delete", "VirtualService dify/x", 409, "uid precondition failed")
    assert str(error) == "delete VirtualService dify/x failed (HTTP 409): uid precondition failed"
    assert error.status == 409


def test_a_schema_mismatch_answered_with_500_is_not_retried(vs):
    body = json.dumps({"kind": "Status", "code": 500, "message": "failed to create typed patch object "
                       "(dify/dify-api-vs): .spec.htp: field not declared in schema"})
    api, client = make_api(api_error(500, body), b"{}")
    with pytest.raises(IstioApiError, match=r"HTTP 500\): failed to create typed patch object"):
        api.apply(VS, vs)
    assert len(client.requests) == 1


OPENAPI = {"components": {"schemas": {
    "io.istio.networking.v1.VirtualService": {
        "properties": {"spec": {"type": "object", "properties": {"hosts": {"type": "array"}}}},
        "x-kubernetes-group-version-kind": [{"group": "networking.istio.io", "kind": "VirtualService",
                                             "version": "v1"}]},
    "io.istio.networking.v1.DestinationRule": {
        "properties": {"spec": {"type": "object", "properties": {"host": {"type": "string"}}}},
        "x-kubernetes-group-version-kind": [{"group": "networking.istio.io", "kind": "DestinationRule",
                                             "version": "v1"}]}}}}


def test_spec_schemas_of_one_group_version_take_one_read():
    api, client = make_api(json.dumps(OPENAPI).encode())
    assert api.spec_schema(VS) == {"type": "object", "properties": {"hosts": {"type": "array"}}}
    assert api.spec_schema(builder.DESTINATION_RULE)["properties"] == {"host": {"type": "string"}}
    assert client.requests == [("GET", "/openapi/v3/apis/networking.istio.io/v1", {})]


def test_an_unreadable_schema_warns_and_leaves_the_check_to_the_server():
    warnings = []
    api, client = make_api(api_error(403), warn=warnings.append)
    assert api.spec_schema(VS) is None
    assert api.spec_schema(builder.DESTINATION_RULE) is None
    assert len(client.requests) == 1
    assert len(warnings) == 1
    assert warnings[0].startswith("read the OpenAPI schema of networking.istio.io/v1 failed (HTTP 403)")
    assert warnings[0].endswith("; Istio's fields are then checked by the API server alone, as each object is written")
