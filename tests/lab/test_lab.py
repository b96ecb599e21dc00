"""The lab is a real Kubernetes control plane: these tests fail if any part of it is faked.

They need a running lab (`make lab-up`); `make integration` starts it.
"""

import json
import os
import subprocess
import uuid

import pytest

from auditlog import AuditLog

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KUBECTL = os.path.join(REPO, ".cache", "lab", "current", "kubectl")
ISTIO_CRDS = os.path.join(os.environ.get("DIFYMESH_ISTIO_CHARTS", os.path.join(
    os.path.dirname(REPO), "shared", "fixtures", "istio-1.30.3")), "crd-all.gen.yaml")
KUBECONFIG = os.path.join(REPO, ".cache", "lab", "run", "kubeconfig")
ADMIN = "difymesh-lab-admin"


def kubectl(*args, stdin=None, check=True):
    result = subprocess.run([KUBECTL, "--kubeconfig", KUBECONFIG] + list(args), input=stdin, capture_output=True, text=True,
                            check=False, timeout=180)
    if check and result.returncode != 0:
        raise AssertionError("kubectl %s failed: %s" % (" ".join(args), result.stderr))
    return result


def apply(manifest, namespace):
    return kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest))


@pytest.fixture(name="namespace")
def fixture_namespace():
    name = "lab-test-" + uuid.uuid4().hex[:8]
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false")


@pytest.fixture(name="audit", scope="session")
def fixture_audit():
    return AuditLog.for_lab()


@pytest.fixture(name="istio_crds", scope="session")
def fixture_istio_crds():
    kubectl("apply", "--server-side", "--field-manager=difymesh", "-f", ISTIO_CRDS)
    kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", ISTIO_CRDS)


def deployment(name, replicas):
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                     {"name": "app", "image": "registry.lab.invalid/app:1.0"}]}}},
    }


def test_server_reports_the_pinned_version():
    version = json.loads(kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == "v1.36.3"
    assert version["clientVersion"]["gitVersion"] == "v1.36.3"


def test_three_fake_nodes_are_ready():
    nodes = json.loads(kubectl("get", "nodes", "-l", "type=kwok", "-o", "json").stdout)["items"]
    ready = [n for n in nodes for c in n["status"]["conditions"]
             if c["type"] == "Ready" and c["status"] == "True"]
    assert len(ready) >= 3


def test_deployment_rolls_out(namespace):
    apply(deployment("web", 3), namespace)
    kubectl("rollout", "status", "-n", namespace, "deployment/web", "--timeout=120s")
    pods = json.loads(kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)["items"]
    assert [p["status"]["phase"] for p in pods] == ["Running"] * 3
    assert len({p["spec"]["nodeName"] for p in pods}) >= 1


def test_statefulset_with_volume_becomes_ready(namespace):
    statefulset = {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db", "replicas": 1, "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{
                "name": "db", "image": "registry.lab.invalid/db:1.0",
                "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}],
        },
    }
    apply(statefulset, namespace)
    kubectl("rollout", "status", "-n", namespace, "statefulset/db", "--timeout=120s")
    claim = json.loads(kubectl("get", "pvc", "data-db-0", "-n", namespace, "-o", "json").stdout)
    assert claim["status"]["phase"] == "Bound"


def test_load_balancer_service_gets_an_address(namespace):
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "edge"},
               "spec": {"type": "LoadBalancer", "selector": {"app": "edge"},
                        "ports": [{"name": "http", "port": 80}]}}
    apply(service, namespace)
    kubectl("wait", "-n", namespace, "service/edge", "--timeout=60s",
            "--for=jsonpath={.status.loadBalancer.ingress[0].ip}=127.0.0.1")


@pytest.mark.usefixtures("istio_crds")
def test_istio_crds_are_established():
    crds = json.loads(kubectl("get", "-f", ISTIO_CRDS, "-o", "json").stdout)["items"]
    assert len(crds) >= 15
    for crd in crds:
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions["Established"] == "True", crd["metadata"]["name"]


@pytest.mark.usefixtures("istio_crds")
def test_port_level_mtls_without_selector_is_rejected_by_the_crd(namespace):
    policy = {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
              "metadata": {"name": "bad"},
              "spec": {"mtls": {"mode": "STRICT"}, "portLevelMtls": {"8080": {"mode": "DISABLE"}}}}
    result = kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(policy), check=False)
    assert result.returncode != 0
    assert "portLevelMtls requires selector" in result.stderr


def test_server_side_dry_run_leaves_no_object(namespace, audit):
    start = audit.mark()
    kubectl("create", "configmap", "ghost", "-n", namespace, "--from-literal=a=b", "--dry-run=server")
    summary = audit.summary(start, audit.mark(), user=ADMIN, namespace=namespace)
    assert summary["by_verb"] == {"create": 1}
    assert summary["writes"] == 0 and summary["dry_run_writes"] == 1
    assert kubectl("get", "configmap", "ghost", "-n", namespace, check=False).returncode != 0


def test_audit_log_counts_exactly_the_writes_made(namespace, audit):
    start = audit.mark()
    for index in range(3):
        kubectl("create", "configmap", "c%d" % index, "-n", namespace, "--from-literal=k=v")
    kubectl("label", "configmap", "c0", "-n", namespace, "tier=test")
    kubectl("delete", "configmap", "c1", "-n", namespace)
    summary = audit.summary(start, audit.mark(), user=ADMIN, namespace=namespace, resource="configmaps")
    assert summary["writes"] == 5 and summary["dry_run_writes"] == 0
    assert summary["by_verb"]["create"] == 3
    assert summary["by_verb"]["patch"] == 1
    assert summary["by_verb"]["delete"] == 1
