# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: object_changes
short_description: One line per changed field from registered kubernetes.core.k8s results
version_added: 0.1.0
author: difymesh.platform contributors
description:
  - >-
    Turns the results that C(kubernetes.core.k8s) registered into lines such as
    C(update Deployment dify/dify-web: spec.replicas 1 -> 3), C(create ConfigMap dify/dify-env)
    or C(delete Service observability/zipkin).
  - C(kubernetes.core.k8s) prints its before/after diff only for a task that applies one object.
    The collection's roles apply many objects per task and print these lines instead when they run
    in diff mode (C(--diff)), check mode included.
  - Only results that changed and carry a diff count, so the task must run in diff mode; an object
    a task created without C(apply) carries no diff and is listed as created from the object itself.
    Fields the API server keeps for itself (C(metadata.managedFields), C(metadata.resourceVersion),
    C(metadata.generation), C(metadata.uid), C(metadata.creationTimestamp), C(status)) are left out.
  - The values of a Secret's C(data) and C(stringData) are never shown, only that they change.
  - >-
    It also reads what C(kubernetes.core.helm) registers in check mode, and lists the chart values a
    release would change (C(update HelmRelease istio-system/istiod: values.pilot.replicaCount 2 -> 3)),
    or that it would be installed or removed. That module prints no diff without the helm-diff plugin.
    The declared values come from the task's arguments, which Ansible keeps in a registered result only
    for the items of a loop; outside a loop, add them back as C(invocation.module_args) with
    C(release_name), C(release_namespace) and C(release_values), as the istio role does.
  - Values longer than 80 characters are shortened.
options:
  _input:
    description:
      - One registered result of C(kubernetes.core.k8s) or C(kubernetes.core.helm), a registered loop
        of them, or a list of either. Skipped results are ignored.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Apply the application objects
  kubernetes.core.k8s:
    apply: true
    server_side_apply:
      field_manager: difymesh
    definition: "{{ lookup('ansible.builtin.template', 'app.yml.j2') | ansible.builtin.from_yaml_all | list }}"
  register: app_apply

- name: Show what changed, field by field
  ansible.builtin.debug:
    msg: "{{ app_apply | difymesh.platform.object_changes }}"
  when: ansible_diff_mode
"""

RETURN = r"""
_value:
  description: One line per created or deleted object and per changed field of an updated object.
  type: list
  elements: str
"""

from ansible_collections.difymesh.platform.plugins.module_utils.changes import object_changes


class FilterModule(object):
    def filters(self):
        return {"object_changes": object_changes}
