#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: virtual_service
short_description: Manage one Istio VirtualService - subset weights, header routes, raw HTTP routes
version_added: 0.1.0
author:
  - difymesh maintainers (@difymesh)
description:
  - Creates, updates or deletes one C(networking.istio.io/v1) VirtualService with server-side apply.
  - The default route splits traffic over subsets by O(weights); O(routes) are tried in order before it.
    Alternatively O(http) gives Istio's own C(http) list as is.
  - Weights are checked before anything is written - whole numbers from 0 to 100 that add up to 100.
  - Before writing, the object's spec is checked against the schema the cluster serves for its kind;
    a field Istio does not know or a value of the wrong type fails the task, naming the field, and
    nothing is written.
options:
  name:
    description: Name of the VirtualService.
    type: str
    required: true
  namespace:
    description: Namespace of the VirtualService.
    type: str
    required: true
  hosts:
    description: Hosts the VirtualService routes; defaults to O(destination).
    type: list
    elements: str
  gateways:
    description:
      - Gateways the routes apply to (C(mesh) for sidecars); Istio's default when omitted.
    type: list
    elements: str
  destination:
    description:
      - The Kubernetes Service (host) every route sends traffic to.
      - Required unless O(http) is given or O(state=absent).
    type: str
  weights:
    description:
      - 'Subset name to integer weight for the default route, for example C({v1: 90, v2: 10}).'
      - Without it the default route sends everything to O(destination) without a subset.
    type: dict
  routes:
    description:
      - Routes tried in order before the default route. Each has C(name), C(match) (Istio
        HTTPMatchRequest list), C(weights), and any other Istio HTTPRoute field in Istio's spelling
        (C(timeout), C(retries), C(fault), C(mirror), C(headers)...).
    type: list
    elements: dict
    default: []
  http:
    description:
      - Istio's C(http) route list, used as is instead of O(weights) and O(routes).
    type: list
    elements: dict
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - difymesh.platform.apply_options
  - difymesh.platform.object_attributes
seealso:
  - module: difymesh.platform.destination_rule
  - module: difymesh.platform.mesh_traffic
"""

EXAMPLES = r"""
- name: Canary - 10% of dify-api traffic to v2, testers always to v2
  difymesh.platform.virtual_service:
    name: dify-api-vs
    namespace: dify
    destination: dify-api
    weights: {v1: 90, v2: 10}
    routes:
      - name: testers
        match:
          - headers: {x-version: {exact: v2}}
        weights: {v2: 100}
        timeout: 1200s

- name: Shift all traffic to v2
  difymesh.platform.virtual_service:
    name: dify-api-vs
    namespace: dify
    destination: dify-api
    weights: {v1: 0, v2: 100}

- name: Remove it
  difymesh.platform.virtual_service:
    name: dify-api-vs
    namespace: dify
    state: absent
"""

RETURN = r"""
action:
  description: create, update, delete, unchanged or absent (nothing to delete).
  returned: always
  type: str
result:
  description: The VirtualService as it is (or in check mode would be) after the task.
  returned: always
  type: dict
"""

from ansible_collections.difymesh.platform.plugins.module_utils import builder, schema
from ansible_collections.difymesh.platform.plugins.module_utils.module import IstioModule
from ansible_collections.difymesh.platform.plugins.module_utils.traffic import normalise_weights

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "namespace": {"type": "str", "required": True},
    "hosts": {"type": "list", "elements": "str"},
    "gateways": {"type": "list", "elements": "str"},
    "destination": {"type": "str"},
    "weights": {"type": "dict"},
    "routes": {"type": "list", "elements": "dict", "default": []},
    "http": {"type": "list", "elements": "dict"},
}


def as_service(params):
    """The module's options in the inventory contract's shape."""
    service = {"name": params["destination"], "namespace": params["namespace"],
               "hosts": params["hosts"] or [params["destination"]], "routes": params["routes"]}
    for key in ("gateways", "weights", "http"):
        if params[key] is not None:
            service[key] = params[key]
    return normalise_weights([service])[0]


def validate(params, service):
    """The contract's rules that apply to one VirtualService, before anything is written."""
    errors = schema.check_metadata(params, "VirtualService")
    if not params["hosts"] and not params["destination"]:
        errors.append(schema.ValidationError("hosts", "no hosts to route", "give hosts or destination"))
    # Without the DestinationRule at hand, every subset the weights name counts as defined.
    named = set(service.get("weights") or {})
    for route in service["routes"]:
        named.update(route.get("weights") or {} if isinstance(route, dict) else {})
    if "weights" in service:
        errors += schema.check_weights("weights", service["weights"], named)
    for number, route in enumerate(service["routes"]):
        errors += schema.check_route("routes[%d]" % number, route, named)
    return errors


def main():
    module = IstioModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[("http", "weights"), ("http", "routes")],
        required_if=[("state", "present", ("destination", "http"), True)],
    )
    service = as_service(module.params)
    module.reconcile_one(lambda: validate(module.params, service),
                         lambda: builder.virtual_service(service, name=module.params["name"]))


if __name__ == "__main__":
    main()
