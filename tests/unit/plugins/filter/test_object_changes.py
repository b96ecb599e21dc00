"""The object_changes filter: its name, and a registered result read end to end."""

from ansible_collections.difymesh.platform.plugins.filter.object_changes import FilterModule
from ansible_collections.difymesh.platform.plugins.module_utils.changes import object_changes


def test_the_filter_is_registered_under_its_documented_name():
    assert FilterModule().filters() == {"object_changes": object_changes}
