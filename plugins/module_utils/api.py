# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""REST calls for the Istio kinds we manage, on kubernetes.core's API client.

Paths are known in advance, so no discovery is needed per object. Retries with backoff
for conflicts and transient failures live here and nowhere else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import time

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:  # reported by AnsibleK8SModule's requirement check
    class ApiException(Exception):
        """Stands in when the kubernetes library is missing; never raised."""

        status = None
        body = None

try:
    from urllib3.exceptions import HTTPError as TransportError
except ImportError:
    TransportError = OSError

from ansible_collections.difymesh.platform.plugins.module_utils import openapi
from ansible_collections.difymesh.platform.plugins.module_utils.builder import FIELD_MANAGER

RETRY_STATUS = frozenset((409, 429, 500, 502, 503, 504))
# Server-side apply answers 500 when the applied object does not fit the schema; that answer
# never changes, so retrying it only delays the error.
SCHEMA_MISMATCH = "failed to create typed patch object"
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"


class IstioApiError(Exception):
    """An API failure with the object it concerns and the server's own message."""

    def __init__(self, action, target, status, message):
        self.status = status
        super(IstioApiError, self).__init__("%s %s failed (HTTP %s): %s" % (action, target, status, message))


class ApiNotServed(IstioApiError):
    """The cluster does not serve a kind's API group version: its CRD is not installed."""

    def __init__(self, action, target, api_version):
        self.api_version = api_version
        super(ApiNotServed, self).__init__(action, target, 404, "the %s API is not served; are the Istio "
                                           "CRDs installed?" % api_version)


def _server_message(error):
    try:
        return json.loads(error.body).get("message", error.body)
    except (TypeError, ValueError, AttributeError):
        return getattr(error, "body", None) or str(error)


def _retryable(error, method):
    if error.status not in RETRY_STATUS:
        return False
    # A 409 on DELETE is a failed uid precondition: retrying cannot help.
    if error.status == 409 and method == "DELETE":
        return False
    return SCHEMA_MISMATCH not in str(getattr(error, "body", None) or "")


class IstioApi(object):
    """List, apply and delete Istio objects with retries, counting the requests made."""

    def __init__(self, dynamic_client, retries=5, backoff=0.2, user_agent=None, connections=None, warn=None):
        self.client = dynamic_client
        self.retries = retries
        self.backoff = backoff
        self.warn = warn or (lambda message: None)
        self._spec_schemas = {}  # api_version -> kind -> spec schema, read once
        if user_agent:
            dynamic_client.client.user_agent = user_agent
        if connections:
            self._keep_connections(connections)

    def _keep_connections(self, count):
        """Keep as many TLS connections open as requests may run at once.

        urllib3 otherwise opens, handshakes and throws away a connection for every request
        beyond its pool size, which costs more than the request itself."""
        pool_manager = getattr(getattr(self.client.client, "rest_client", None), "pool_manager", None)
        if pool_manager is not None and pool_manager.connection_pool_kw.get("maxsize", 1) < count:
            pool_manager.connection_pool_kw["maxsize"] = count
            pool_manager.clear()

    def _call(self, action, target, method, path, **params):
        """One request with retries; returns the decoded JSON body (None for 404 on GET/DELETE)."""
        attempt = 0
        while True:
            try:
                # A fresh copy each attempt: DynamicClient.request appends to query_params.
                # serialize=False: plain JSON, not the dynamic client's slower ResourceInstance.
                response = self.client.request(method, path, serialize=False, **copy.deepcopy(params))
                return json.loads(response.data or b"null")
            except ApiException as error:
                if error.status == 404 and method in ("GET", "DELETE"):
                    return None
                if not _retryable(error, method) or attempt >= self.retries:
                    raise IstioApiError(action, target, error.status, _server_message(error))
            except (OSError, ValueError, TransportError) as error:  # connection resets, timeouts
                if attempt >= self.retries:
                    raise IstioApiError(action, target, "n/a", str(error))
            time.sleep(self.backoff * (2 ** attempt))
            attempt += 1

    def list(self, kind, namespace=None, label_selector=None):
        target = "%s in %s" % (kind.plural, namespace or "all namespaces")
        body = self._call("list", target, "GET", kind.collection_path(namespace),
                          label_selector=label_selector)
        if body is None:
            raise ApiNotServed("list", target, kind.api_version)
        return [dict(item, apiVersion=kind.api_version, kind=kind.kind) for item in body["items"]]

    def get(self, kind, namespace, name):
        return self._call("get", "%s %s/%s" % (kind.kind, namespace, name), "GET",
                          kind.object_path(namespace, name))

    def apply(self, kind, obj):
        metadata = obj["metadata"]
        return self._call("apply", "%s %s/%s" % (kind.kind, metadata["namespace"], metadata["name"]),
                          "PATCH", kind.object_path(metadata["namespace"], metadata["name"]),
                          body=json.dumps(obj), content_type=APPLY_CONTENT_TYPE,
                          field_manager=FIELD_MANAGER, force_conflicts=True,
                          query_params=[("fieldValidation", "Strict")])

    def spec_schema(self, kind):
        """The spec schema the cluster serves for kind, or None when it cannot be read.

        The OpenAPI v3 documents are readable by every authenticated user, unlike the
        CustomResourceDefinitions; one document serves all the kinds of a group version."""
        if kind.api_version not in self._spec_schemas:
            document = self._openapi_document(kind.api_version)
            self._spec_schemas[kind.api_version] = openapi.spec_schemas(document, kind.api_version)
        return self._spec_schemas[kind.api_version].get(kind.kind)

    def _openapi_document(self, api_version):
        try:
            return self._call("read", "the OpenAPI schema of %s" % api_version, "GET",
                              "/openapi/v3/apis/%s" % api_version)
        except IstioApiError as error:
            self.warn("%s; Istio's fields are then checked by the API server alone, as each object is written"
                      % error)
            return None

    def namespace_exists(self, namespace):
        return self._call("get", "namespace %s" % namespace, "GET",
                          "/api/v1/namespaces/%s" % namespace) is not None

    def list_namespaces(self):
        body = self._call("list", "namespaces", "GET", "/api/v1/namespaces")
        return [item["metadata"]["name"] for item in body["items"]]

    def delete(self, kind, namespace, name, uid=None):
        """Delete one object; with uid, only the very object that was read."""
        body = None
        if uid:
            body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": uid}}
        return self._call("delete", "%s %s/%s" % (kind.kind, namespace, name), "DELETE",
                          kind.object_path(namespace, name), body=body)
