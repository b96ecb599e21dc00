#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: mesh_traffic
short_description: Reconcile a whole site's Istio routing and mTLS from inventory
version_added: 0.1.0
author:
  - difymesh maintainers (@difymesh)
description:
  - Takes the traffic and mTLS inventory contract (see C(docs/inventory-contract.md)) and makes the
    cluster match it, the way the M(difymesh.platform.virtual_service),
    M(difymesh.platform.destination_rule) and M(difymesh.platform.peer_authentication) modules do for one
    object.
  - For each service it writes a DestinationRule named C(<name>-dr) and a VirtualService named
    C(<name>-vs) in the service's namespace; the O(mtls) section becomes PeerAuthentications.
  - Validates the whole inventory first and reports every problem at once, naming the service, the
    field and the fix. Nothing is written when anything is wrong.
  - Fields written in Istio's own spelling (traffic policies, route fields) are then checked against
    the schema the cluster serves for each kind about to be written, so a misspelt or mistyped field
    deep inside one of them also stops the run before the first write. The schema is read once per
    API group (C(/openapi/v3), readable by every authenticated user) and only when a write is due.
  - Reads the cluster with one LIST per kind per namespace, writes only what differs, and runs writes of
    one phase concurrently. Phases keep traffic safe (make-before-break) - DestinationRules that gain
    subsets, then VirtualServices, then DestinationRules that lose subsets, then PeerAuthentications,
    then pruning (VirtualServices before DestinationRules).
options:
  services:
    description:
      - The services to route, each a mapping with C(name) and C(namespace) (required), and C(hosts),
        C(gateways), C(subsets) (subset name to pod labels), C(weights) (subset name to integer weight,
        the default route), C(routes) (ordered list of C(name), C(match) and C(weights), plus any other
        Istio HTTPRoute field in Istio's spelling), C(traffic_policy) and C(subset_policies) (Istio
        TrafficPolicy, in Istio's spelling).
      - Weights of one route are integers from 0 to 100 that sum to exactly 100, over subsets defined in
        C(subsets).
    type: list
    elements: dict
    default: []
  mtls:
    description:
      - mTLS modes. C(mesh) is the mesh-wide mode (PeerAuthentication C(default) in O(istio_namespace)),
        C(namespaces) maps a namespace to its mode, and C(workloads) lists workload-scoped policies with
        C(name), C(namespace), C(selector), C(mode) and C(ports) (port number to mode).
      - Modes are C(STRICT), C(PERMISSIVE), C(DISABLE) and C(UNSET).
    type: dict
    default: {}
  prune:
    description:
      - Delete VirtualServices, DestinationRules and PeerAuthentications labelled
        C(app.kubernetes.io/managed-by=difymesh) and C(difymesh.io/owner=traffic) in the declared
        namespaces that the inventory no longer declares. Objects without both labels (made by hand,
        or by the collection's roles) are never touched.
    type: bool
    default: false
  namespaces:
    description:
      - More namespaces to prune in, besides those the inventory declares, such as one whose services
        were all removed from the inventory.
    type: list
    elements: str
    default: []
  istio_namespace:
    description:
      - Istio's root namespace, where the mesh-wide PeerAuthentication lives.
    type: str
    default: istio-system
  concurrency:
    description:
      - How many API requests may run at once.
    type: int
    default: 8
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - difymesh.platform.apply_options
attributes:
  check_mode:
    support: full
    description:
      - Predicts every change locally; makes no write request.
      - A namespace that does not exist yet, or an Istio API the cluster does not serve yet (the CRDs
        are not installed), is a warning in check mode and the objects are previewed as created,
        so a first install can be previewed; a real run refuses both before any write.
  diff_mode:
    support: full
    description: Returns one before/after pair per changed object.
seealso:
  - module: difymesh.platform.mesh_info
  - module: difymesh.platform.virtual_service
  - module: difymesh.platform.destination_rule
  - module: difymesh.platform.peer_authentication
"""

EXAMPLES = r"""
- name: Gray release of the Dify API - testers reach v2, 10% of the rest too
  difymesh.platform.mesh_traffic:
    services:
      - name: dify-api
        namespace: dify
        subsets:
          v1: {version: v1}
          v2: {version: v2}
        weights: {v1: 90, v2: 10}
        routes:
          - name: testers
            match:
              - headers: {x-version: {exact: v2}}
            weights: {v2: 100}
        traffic_policy:
          loadBalancer: {simple: ROUND_ROBIN}
          connectionPool:
            tcp: {maxConnections: 100}
            http: {http1MaxPendingRequests: 100, maxRequestsPerConnection: 10}
          outlierDetection: {consecutive5xxErrors: 3, interval: 30s, baseEjectionTime: 5m}
    mtls:
      mesh: STRICT
      namespaces:
        legacy-tools: PERMISSIVE
    prune: true

- name: Remove everything the inventory declares
  difymesh.platform.mesh_traffic:
    services: "{{ mesh_policy_services }}"
    mtls: "{{ mesh_policy_mtls }}"
    state: absent
"""

RETURN = r"""
changed:
  description: Whether any object was (or in check mode would be) written or deleted.
  returned: always
  type: bool
summary:
  description: How many objects were created, updated, deleted or left unchanged.
  returned: always
  type: dict
  sample: {created: 2, updated: 1, deleted: 0, unchanged: 5}
objects:
  description: One entry per object considered.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: VirtualService, DestinationRule or PeerAuthentication.
      type: str
    namespace:
      description: The object's namespace.
      type: str
    name:
      description: The object's name.
      type: str
    action:
      description: create, update, delete or unchanged.
      type: str
    changed:
      description: Whether this object changed.
      type: bool
diff:
  description: In diff mode, one before/after pair per changed object.
  returned: when diff mode is on and something changed
  type: list
  elements: dict
"""

from ansible_collections.difymesh.platform.plugins.module_utils.module import IstioModule
from ansible_collections.difymesh.platform.plugins.module_utils.traffic import mesh_traffic

ARGUMENT_SPEC = {
    "services": {"type": "list", "elements": "dict", "default": []},
    "mtls": {"type": "dict", "default": {}},
    "prune": {"type": "bool", "default": False},
    "namespaces": {"type": "list", "elements": "str", "default": []},
    "istio_namespace": {"type": "str", "default": "istio-system"},
    "concurrency": {"type": "int", "default": 8},
}


def main():
    module = IstioModule(argument_spec=ARGUMENT_SPEC)
    module.run(lambda api: mesh_traffic(api, module.params, module.check_mode, module._diff))


if __name__ == "__main__":
    main()
