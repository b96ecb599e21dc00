"""Make the checkout importable as ansible_collections.difymesh.platform for pytest.

The Makefile links the checkout into .cache/collections; Ansible's own collection loader then
resolves difymesh.platform from there and kubernetes.core from the installed ansible package.
"""

import os
import sys

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, ".cache", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "difymesh", "platform")

if not os.path.islink(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(REPO, LINK)

# pylint: disable-next=protected-access
_AnsibleCollectionFinder(paths=[COLLECTIONS])._install()
sys.path.insert(0, os.path.join(REPO, "tools", "lab"))
