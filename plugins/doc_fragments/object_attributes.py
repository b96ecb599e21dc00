# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes shared by the modules that manage one Istio object."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description:
      - Predicts the change locally; makes no write request.
      - A namespace that does not exist yet, or an Istio API the cluster does not serve yet, is a
        warning in check mode and the object is previewed as created; a real run refuses both.
  diff_mode:
    support: full
    description: Returns the object before and after.
"""
