# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the Istio objects an inventory entry asks for. Pure functions, no cluster access."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.difymesh.platform.plugins.module_utils.schema import HTTP_ROUTE_FIELDS

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "difymesh"
# The collection's roles also label what they write as managed by difymesh (the Dify gateway's
# VirtualService, for one); this second label marks what the traffic modules own, so pruning
# never reaches another role's objects.
OWNER_LABEL = "difymesh.io/owner"
OWNER = "traffic"
FIELD_MANAGER = "difymesh"
DEFAULT_ROOT_NAMESPACE = "istio-system"

NETWORKING = "networking.istio.io/v1"
SECURITY = "security.istio.io/v1"


class Kind(object):
    """An Istio kind the collection writes, with its REST path."""

    def __init__(self, kind, api_version, plural, suffix=None):
        self.kind = kind
        self.api_version = api_version
        self.plural = plural
        self.suffix = suffix

    def collection_path(self, namespace=None):
        scope = "/namespaces/%s" % namespace if namespace else ""
        return "/apis/%s%s/%s" % (self.api_version, scope, self.plural)

    def object_path(self, namespace, name):
        return "%s/%s" % (self.collection_path(namespace), name)


VIRTUAL_SERVICE = Kind("VirtualService", NETWORKING, "virtualservices", "-vs")
DESTINATION_RULE = Kind("DestinationRule", NETWORKING, "destinationrules", "-dr")
PEER_AUTHENTICATION = Kind("PeerAuthentication", SECURITY, "peerauthentications")
KINDS = {k.kind: k for k in (VIRTUAL_SERVICE, DESTINATION_RULE, PEER_AUTHENTICATION)}


def envelope(kind, name, namespace, spec, labels=None):
    metadata = {"name": name, "namespace": namespace,
                "labels": dict(labels or {}, **{MANAGED_BY_LABEL: MANAGED_BY, OWNER_LABEL: OWNER})}
    return {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": metadata, "spec": spec}


def destinations(host, weights):
    """Istio HTTPRouteDestination list for a subset -> weight mapping."""
    if not weights:
        return [{"destination": {"host": host}}]
    return [{"destination": {"host": host, "subset": subset}, "weight": weight}
            for subset, weight in weights.items()]


def http_route(host, route):
    """One Istio HTTPRoute from a contract route: our shorthand plus Istio's own fields."""
    built = {}
    if route.get("name"):
        built["name"] = route["name"]
    if route.get("match"):
        built["match"] = copy.deepcopy(route["match"])
    if "weights" in route:
        built["route"] = destinations(host, route["weights"])
    for field in HTTP_ROUTE_FIELDS:
        if field in route:
            built[field] = copy.deepcopy(route[field])
    return built


def virtual_service_spec(service):
    host = service["name"]
    spec = {"hosts": list(service.get("hosts") or [host])}
    if service.get("gateways"):
        spec["gateways"] = list(service["gateways"])
    if service.get("http") is not None:
        spec["http"] = copy.deepcopy(service["http"])
        return spec
    http = [http_route(host, route) for route in service.get("routes") or []]
    default = {"name": "default", "route": destinations(host, service.get("weights"))}
    spec["http"] = http + [default]
    return spec


def virtual_service(service, name=None):
    return envelope(VIRTUAL_SERVICE, name or service["name"] + VIRTUAL_SERVICE.suffix,
                    service["namespace"], virtual_service_spec(service))


def destination_rule_spec(service, keep_subsets=None):
    """DestinationRule spec; keep_subsets adds subsets still in use during make-before-break."""
    spec = {"host": service.get("host") or service["name"]}
    if service.get("traffic_policy"):
        spec["trafficPolicy"] = copy.deepcopy(service["traffic_policy"])
    subsets = dict(keep_subsets or {})
    subsets.update(_subsets(service))
    if subsets:
        spec["subsets"] = list(subsets.values())
    return spec


def _subsets(service):
    policies = service.get("subset_policies") or {}
    built = {}
    for name, labels in (service.get("subsets") or {}).items():
        subset = {"name": name, "labels": dict(labels)}
        if name in policies:
            subset["trafficPolicy"] = copy.deepcopy(policies[name])
        built[name] = subset
    return built


def destination_rule(service, name=None, keep_subsets=None):
    return envelope(DESTINATION_RULE, name or service["name"] + DESTINATION_RULE.suffix,
                    service["namespace"], destination_rule_spec(service, keep_subsets))


def peer_authentication_spec(mode=None, selector=None, ports=None):
    spec = {}
    if selector:
        spec["selector"] = {"matchLabels": dict(selector)}
    if mode:
        spec["mtls"] = {"mode": mode}
    if ports:
        spec["portLevelMtls"] = {str(port): {"mode": value} for port, value in ports.items()}
    return spec


def peer_authentication(name, namespace, mode=None, selector=None, ports=None):
    return envelope(PEER_AUTHENTICATION, name, namespace,
                    peer_authentication_spec(mode, selector, ports))


def mtls_objects(mtls, root_namespace=DEFAULT_ROOT_NAMESPACE):
    """PeerAuthentications for the contract's mtls section: mesh, namespaces, workloads."""
    mtls = mtls or {}
    objects = []
    if mtls.get("mesh"):
        objects.append(peer_authentication("default", root_namespace, mtls["mesh"]))
    for namespace, mode in (mtls.get("namespaces") or {}).items():
        objects.append(peer_authentication("default", namespace, mode))
    for workload in mtls.get("workloads") or []:
        objects.append(peer_authentication(workload["name"], workload["namespace"],
                                           workload.get("mode"), workload["selector"],
                                           workload.get("ports")))
    return objects


def object_key(obj):
    metadata = obj["metadata"]
    return (obj["kind"], metadata["namespace"], metadata["name"])


def subsets_of(obj):
    """name -> subset of a DestinationRule object (empty for anything else)."""
    return {s["name"]: s for s in (obj or {}).get("spec", {}).get("subsets") or []}


def subsets_referenced(virtual_service_obj):
    """Subset names a VirtualService routes to."""
    names = set()
    for http in (virtual_service_obj or {}).get("spec", {}).get("http") or []:
        for route in http.get("route") or []:
            subset = route.get("destination", {}).get("subset")
            if subset:
                names.add(subset)
    return names
