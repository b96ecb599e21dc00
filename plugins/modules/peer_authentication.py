#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: peer_authentication
short_description: Manage an Istio PeerAuthentication - mesh-wide, namespace-wide or per workload mTLS
version_added: 0.1.0
author:
  - difymesh maintainers (@difymesh)
description:
  - Creates, updates or deletes one C(security.istio.io/v1) PeerAuthentication with server-side apply.
  - Mesh-wide when written to Istio's root namespace without a selector, namespace-wide in any other
    namespace without a selector, workload-scoped with O(selector). Port-level modes need a selector.
  - Before writing, the object's spec is checked against the schema the cluster serves for its kind;
    a field Istio does not know or a value of the wrong type fails the task, naming the field, and
    nothing is written.
options:
  name:
    description: Name of the PeerAuthentication; Istio's convention for mesh and namespace policies is C(default).
    type: str
    default: default
  namespace:
    description: Namespace of the PeerAuthentication; Istio's root namespace makes it mesh-wide.
    type: str
    default: istio-system
  mode:
    description: The mTLS mode of the workloads in scope. C(UNSET) inherits from the parent scope.
    type: str
    choices: [STRICT, PERMISSIVE, DISABLE, UNSET]
  selector:
    description: Pod labels of the workloads the policy applies to; omit for a namespace or mesh policy.
    type: dict
  ports:
    description: Port number to mTLS mode, overriding O(mode) on those ports. Needs O(selector).
    type: dict
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - difymesh.platform.apply_options
  - difymesh.platform.object_attributes
seealso:
  - module: difymesh.platform.mesh_traffic
  - module: difymesh.platform.mesh_info
"""

EXAMPLES = r"""
- name: STRICT mTLS for the whole mesh
  difymesh.platform.peer_authentication:
    mode: STRICT

- name: A namespace still migrating
  difymesh.platform.peer_authentication:
    namespace: legacy-tools
    mode: PERMISSIVE

- name: The sandbox is STRICT except on its plain-text port
  difymesh.platform.peer_authentication:
    name: dify-sandbox
    namespace: dify
    selector: {app: dify-sandbox}
    mode: STRICT
    ports:
      8194: PERMISSIVE
"""

RETURN = r"""
action:
  description: create, update, delete, unchanged or absent (nothing to delete).
  returned: always
  type: str
result:
  description: The PeerAuthentication as it is (or in check mode would be) after the task.
  returned: always
  type: dict
"""

from ansible_collections.difymesh.platform.plugins.module_utils import builder, schema
from ansible_collections.difymesh.platform.plugins.module_utils.module import IstioModule

ARGUMENT_SPEC = {
    "name": {"type": "str", "default": "default"},
    "namespace": {"type": "str", "default": "istio-system"},
    "mode": {"type": "str", "choices": ["STRICT", "PERMISSIVE", "DISABLE", "UNSET"]},
    "selector": {"type": "dict"},
    "ports": {"type": "dict"},
}


def validate(params):
    """The contract's workload rules, reported under this module's option names."""
    errors = schema.check_metadata(params, "PeerAuthentication")
    if params["selector"]:
        workload = dict((k, params[k]) for k in ("name", "namespace", "selector", "mode", "ports")
                        if params[k] is not None)
        for error in schema.check_mtls({"workloads": [workload]}):
            error.where = error.where.replace("mtls.workloads[0].", "")
            errors.append(error)
    elif params["ports"]:
        errors.append(schema.ValidationError("ports", "port-level modes need a selector",
                                             "add selector with the workload's pod labels"))
    elif not params["mode"]:
        errors.append(schema.ValidationError("mode", "is required for a mesh or namespace policy",
                                             "give one of %s" % ", ".join(schema.MTLS_MODES)))
    return errors


def main():
    module = IstioModule(argument_spec=ARGUMENT_SPEC)
    params = module.params
    module.reconcile_one(lambda: validate(params), lambda: builder.peer_authentication(
        params["name"], params["namespace"], params["mode"], params["selector"], params["ports"]))


if __name__ == "__main__":
    main()
