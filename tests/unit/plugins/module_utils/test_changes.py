"""Lines of object changes from what kubernetes.core.k8s registered, as the roles print them."""

import pytest

from ansible_collections.difymesh.platform.plugins.module_utils.changes import object_changes

BOOKKEEPING = {"managedFields": [{"manager": "difymesh", "time": "2026-12-04T10:00:00Z"}],
               "resourceVersion": "41"}


def deployment(replicas, image="dify-web:1.17.1", bookkeeping=None):
    metadata = {"name": "dify-web", "namespace": "dify"}
    metadata.update(bookkeeping or {})
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
            "spec": {"replicas": replicas,
                     "template": {"spec": {"containers": [{"name": "web", "image": image}]}}}}


def applied(before, after, changed=True):
    """One object's result as kubernetes.core.k8s registers it in diff mode."""
    return {"changed": changed, "method": "apply", "result": after or before,
            "diff": {"before": before, "after": after}}


def many(*results):
    """A task that applied several objects: the per-object results sit under result.results."""
    return {"changed": any(r["changed"] for r in results), "result": {"results": list(results)}}


def test_an_update_lists_each_changed_field_and_leaves_bookkeeping_out():
    before = deployment(1, bookkeeping=BOOKKEEPING)
    after = deployment(3, image="dify-web:1.17.2",
                       bookkeeping={"managedFields": [{"manager": "difymesh"}], "resourceVersion": "42"})
    assert object_changes(applied(before, after)) == [
        'update Deployment dify/dify-web: spec.replicas 1 -> 3',
        'update Deployment dify/dify-web: spec.template.spec.containers[0].image '
        '"dify-web:1.17.1" -> "dify-web:1.17.2"',
    ]


def test_created_and_deleted_objects_are_one_line_each():
    created = applied({}, deployment(1))
    deleted = applied({"kind": "Service", "metadata": {"name": "zipkin", "namespace": "observability"}}, {})
    assert object_changes([created, deleted]) == ["create Deployment dify/dify-web",
                                                  "delete Service observability/zipkin"]


def test_unchanged_skipped_and_diffless_results_give_nothing():
    unchanged = applied({}, {}, changed=False)
    no_diff_mode = {"changed": True, "method": "apply", "result": deployment(2)}
    assert object_changes([unchanged, {"skipped": True}, no_diff_mode, None, "text"]) == []


def test_an_object_created_without_apply_is_listed_from_the_object_alone():
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}
    task = many({"changed": True, "method": "create", "result": namespace},
                {"changed": False, "method": "update", "result": dict(namespace, metadata={"name": "default"})})
    assert object_changes(task) == ["create Namespace istio-system"]


def test_many_objects_in_one_task_and_loops_are_all_read():
    task = many(applied(deployment(1), deployment(2)), applied({}, {}, changed=False))
    loop = {"changed": True, "results": [applied({}, deployment(1)), {"skipped": True}]}
    assert object_changes([task, loop]) == ["update Deployment dify/dify-web: spec.replicas 1 -> 2",
                                            "create Deployment dify/dify-web"]


def test_a_secret_shows_which_keys_change_never_their_values():
    secret = {"kind": "Secret", "metadata": {"name": "dify-secrets", "namespace": "dify"}}
    before = dict(secret, data={"SECRET_KEY": "b2xk"})
    after = dict(secret, data={"SECRET_KEY": "bmV3", "REDIS_PASSWORD": "c2VjcmV0"},
                 stringData={"EXTRA": "plain"})
    lines = object_changes(applied(before, after))
    assert lines == [
        "update Secret dify/dify-secrets: data.REDIS_PASSWORD (absent) -> (hidden)",
        "update Secret dify/dify-secrets: data.SECRET_KEY (hidden) -> (hidden)",
        "update Secret dify/dify-secrets: stringData.EXTRA (absent) -> (hidden)",
    ]
    assert not any(value in " ".join(lines) for value in ("b2xk", "bmV3", "c2VjcmV0", "plain"))


def test_a_configmap_value_is_shown():
    before = {"kind": "ConfigMap", "metadata": {"name": "env"}, "data": {"LOG_LEVEL": "INFO"}}
    after = {"kind": "ConfigMap", "metadata": {"name": "env"}, "data": {"LOG_LEVEL": "DEBUG"}}
    assert object_changes(applied(before, after)) == ['update ConfigMap env: data.LOG_LEVEL "INFO" -> "DEBUG"']


@pytest.mark.parametrize("removed, added, expected", [
    ({"a": 1}, {}, "spec.a 1 -> (absent)"),
    ({}, {"a": [1, 2]}, "spec.a[0] (absent) -> 1"),
    ({"a": []}, {"a": {}}, "spec.a [] -> {}"),
])
def test_added_removed_and_emptied_fields(removed, added, expected):
    before = {"kind": "Telemetry", "metadata": {"name": "t", "namespace": "n"}, "spec": dict(removed, keep=1)}
    after = {"kind": "Telemetry", "metadata": {"name": "t", "namespace": "n"}, "spec": dict(added, keep=1)}
    assert "update Telemetry n/t: " + expected in object_changes(applied(before, after))


def test_long_values_are_shortened():
    before = deployment(1, image="a" * 200)
    line = object_changes(applied(before, deployment(1)))[0]
    assert '"' + "a" * 76 + "..." in line and len(line) < 200


def helm_checked(current, installed=True, state="present", values=None):
    """A kubernetes.core.helm result registered in check mode for a release that would change."""
    return {"changed": True, "command": "helm upgrade ...",
            "status": {"values": {"current": current,
                                  "declared": {"name": "istiod", "values": current} if installed else {}}},
            "invocation": {"module_args": {"release_name": "istiod", "release_namespace": "istio-system",
                                           "release_state": state, "release_values": values or {}}}}


def test_a_helm_release_in_check_mode_lists_each_changed_value():
    current = {"meshConfig": {"accessLogEncoding": "JSON"}, "pilot": {"replicaCount": 2}}
    declared = {"meshConfig": {"accessLogEncoding": "TEXT"}, "pilot": {"replicaCount": 2}}
    assert object_changes(helm_checked(current, values=declared)) == [
        'update HelmRelease istio-system/istiod: values.meshConfig.accessLogEncoding "JSON" -> "TEXT"']


def test_a_helm_release_to_install_or_remove_is_one_line():
    assert object_changes([helm_checked({}, installed=False, values={"a": 1}),
                           helm_checked({"a": 1}, state="absent")]) == [
        "create HelmRelease istio-system/istiod", "delete HelmRelease istio-system/istiod"]


def test_a_helm_result_outside_check_mode_or_unchanged_gives_nothing():
    applied_for_real = helm_checked({"a": 1}, values={"a": 2})
    applied_for_real["status"] = {"name": "istiod", "values": {"a": 2}}
    unchanged = dict(helm_checked({"a": 1}, values={"a": 1}), changed=False)
    assert object_changes([applied_for_real, unchanged]) == []


def test_the_helm_diff_plugin_text_is_left_to_the_plugin_and_the_values_still_listed():
    result = helm_checked({"a": 1}, values={"a": 2})
    result["diff"] = {"prepared": "istio-system, istiod, Deployment (apps) has changed: ..."}
    assert object_changes(result) == ["update HelmRelease istio-system/istiod: values.a 1 -> 2"]
