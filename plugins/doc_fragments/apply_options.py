# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by every module of the collection that writes Istio objects."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  state:
    description:
      - C(present) creates or updates the objects so that the fields this collection owns match the
        task; fields owned by other field managers are left alone.
      - C(absent) deletes the objects. Objects already gone, or a cluster without the Istio CRDs,
        change nothing.
    type: str
    choices: [present, absent]
    default: present
  take_ownership:
    description:
      - Write an object even when another controller manages it (a Flagger C(Canary) owner
        reference, or the Argo Rollouts C(argo-rollouts.argoproj.io/managed-by-rollouts) mark).
      - Without it such objects are refused before anything is written.
    type: bool
    default: false
notes:
  - Objects are written with server-side apply and the field manager C(difymesh), and carry the
    labels C(app.kubernetes.io/managed-by=difymesh) and C(difymesh.io/owner=traffic).
  - A run changes nothing when the fields this collection owns already hold the wanted values;
    check mode makes no write request at all and predicts the result locally.
  - Transient API failures (HTTP 409, 429, 5xx, connection resets) are retried with exponential backoff.
requirements:
  - kubernetes >= 24.2.0
  - PyYAML >= 3.11
"""
