# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module class every difymesh.platform Istio module runs in.

It extends kubernetes.core's AnsibleK8SModule: the same connection options, the same
client, and one place that turns failures into fail_json.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

from ansible_collections.difymesh.platform.plugins.module_utils import schema
from ansible_collections.difymesh.platform.plugins.module_utils.api import IstioApi, IstioApiError
from ansible_collections.difymesh.platform.plugins.module_utils.reconcile import ReconcileError
from ansible_collections.difymesh.platform.plugins.module_utils.traffic import outcome, single_object

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
except ImportError:  # the kubernetes library is missing; AnsibleK8SModule reports it
    get_api_client = None

USER_AGENT = "difymesh.platform/0.1.0"

# Options every state-changing module of the collection takes.
APPLY_ARG_SPEC = {
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "take_ownership": {"type": "bool", "default": False},
}


class IstioModule(AnsibleK8SModule):
    """AnsibleK8SModule plus our shared options and error handling."""

    def __init__(self, argument_spec, apply_options=True, **kwargs):
        spec = copy.deepcopy(AUTH_ARG_SPEC)
        if apply_options:
            spec.update(copy.deepcopy(APPLY_ARG_SPEC))
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        super(IstioModule, self).__init__(argument_spec=spec, **kwargs)

    def istio_api(self):
        client = get_api_client(module=self)
        return IstioApi(client.client, user_agent=USER_AGENT, connections=self.params.get("concurrency"),
                        warn=self.warn)

    def run(self, work):
        """Call work(api) and exit with its result; every failure ends in one fail_json."""
        try:
            result = work(self.istio_api())
        except ReconcileError as error:
            # What was done before the failure, so the operator sees where it stopped.
            self.fail_json(msg=str(error), **outcome(error.results, False))
        except (IstioApiError, CoreException) as error:
            self.fail_json(msg=str(error))
        self.exit_json(**result)

    def reconcile_one(self, validate, build):
        """The single-object modules' main: bad input fails before any request, then one reconcile.

        build() runs only after validate() found nothing: the builder trusts its input."""
        if self.params["state"] == "present":
            errors = validate()
            if errors:
                self.fail_json(msg=schema.describe(errors))
        desired = build()
        self.run(lambda api: single_object(api, desired, self.params, self.check_mode, self._diff))
