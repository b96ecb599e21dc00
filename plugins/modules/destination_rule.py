#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: destination_rule
short_description: Manage one Istio DestinationRule - subsets, load balancing, connection pools, outlier detection, TLS
version_added: 0.1.0
author:
  - difymesh maintainers (@difymesh)
description:
  - Creates, updates or deletes one C(networking.istio.io/v1) DestinationRule with server-side apply.
  - Subsets are given as subset name to pod labels; traffic policies are written in Istio's own spelling,
    so they can be pasted from Istio's documentation.
  - Before writing, the object's spec is checked against the schema the cluster serves for its kind;
    a field Istio does not know or a value of the wrong type fails the task, naming the field, and
    nothing is written.
options:
  name:
    description: Name of the DestinationRule.
    type: str
    required: true
  namespace:
    description: Namespace of the DestinationRule.
    type: str
    required: true
  service:
    description:
      - The service (Istio host) the rule applies to, such as C(dify-api) or
        C(dify-api.dify.svc.cluster.local). Required when O(state=present).
      - Named C(service) because O(host) is the API server address, as in every kubernetes.core module.
    type: str
  subsets:
    description:
      - 'Subset name to the pod labels that select it, for example C({v1: {version: v1}}).'
    type: dict
    default: {}
  traffic_policy:
    description:
      - Istio TrafficPolicy for the host - C(loadBalancer), C(connectionPool), C(outlierDetection),
        C(tls), C(portLevelSettings) and the rest, in Istio's spelling.
    type: dict
  subset_policies:
    description:
      - Subset name to an Istio TrafficPolicy that applies to that subset only.
    type: dict
    default: {}
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - difymesh.platform.apply_options
  - difymesh.platform.object_attributes
seealso:
  - module: difymesh.platform.virtual_service
  - module: difymesh.platform.mesh_traffic
"""

EXAMPLES = r"""
- name: Subsets v1/v2 with round robin, a connection pool and outlier detection
  difymesh.platform.destination_rule:
    name: dify-api-dr
    namespace: dify
    service: dify-api
    subsets:
      v1: {version: v1}
      v2: {version: v2}
    traffic_policy:
      loadBalancer: {simple: ROUND_ROBIN}
      connectionPool:
        tcp: {maxConnections: 100}
        http: {http1MaxPendingRequests: 100, maxRequestsPerConnection: 10}
      outlierDetection: {consecutive5xxErrors: 3, interval: 30s, baseEjectionTime: 5m}
      tls: {mode: ISTIO_MUTUAL}
    subset_policies:
      v2:
        connectionPool:
          http: {http2MaxRequests: 50}
"""

RETURN = r"""
action:
  description: create, update, delete, unchanged or absent (nothing to delete).
  returned: always
  type: str
result:
  description: The DestinationRule as it is (or in check mode would be) after the task.
  returned: always
  type: dict
"""

from ansible_collections.difymesh.platform.plugins.module_utils import builder, schema
from ansible_collections.difymesh.platform.plugins.module_utils.module import IstioModule

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "namespace": {"type": "str", "required": True},
    "service": {"type": "str"},
    "subsets": {"type": "dict", "default": {}},
    "traffic_policy": {"type": "dict"},
    "subset_policies": {"type": "dict", "default": {}},
}


def as_service(params):
    """The module's options in the inventory contract's shape."""
    return {"name": params["service"], "host": params["service"], "namespace": params["namespace"],
            "subsets": params["subsets"], "traffic_policy": params["traffic_policy"],
            "subset_policies": params["subset_policies"]}


def validate(params):
    errors = schema.check_metadata(params, "DestinationRule")
    errors += schema.check_subsets("", as_service(params))
    if params["traffic_policy"] is not None:
        errors += schema.check_traffic_policy("traffic_policy", params["traffic_policy"])
    return errors


def main():
    module = IstioModule(argument_spec=ARGUMENT_SPEC, required_if=[("state", "present", ("service",))])
    params = module.params
    module.reconcile_one(lambda: validate(params),
                         lambda: builder.destination_rule(as_service(params), name=params["name"]))


if __name__ == "__main__":
    main()
