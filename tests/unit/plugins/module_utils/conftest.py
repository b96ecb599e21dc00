"""Shared fixtures: sample inventory entries, server-shaped objects and an in-memory Istio API."""

import copy

import pytest

from ansible_collections.difymesh.platform.plugins.module_utils.api import ApiNotServed
from ansible_collections.difymesh.platform.plugins.module_utils.builder import FIELD_MANAGER


def _fields_of(value):
    """FieldsV1 of a value as the API server records it for a CRD: maps are granular, lists atomic."""
    if isinstance(value, dict):
        tree = {".": {}}
        tree.update(("f:%s" % key, _fields_of(item)) for key, item in value.items())
        return tree
    return {}


def applied_fields(obj):
    """The FieldsV1 tree an apply of `obj` gives its field manager."""
    metadata = {}
    for section in ("labels", "annotations"):
        if obj["metadata"].get(section):
            metadata["f:" + section] = _fields_of(obj["metadata"][section])
    tree = {"f:metadata": metadata} if metadata else {}
    tree.update(("f:%s" % key, _fields_of(value)) for key, value in obj.items()
                if key not in ("apiVersion", "kind", "metadata"))
    return tree


def served(obj, manager=FIELD_MANAGER, uid="uid-1", resource_version="100"):
    """`obj` as the server returns it after `manager` applied it: bookkeeping and status added."""
    stored = copy.deepcopy(obj)
    stored["metadata"].update({
        "uid": uid, "resourceVersion": resource_version, "generation": 1,
        "creationTimestamp": "2024-05-01T10:00:00Z",
        "managedFields": [{"manager": manager, "operation": "Apply", "apiVersion": obj["apiVersion"],
                           "fieldsType": "FieldsV1", "fieldsV1": applied_fields(obj)}],
    })
    stored["status"] = {"observedGeneration": 1}
    return stored


class FakeApi(object):
    """An in-memory stand-in for IstioApi: stores objects by key and records every call."""

    def __init__(self, namespaces=("dify", "istio-system")):
        self.namespaces = set(namespaces)
        self.objects = {}
        self.calls = []
        self.failures = {}
        self.schemas = {}
        self.schema_reads = []
        self.unserved = set()  # API versions the cluster does not serve (their CRDs are missing)
        self.warnings = []
        self._counter = 0

    def seed(self, obj, manager=FIELD_MANAGER):
        """Put an object in the cluster as if `manager` applied it, without recording a call."""
        stored = served(obj, manager, uid="seed-%s" % obj["metadata"]["name"])
        self.objects[self._key(obj)] = stored
        return stored

    def fail(self, verb, name, error=None):
        self.failures[(verb, name)] = error or RuntimeError("%s %s refused" % (verb, name))

    @staticmethod
    def _key(obj):
        return (obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"])

    def _maybe_fail(self, verb, name):
        if (verb, name) in self.failures:
            raise self.failures[(verb, name)]

    @property
    def writes(self):
        return [call for call in self.calls if call[0] in ("apply", "delete")]

    def warn(self, message):
        self.warnings.append(message)

    def list(self, kind, namespace=None):
        self.calls.append(("list", kind.kind, namespace))
        if kind.api_version in self.unserved:
            raise ApiNotServed("list", kind.plural, kind.api_version)
        return [copy.deepcopy(obj) for key, obj in sorted(self.objects.items())
                if key[0] == kind.kind and namespace in (None, key[1])]

    def get(self, kind, namespace, name):
        self.calls.append(("get", kind.kind, namespace, name))
        return copy.deepcopy(self.objects.get((kind.kind, namespace, name)))

    def namespace_exists(self, namespace):
        self.calls.append(("namespace_exists", namespace))
        return namespace in self.namespaces

    def spec_schema(self, kind):
        # Kept apart from calls: it is a read of the API's schema, not of the objects.
        self.schema_reads.append(kind.kind)
        return self.schemas.get(kind.kind)

    def list_namespaces(self):
        self.calls.append(("list_namespaces",))
        return sorted(self.namespaces)

    def apply(self, kind, obj):
        metadata = obj["metadata"]
        self.calls.append(("apply", kind.kind, metadata["namespace"], metadata["name"]))
        self._maybe_fail("apply", metadata["name"])
        self._counter += 1
        stored = served(obj, uid="uid-%s" % metadata["name"], resource_version=str(200 + self._counter))
        self.objects[self._key(obj)] = stored
        return copy.deepcopy(stored)

    def delete(self, kind, namespace, name, uid=None):
        self.calls.append(("delete", kind.kind, namespace, name, uid))
        self._maybe_fail("delete", name)
        self.objects.pop((kind.kind, namespace, name), None)


@pytest.fixture
def fake_api():
    return FakeApi()


@pytest.fixture
def server():
    """served(obj, manager=..., ...) as a fixture, for building cluster-side objects in tests."""
    return served


@pytest.fixture
def gray_release():
    """The Dify API in a gray release: testers reach v2, 10% of everyone else too."""
    return {
        "name": "dify-api",
        "namespace": "dify",
        "subsets": {"v1": {"version": "v1"}, "v2": {"version": "v2"}},
        "weights": {"v1": 90, "v2": 10},
        "routes": [{"name": "testers", "match": [{"headers": {"x-version": {"exact": "v2"}}}],
                    "weights": {"v2": 100}}],
        "traffic_policy": {"loadBalancer": {"simple": "ROUND_ROBIN"}},
    }


@pytest.fixture
def plain_service():
    """The smallest valid entry: no subsets, all traffic to the Service."""
    return {"name": "dify-web", "namespace": "dify"}


@pytest.fixture
def strict_mtls():
    return {"mesh": "STRICT",
            "namespaces": {"legacy": "PERMISSIVE"},
            "workloads": [{"name": "dify-sandbox", "namespace": "dify",
                           "selector": {"app": "dify-sandbox"}, "mode": "STRICT",
                           "ports": {8194: "PERMISSIVE"}}]}
