# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report routing and the mTLS mode in effect, in a shape playbooks can print or assert on."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.difymesh.platform.plugins.module_utils import reconcile
from ansible_collections.difymesh.platform.plugins.module_utils.builder import (
    DESTINATION_RULE, MANAGED_BY, MANAGED_BY_LABEL, PEER_AUTHENTICATION, VIRTUAL_SERVICE)

ISTIO_DEFAULT_MODE = "PERMISSIVE"


def _managed(obj):
    return (obj["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY


def _route_report(http, index):
    return {
        "name": http.get("name", "route-%d" % index),
        "match": http.get("match", []),
        "destinations": [{"host": d.get("destination", {}).get("host"),
                          "subset": d.get("destination", {}).get("subset"),
                          "weight": d.get("weight", 100 if len(http.get("route", [])) == 1 else 0)}
                         for d in http.get("route") or []],
    }


def routing_report(virtual_services, destination_rules):
    """One entry per VirtualService: hosts, routes with their weights, and the subsets defined."""
    subsets = {}
    for rule in destination_rules:
        key = (rule["metadata"]["namespace"], rule["spec"].get("host"))
        subsets[key] = dict((s["name"], s.get("labels", {})) for s in rule["spec"].get("subsets") or [])
    report = []
    for service in sorted(virtual_services, key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"])):
        spec = service.get("spec", {})
        routes = [_route_report(http, i) for i, http in enumerate(spec.get("http") or [])]
        hosts = set(d["host"] for route in routes for d in route["destinations"])
        report.append({
            "name": service["metadata"]["name"], "namespace": service["metadata"]["namespace"],
            "managed": _managed(service), "hosts": spec.get("hosts", []),
            "gateways": spec.get("gateways", ["mesh"]), "routes": routes,
            "subsets": dict((h, subsets.get((service["metadata"]["namespace"], h), {})) for h in sorted(hosts)),
        })
    return report


def _mode(policy):
    return (policy.get("spec", {}).get("mtls") or {}).get("mode", "UNSET")


def _namespace_policy(policies, namespace):
    for policy in policies:
        if policy["metadata"]["namespace"] == namespace and not policy.get("spec", {}).get("selector"):
            return policy
    return None


def mtls_report(policies, namespaces, root_namespace):
    """Mesh mode, the effective mode per namespace and per selected workload."""
    mesh_policy = _namespace_policy(policies, root_namespace)
    mesh_mode = _mode(mesh_policy) if mesh_policy else "UNSET"
    mesh_effective = ISTIO_DEFAULT_MODE if mesh_mode == "UNSET" else mesh_mode
    report = {"mesh": mesh_effective, "namespaces": {}, "workloads": []}
    for namespace in sorted(namespaces):
        own = _namespace_policy(policies, namespace) if namespace != root_namespace else None
        declared = _mode(own) if own else "UNSET"
        report["namespaces"][namespace] = {
            "mode": mesh_effective if declared == "UNSET" else declared,
            "source": "namespace" if declared != "UNSET" else ("mesh" if mesh_mode != "UNSET" else "default"),
        }
    for policy in policies:
        selector = policy.get("spec", {}).get("selector")
        if not selector:
            continue
        namespace = policy["metadata"]["namespace"]
        inherited = report["namespaces"].get(namespace, {}).get("mode", mesh_effective)
        report["workloads"].append({
            "name": policy["metadata"]["name"], "namespace": namespace,
            "selector": selector.get("matchLabels", {}),
            "mode": inherited if _mode(policy) == "UNSET" else _mode(policy),
            "ports": dict((port, value.get("mode")) for port, value in
                          (policy["spec"].get("portLevelMtls") or {}).items()),
        })
    return report


def mesh_info(api, params):
    """Read VirtualServices, DestinationRules and PeerAuthentications, then summarise them."""
    namespaces = params["namespaces"] or api.list_namespaces()
    scopes = [None] if not params["namespaces"] else sorted(set(namespaces) | {params["istio_namespace"]})
    current = reconcile.read_current(api, (VIRTUAL_SERVICE, DESTINATION_RULE, PEER_AUTHENTICATION),
                                     scopes, params["concurrency"])
    by_kind = {}
    for (kind, _namespace, _name), obj in sorted(current.items()):
        by_kind.setdefault(kind, []).append(obj)
    return {
        "changed": False,
        "routing": routing_report(by_kind.get("VirtualService", []), by_kind.get("DestinationRule", [])),
        "mtls": mtls_report(by_kind.get("PeerAuthentication", []), namespaces, params["istio_namespace"]),
    }
