#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: mesh_info
short_description: Report Istio routing (hosts, subsets, weights) and the mTLS mode in effect
version_added: 0.1.0
author:
  - difymesh maintainers (@difymesh)
description:
  - Reads VirtualServices, DestinationRules and PeerAuthentications and reports, per VirtualService,
    its hosts and routes with the weight of each destination subset, and the mTLS mode in effect mesh-wide,
    per namespace and per selected workload.
  - The mode in effect follows Istio's inheritance - a workload policy, else the namespace policy,
    else the mesh policy in the root namespace, else C(PERMISSIVE).
options:
  namespaces:
    description: Namespaces to report on; every namespace when empty.
    type: list
    elements: str
    default: []
  istio_namespace:
    description: Istio's root namespace, where the mesh-wide PeerAuthentication lives.
    type: str
    default: istio-system
  concurrency:
    description: How many API requests may run at once.
    type: int
    default: 8
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Reads only.
seealso:
  - module: difymesh.platform.mesh_traffic
"""

EXAMPLES = r"""
- name: Read the routing and mTLS of the dify namespace
  difymesh.platform.mesh_info:
    namespaces: [dify]
  register: mesh

- name: The gray release sends 10% to v2
  ansible.builtin.assert:
    that:
      - (mesh.routing | selectattr('name', 'eq', 'dify-api-vs') | first).routes[-1].destinations
        | selectattr('subset', 'eq', 'v2') | map(attribute='weight') | first == 10
      - mesh.mtls.namespaces.dify.mode == 'STRICT'
"""

RETURN = r"""
routing:
  description: One entry per VirtualService.
  returned: always
  type: list
  elements: dict
  sample:
    - name: dify-api-vs
      namespace: dify
      managed: true
      hosts: [dify-api]
      gateways: [mesh]
      routes:
        - name: testers
          match: [{headers: {x-version: {exact: v2}}}]
          destinations: [{host: dify-api, subset: v2, weight: 100}]
        - name: default
          match: []
          destinations:
            - {host: dify-api, subset: v1, weight: 90}
            - {host: dify-api, subset: v2, weight: 10}
      subsets: {dify-api: {v1: {version: v1}, v2: {version: v2}}}
mtls:
  description: The mTLS mode in effect.
  returned: always
  type: dict
  sample:
    mesh: STRICT
    namespaces:
      dify: {mode: STRICT, source: mesh}
      legacy-tools: {mode: PERMISSIVE, source: namespace}
    workloads:
      - {name: dify-sandbox, namespace: dify, selector: {app: dify-sandbox}, mode: STRICT, ports: {"8194": PERMISSIVE}}
"""

from ansible_collections.difymesh.platform.plugins.module_utils.info import mesh_info
from ansible_collections.difymesh.platform.plugins.module_utils.module import IstioModule

ARGUMENT_SPEC = {
    "namespaces": {"type": "list", "elements": "str", "default": []},
    "istio_namespace": {"type": "str", "default": "istio-system"},
    "concurrency": {"type": "int", "default": 8},
}


def main():
    module = IstioModule(argument_spec=ARGUMENT_SPEC, apply_options=False)
    module.run(lambda api: mesh_info(api, module.params))


if __name__ == "__main__":
    main()
