# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The traffic and mTLS inventory contract: its shape and every rule checked before a write.

Every check returns ValidationError objects instead of raising, so that one run reports
every mistake in the inventory at once. Nothing here talks to a cluster.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
HOST = re.compile(r"^(\*|(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$")
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                       r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

MTLS_MODES = ("STRICT", "PERMISSIVE", "DISABLE", "UNSET")
SERVICE_KEYS = ("name", "namespace", "hosts", "gateways", "subsets", "weights", "routes",
                "traffic_policy", "subset_policies")
ROUTE_KEYS_OURS = ("name", "match", "weights")
# HTTPRoute fields of Istio's networking/v1 API, accepted as written in a route entry.
HTTP_ROUTE_FIELDS = ("route", "redirect", "directResponse", "delegate", "rewrite", "timeout",
                     "retries", "fault", "mirror", "mirrors", "mirrorPercentage", "corsPolicy",
                     "headers")
ROUTE_TARGETS = ("weights", "route", "redirect", "directResponse", "delegate")
TRAFFIC_POLICY_FIELDS = ("loadBalancer", "connectionPool", "outlierDetection", "tls",
                         "portLevelSettings", "tunnel", "proxyProtocol", "retryBudget")
MTLS_KEYS = ("mesh", "namespaces", "workloads")
WORKLOAD_KEYS = ("name", "namespace", "selector", "mode", "ports")
MAX_NAME = 63


class ValidationError(object):
    """One mistake in the inventory: where it is, what is wrong and how to fix it."""

    def __init__(self, where, problem, fix):
        self.where = where
        self.problem = problem
        self.fix = fix

    def __str__(self):
        return "%s: %s. Fix: %s" % (self.where, self.problem, self.fix)

    def __repr__(self):
        return "ValidationError(%r)" % str(self)


def describe(errors):
    """One message listing every error, for fail_json."""
    lines = ["%d problem(s) in the inventory; nothing was changed:" % len(errors)]
    lines.extend("- %s" % error for error in errors)
    return "\n".join(lines)


def did_you_mean(value, choices):
    """"did you mean 'x'? " for the closest choice, or "" when none is close."""
    close = difflib.get_close_matches(value, choices, n=1)
    return "did you mean '%s'? " % close[0] if close else ""


def _suggest(key, allowed):
    hint = did_you_mean(key, allowed)
    return hint + ("Allowed keys: %s" if hint else "allowed keys: %s") % ", ".join(allowed)


def unknown_keys(where, value, allowed):
    return [ValidationError("%s.%s" % (where, key), "unknown key", _suggest(key, allowed))
            for key in value if key not in allowed]


def check_name(where, value, kind="a Kubernetes name", max_length=MAX_NAME):
    if not isinstance(value, str) or not value:
        return [ValidationError(where, "is required and must be a string",
                                "give %s such as 'dify-api'" % kind)]
    if len(value) > max_length or not DNS_LABEL.match(value):
        return [ValidationError(where, "'%s' is not %s" % (value, kind),
                                "use at most %d lowercase letters, digits and '-', starting and "
                                "ending with a letter or digit" % max_length)]
    return []


def check_metadata(params, kind):
    """The name and namespace options of a single-object module."""
    return (check_name("name", params["name"], "a %s name" % kind)
            + check_name("namespace", params["namespace"], "a namespace name"))


def _check_labels(where, labels, required=True):
    if not isinstance(labels, dict) or (required and not labels):
        return [ValidationError(where, "must be a non-empty mapping of pod labels",
                                "give labels such as {version: v1} (KIA0209)")]
    errors = []
    for key, value in labels.items():
        if not _valid_label(key, value):
            errors.append(ValidationError("%s.%s" % (where, key), "'%s: %s' is not a valid label" % (
                key, value), "use a label key and a quoted string value of at most 63 characters"))
    return errors


def _valid_label(key, value):
    """A Kubernetes label: optional DNS prefix (253) and a name (63); a value of at most 63."""
    key = str(key)
    prefix, _slash, name = key.rpartition("/")
    return (bool(LABEL_KEY.match(key)) and len(prefix) <= 253 and len(name) <= MAX_NAME
            and isinstance(value, str) and bool(LABEL_VALUE.match(value)) and len(value) <= MAX_NAME)


def check_weights(where, weights, subsets):
    """Weights are integers 0..100 over declared subsets that sum to exactly 100."""
    if not isinstance(weights, dict) or not weights:
        return [ValidationError(where, "must be a mapping of subset name to weight",
                                "write e.g. {v1: 90, v2: 10}")]
    errors = []
    for subset, weight in weights.items():
        if isinstance(weight, str) and weight.isdigit():
            weight = int(weight)
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            errors.append(ValidationError("%s.%s" % (where, subset), "weight %r is not an integer "
                                          "from 0 to 100" % (weight,), "use a whole number from 0 to 100"))
        if subset not in subsets:
            errors.append(ValidationError("%s.%s" % (where, subset), "subset '%s' is not defined "
                                          "in subsets (IST0101)" % subset,
                                          "add it to subsets with its pod labels, or remove it here"))
    total = sum(int(weight) for weight in weights.values()) if not errors else 100
    if total != 100:
        errors.append(ValidationError(where, "weights sum to %d, not 100" % total,
                                      "make the weights of one route add up to exactly 100"))
    return errors


def check_route(where, route, subsets):
    if not isinstance(route, dict):
        return [ValidationError(where, "must be a mapping", "give name, match and weights")]
    errors = unknown_keys(where, route, ROUTE_KEYS_OURS + HTTP_ROUTE_FIELDS)
    if "name" in route:
        errors += check_name(where + ".name", route["name"], "a route name")
    if "match" in route and not isinstance(route["match"], list):
        errors.append(ValidationError(where + ".match", "must be a list of Istio HTTPMatchRequest",
                                      "write e.g. [{headers: {x-version: {exact: v2}}}]"))
    targets = [key for key in ROUTE_TARGETS if key in route]
    if len(targets) != 1:
        errors.append(ValidationError(where, "needs exactly one of %s, found %s" % (
            ", ".join(ROUTE_TARGETS), ", ".join(targets) or "none"),
            "give weights (our shorthand) or one Istio destination field"))
    if "weights" in route:
        errors += check_weights(where + ".weights", route["weights"], subsets)
    return errors


def check_traffic_policy(where, policy):
    if not isinstance(policy, dict):
        return [ValidationError(where, "must be an Istio TrafficPolicy mapping",
                                "write e.g. {loadBalancer: {simple: ROUND_ROBIN}}")]
    return unknown_keys(where, policy, TRAFFIC_POLICY_FIELDS)


def check_subsets(where, service):
    """Subsets have valid names and labels; per-subset policies name defined subsets."""
    where = where + "." if where else ""
    subsets = service.get("subsets") or {}
    if not isinstance(subsets, dict):
        return [ValidationError(where + "subsets", "must be a mapping of subset name to pod labels",
                                "write e.g. {v1: {version: v1}}")]
    errors = []
    for name, labels in subsets.items():
        errors += check_name("%ssubsets.%s" % (where, name), name, "a subset name")
        errors += _check_labels("%ssubsets.%s" % (where, name), labels)
    policies = service.get("subset_policies") or {}
    if not isinstance(policies, dict):
        return errors + [ValidationError(where + "subset_policies", "must be a mapping of subset name "
                                         "to traffic policy", "write e.g. {v2: {loadBalancer: "
                                         "{simple: LEAST_REQUEST}}}")]
    for name, policy in policies.items():
        if name not in subsets:
            errors.append(ValidationError("%ssubset_policies.%s" % (where, name),
                                          "subset '%s' is not defined in subsets" % name,
                                          "define the subset or drop its policy"))
        errors += check_traffic_policy("%ssubset_policies.%s" % (where, name), policy)
    return errors


def _check_list_of_strings(where, value, pattern, example):
    if not isinstance(value, list) or not value:
        return [ValidationError(where, "must be a non-empty list", "write e.g. [%s]" % example)]
    return [ValidationError("%s[%d]" % (where, i), "'%s' is not valid" % item, "write e.g. %s" % example)
            for i, item in enumerate(value) if not isinstance(item, str) or not pattern.match(item)]


def service_label(index, service):
    name = service.get("name") if isinstance(service, dict) else None
    return "services[%d]%s" % (index, " (%s)" % name if isinstance(name, str) else "")


def check_service(index, service):
    """Every rule for one service entry."""
    where = service_label(index, service)
    if not isinstance(service, dict):
        return [ValidationError(where, "must be a mapping", "give at least name and namespace")]
    errors = unknown_keys(where, service, SERVICE_KEYS)
    errors += check_name(where + ".name", service.get("name"), "a Kubernetes Service name",
                         MAX_NAME - 3)
    errors += check_name(where + ".namespace", service.get("namespace"), "a namespace name")
    if "hosts" in service:
        errors += _check_list_of_strings(where + ".hosts", service["hosts"], HOST, "dify-api")
    if "gateways" in service:
        errors += _check_list_of_strings(where + ".gateways", service["gateways"],
                                         re.compile(r"^([a-z0-9-]+/)?[a-z0-9.-]+$"), "istio-ingress/dify")
    errors += check_subsets(where, service)
    subsets = service.get("subsets") if isinstance(service.get("subsets"), dict) else {}
    if "weights" in service:
        errors += check_weights(where + ".weights", service["weights"], subsets)
    routes = service.get("routes", [])
    if not isinstance(routes, list):
        errors.append(ValidationError(where + ".routes", "must be a list", "give a list of routes"))
        routes = []
    for number, route in enumerate(routes):
        errors += check_route("%s.routes[%d]" % (where, number), route, subsets)
    if "traffic_policy" in service:
        errors += check_traffic_policy(where + ".traffic_policy", service["traffic_policy"])
    return errors


def check_unique(services):
    """One entry per Service and one VirtualService per host (IST0109 / KIA1106)."""
    errors = []
    seen_names = {}
    seen_hosts = {}
    for index, service in enumerate(services):
        if not isinstance(service, dict):
            continue
        key = (service.get("namespace"), service.get("name"))
        if not all(part is None or isinstance(part, str) for part in key):
            continue
        if key in seen_names:
            errors.append(ValidationError(service_label(index, service), "declared twice (also %s)" % (
                seen_names[key]), "merge the two entries into one"))
        seen_names.setdefault(key, service_label(index, service))
        hosts = service.get("hosts") if isinstance(service.get("hosts"), list) else None
        for host in hosts or [service.get("name")]:
            if not isinstance(host, str):
                continue
            host_key = (service.get("namespace"), host)
            owner = seen_hosts.setdefault(host_key, service_label(index, service))
            if owner != service_label(index, service):
                errors.append(ValidationError(service_label(index, service) + ".hosts",
                                              "host '%s' is already routed by %s (IST0109)" % (host, owner),
                                              "route one host from one VirtualService only"))
    return errors


def _check_mode(where, mode):
    if mode not in MTLS_MODES:
        return [ValidationError(where, "mode %r is not one of %s" % (mode, ", ".join(MTLS_MODES)),
                                "use one of %s" % ", ".join(MTLS_MODES))]
    return []


def _check_workload(index, workload):
    where = "mtls.workloads[%d]" % index
    if not isinstance(workload, dict):
        return [ValidationError(where, "must be a mapping", "give name, namespace, selector and mode")]
    errors = unknown_keys(where, workload, WORKLOAD_KEYS)
    errors += check_name(where + ".name", workload.get("name"), "a PeerAuthentication name")
    errors += check_name(where + ".namespace", workload.get("namespace"), "a namespace name")
    errors += _check_labels(where + ".selector", workload.get("selector"))
    if "mode" in workload:
        errors += _check_mode(where + ".mode", workload["mode"])
    ports = workload.get("ports") or {}
    if not isinstance(ports, dict):
        errors.append(ValidationError(where + ".ports", "must be a mapping of port number to mode",
                                      "write e.g. {8080: PERMISSIVE}"))
        ports = {}
    for port, mode in ports.items():
        if not str(port).isdigit() or not 1 <= int(port) <= 65535:
            errors.append(ValidationError("%s.ports.%s" % (where, port), "not a port number",
                                          "use a number from 1 to 65535"))
        errors += _check_mode("%s.ports.%s" % (where, port), mode)
    if "mode" not in workload and not workload.get("ports"):
        errors.append(ValidationError(where, "sets neither mode nor ports",
                                      "give a mode, port-level modes, or both"))
    return errors


def check_mtls(mtls):
    if not mtls:
        return []
    if not isinstance(mtls, dict):
        return [ValidationError("mtls", "must be a mapping", "give mesh, namespaces and/or workloads")]
    errors = unknown_keys("mtls", mtls, MTLS_KEYS)
    if "mesh" in mtls:
        errors += _check_mode("mtls.mesh", mtls["mesh"])
    namespaces = mtls.get("namespaces") or {}
    if not isinstance(namespaces, dict):
        errors.append(ValidationError("mtls.namespaces", "must be a mapping of namespace to mode",
                                      "write e.g. {dify: STRICT}"))
        namespaces = {}
    for namespace, mode in namespaces.items():
        errors += check_name("mtls.namespaces.%s" % namespace, namespace, "a namespace name")
        errors += _check_mode("mtls.namespaces.%s" % namespace, mode)
    workloads = mtls.get("workloads") or []
    if not isinstance(workloads, list):
        errors.append(ValidationError("mtls.workloads", "must be a list",
                                      "give a list of workload policies"))
        workloads = []
    for index, workload in enumerate(workloads):
        errors += _check_workload(index, workload)
    return errors


def effective_namespace_mode(mtls, namespace):
    """The mTLS mode the declared policies give a namespace (PERMISSIVE is Istio's default)."""
    mode = (mtls.get("namespaces") or {}).get(namespace, "UNSET")
    if mode == "UNSET":
        mode = mtls.get("mesh", "UNSET")
    return "PERMISSIVE" if mode == "UNSET" else mode


def _disabled_tls_policies(service):
    policies = [("traffic_policy", service.get("traffic_policy") or {})]
    policies += [("subset_policies.%s" % name, policy)
                 for name, policy in (service.get("subset_policies") or {}).items()]
    for field, policy in policies:
        if _tls_mode(policy) == "DISABLE":
            yield field + ".tls.mode", None
        ports = policy.get("portLevelSettings")
        for number, port in enumerate(ports if isinstance(ports, list) else []):
            if _tls_mode(port) == "DISABLE":
                yield "%s.portLevelSettings[%d].tls.mode" % (field, number), port


def _tls_mode(policy):
    tls = policy.get("tls") if isinstance(policy, dict) else None
    return tls.get("mode") if isinstance(tls, dict) else None


def _strict_workloads(mtls, service):
    labels = [dict(item, app=service["name"]) for item in (service.get("subsets") or {}).values()]
    labels.append({"app": service["name"]})
    for workload in mtls.get("workloads") or []:
        if workload.get("namespace") != service.get("namespace") or workload.get("mode") != "STRICT":
            continue
        selector = workload.get("selector") or {}
        if any(all(pod.get(k) == v for k, v in selector.items()) for pod in labels):
            yield workload


def check_tls_against_mtls(services, mtls):
    """A DestinationRule may not DISABLE TLS toward STRICT mTLS (KIA0207 / KIA0208)."""
    errors = []
    mtls = mtls or {}
    for index, service in enumerate(services):
        if not isinstance(service, dict):
            continue
        for field, _port in _disabled_tls_policies(service):
            where = "%s.%s" % (service_label(index, service), field)
            if effective_namespace_mode(mtls, service.get("namespace")) == "STRICT":
                errors.append(ValidationError(where, "TLS is DISABLEd toward namespace '%s' whose mTLS "
                                              "is STRICT (KIA0207)" % service.get("namespace"),
                                              "use tls.mode ISTIO_MUTUAL, or make the namespace PERMISSIVE"))
            for workload in _strict_workloads(mtls, service):
                errors.append(ValidationError(where, "TLS is DISABLEd toward workload '%s' whose mTLS is "
                                              "STRICT (KIA0208)" % workload["name"],
                                              "use tls.mode ISTIO_MUTUAL, or relax that workload's mode"))
    return errors


def validate(services, mtls):
    """Every contract rule over the whole inventory; an empty list means it is safe to apply."""
    if not isinstance(services, list):
        return [ValidationError("services", "must be a list", "give a list of service entries")]
    errors = []
    for index, service in enumerate(services):
        errors += check_service(index, service)
    errors += check_unique(services)
    errors += check_mtls(mtls)
    if not errors:
        errors += check_tls_against_mtls(services, mtls)
    return errors
