"""Start, stop and inspect the lab: a real Kubernetes control plane on loopback.

etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok run as local
processes built by build.sh; kwok plays the kubelets of a few fake nodes so that Pods
become Running and Ready. Every process is tracked by its own pid file.

    lab.py up | down [--purge] | status | env
"""

import argparse
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pki

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CACHE = os.environ.get("LAB_CACHE", os.path.join(REPO, ".cache", "lab"))
STATE = os.environ.get("LAB_STATE", os.path.join(CACHE, "run"))
BIN = os.path.join(CACHE, "current")

ETCD_PORT = int(os.environ.get("LAB_ETCD_PORT", "32379"))
APISERVER_PORT = int(os.environ.get("LAB_APISERVER_PORT", "36443"))
CONTROLLER_MANAGER_PORT = 10257
SCHEDULER_PORT = 10259
KWOK_PORT = 10247
NODE_COUNT = int(os.environ.get("LAB_NODES", "3"))
CONTEXT = "difymesh-lab"
START_ORDER = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")

AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
"""


def path(*parts):
    return os.path.join(STATE, *parts)


def binary(name):
    return os.path.join(BIN, name)


def apiserver_url():
    return "https://127.0.0.1:%d" % APISERVER_PORT


def admin_kubeconfig():
    return path("kubeconfig")


# ---------------------------------------------------------------- configuration files


def write_kubeconfig(target, client):
    pki_dir = path("pki")
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {
            "server": apiserver_url(),
            "certificate-authority": os.path.join(pki_dir, "ca.crt")}}],
        "users": [{"name": client, "user": {
            "client-certificate": os.path.join(pki_dir, client + ".crt"),
            "client-key": os.path.join(pki_dir, client + ".key")}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": client}}],
        "current-context": CONTEXT,
    }
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)
    os.chmod(target, 0o600)


def prepare_state():
    for folder in ("pki", "pids", "logs", "etcd", "certs"):
        os.makedirs(path(folder), mode=0o700, exist_ok=True)
    pki.ensure(path("pki"))
    write_kubeconfig(admin_kubeconfig(), "admin")
    for client in ("controller-manager", "scheduler", "kwok"):
        write_kubeconfig(path(client + ".kubeconfig"), client)
    with open(path("audit-policy.yaml"), "w", encoding="utf-8") as handle:
        handle.write(AUDIT_POLICY)


# ---------------------------------------------------------------- command lines


def etcd_command():
    url = "http://127.0.0.1:%d" % ETCD_PORT
    return [binary("etcd"), "--name=lab", "--data-dir=" + path("etcd"),
            "--listen-client-urls=" + url, "--advertise-client-urls=" + url,
            "--listen-peer-urls=http://127.0.0.1:%d" % (ETCD_PORT + 1),
            "--initial-advertise-peer-urls=http://127.0.0.1:%d" % (ETCD_PORT + 1),
            "--initial-cluster=lab=http://127.0.0.1:%d" % (ETCD_PORT + 1),
            "--listen-metrics-urls=", "--unsafe-no-fsync", "--log-level=warn"]


def apiserver_command():
    pki_dir = path("pki")
    return [binary("kube-apiserver"),
            "--etcd-servers=http://127.0.0.1:%d" % ETCD_PORT,
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            "--secure-port=%d" % APISERVER_PORT, "--cert-dir=" + path("certs"),
            "--tls-cert-file=" + os.path.join(pki_dir, "apiserver.crt"),
            "--tls-private-key-file=" + os.path.join(pki_dir, "apiserver.key"),
            "--client-ca-file=" + os.path.join(pki_dir, "ca.crt"),
            "--service-cluster-ip-range=10.96.0.0/16", "--allow-privileged=true",
            "--authorization-mode=Node,RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file=" + os.path.join(pki_dir, "sa.pub"),
            "--service-account-signing-key-file=" + os.path.join(pki_dir, "sa.key"),
            "--audit-policy-file=" + path("audit-policy.yaml"),
            "--audit-log-path=" + path("audit.log"), "--audit-log-maxbackup=0",
            "--audit-log-maxsize=0", "--profiling=false", "-v=0",
            # Webhooks and aggregated APIs are reached through endpoints, never Service IPs;
            # pod IPs are loopback (see kwok_command), so no request ever leaves the machine.
            "--enable-aggregator-routing=true"]


def controller_manager_command():
    pki_dir = path("pki")
    kubeconfig = path("controller-manager.kubeconfig")
    return [binary("kube-controller-manager"), "--kubeconfig=" + kubeconfig,
            "--authentication-kubeconfig=" + kubeconfig,
            "--authorization-kubeconfig=" + kubeconfig,
            "--bind-address=127.0.0.1", "--secure-port=%d" % CONTROLLER_MANAGER_PORT,
            "--root-ca-file=" + os.path.join(pki_dir, "ca.crt"),
            "--service-account-private-key-file=" + os.path.join(pki_dir, "sa.key"),
            "--cluster-signing-cert-file=" + os.path.join(pki_dir, "ca.crt"),
            "--cluster-signing-key-file=" + os.path.join(pki_dir, "ca.key"),
            "--use-service-account-credentials=true", "--leader-elect=false",
            "--cluster-name=" + CONTEXT, "--profiling=false"]


def scheduler_command():
    kubeconfig = path("scheduler.kubeconfig")
    return [binary("kube-scheduler"), "--kubeconfig=" + kubeconfig,
            "--authentication-kubeconfig=" + kubeconfig,
            "--authorization-kubeconfig=" + kubeconfig,
            "--bind-address=127.0.0.1", "--secure-port=%d" % SCHEDULER_PORT,
            "--leader-elect=false", "--profiling=false"]


def kwok_command():
    return [binary("kwok"), "--kubeconfig=" + path("kwok.kubeconfig"),
            "--config=" + binary("kwok-stages.yaml"),
            "--config=" + os.path.join(HERE, "stages", "service-loadbalancer.yaml"),
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--server-address=127.0.0.1:%d" % KWOK_PORT,
            # Fake pod IPs from loopback: nothing the lab does can send traffic off the machine.
            "--node-lease-duration-seconds=40", "--cidr=127.1.0.0/16",
            "--node-ip=127.0.0.1"]


COMMANDS = {
    "etcd": etcd_command,
    "kube-apiserver": apiserver_command,
    "kube-controller-manager": controller_manager_command,
    "kube-scheduler": scheduler_command,
    "kwok": kwok_command,
}


# ---------------------------------------------------------------- processes


def pid_of(name):
    """The pid of a running lab process, or None (a stale pid file does not count)."""
    try:
        with open(path("pids", name + ".pid"), encoding="utf-8") as handle:
            pid = int(handle.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv0 = handle.read().split(b"\0")[0].decode()
    except (OSError, ValueError):
        return None
    return pid if os.path.basename(argv0) == name else None


def start(name):
    log = open(path("logs", name + ".log"), "ab")  # pylint: disable=consider-using-with
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        COMMANDS[name](), stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True, cwd=STATE)
    with open(path("pids", name + ".pid"), "w", encoding="utf-8") as handle:
        handle.write(str(proc.pid))
    return proc


def stop(name, timeout=20):
    pid = pid_of(name)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline and pid_of(name) == pid:
        _reap(pid)
        time.sleep(0.2)
    if pid_of(name) == pid:
        os.kill(pid, signal.SIGKILL)
        _reap(pid)
    os.unlink(path("pids", name + ".pid"))
    return True


def _reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


# ---------------------------------------------------------------- health


def _ssl_context(client_cert=True):
    context = ssl.create_default_context(cafile=path("pki", "ca.crt"))
    if client_cert:
        context.load_cert_chain(path("pki", "admin.crt"), path("pki", "admin.key"))
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


HEALTH = {
    "etcd": ("http://127.0.0.1:%d/health" % ETCD_PORT, None),
    "kube-apiserver": (apiserver_url() + "/readyz", True),
    "kube-controller-manager": ("https://127.0.0.1:%d/healthz" % CONTROLLER_MANAGER_PORT, False),
    "kube-scheduler": ("https://127.0.0.1:%d/healthz" % SCHEDULER_PORT, False),
    "kwok": ("http://127.0.0.1:%d/healthz" % KWOK_PORT, None),
}


def healthy(name):
    url, client_cert = HEALTH[name]
    context = None if client_cert is None else _ssl_context(client_cert)
    try:
        with urllib.request.urlopen(url, timeout=3, context=context) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_for(what, check, timeout, process=None):
    """Wait until check() holds; give up at once if the process just started has exited."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit("lab: %s exited (a port already taken by another lab?); last lines of %s:\n%s" % (
                what, path("logs", what + ".log"), log_tail(what)))
        if check():
            return
        time.sleep(0.5)
    raise SystemExit("lab: %s did not become ready within %ds; see %s" % (
        what, timeout, path("logs")))


def log_tail(name, lines=5):
    with open(path("logs", name + ".log"), encoding="utf-8", errors="replace") as handle:
        return "".join(handle.readlines()[-lines:])


# ---------------------------------------------------------------- cluster content


def kubectl(*args, stdin=None):
    command = [binary("kubectl"), "--kubeconfig=" + admin_kubeconfig()] + list(args)
    return subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)


def node_manifest(index):
    name = "lab-node-%d" % index
    resources = {"cpu": "32", "memory": "256Gi", "pods": "250", "ephemeral-storage": "500Gi"}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {"type": "kwok", "kubernetes.io/hostname": name,
                       "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                       "topology.kubernetes.io/zone": "lab-%s" % "abc"[(index - 1) % 3]},
        },
        "status": {"allocatable": resources, "capacity": resources},
    }


def storage_class_manifest():
    return {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "standard", "annotations": {
            "storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "kwok.x-k8s.io/volume", "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


def seed_cluster():
    """Fake nodes and the default StorageClass; server-side apply keeps it idempotent."""
    items = [node_manifest(i) for i in range(1, NODE_COUNT + 1)] + [storage_class_manifest()]
    document = json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    result = kubectl("apply", "--server-side", "--field-manager=difymesh-lab", "-f", "-",
                     stdin=document)
    if result.returncode != 0:
        raise SystemExit("lab: seeding the cluster failed: " + result.stderr)


def nodes_ready():
    result = kubectl("get", "nodes", "-l", "type=kwok", "-o", "json")
    if result.returncode != 0:
        return False
    items = json.loads(result.stdout)["items"]
    ready = [n for n in items for c in n.get("status", {}).get("conditions", [])
             if c["type"] == "Ready" and c["status"] == "True"]
    return len(ready) >= NODE_COUNT


def default_service_account():
    return kubectl("get", "serviceaccount", "default", "-n", "default").returncode == 0


# ---------------------------------------------------------------- commands


def ensure_built():
    missing = [n for n in START_ORDER + ("kubectl", "helm") if not os.access(binary(n), os.X_OK)]
    if missing:
        subprocess.run(["bash", os.path.join(HERE, "build.sh")], check=True)


def up(_args):
    began = time.time()
    ensure_built()
    prepare_state()
    for name in START_ORDER:
        process = None
        if pid_of(name) is None:
            print("lab: starting %s" % name)
            process = start(name)
        wait_for(name, lambda n=name: healthy(n), 120, process=process)
        if name == "kube-apiserver":
            seed_cluster()
    wait_for("the fake nodes", nodes_ready, 120)
    wait_for("the default service account", default_service_account, 120)
    print("lab: up in %.1fs; export KUBECONFIG=%s" % (time.time() - began, admin_kubeconfig()))


def down(args):
    for name in reversed(START_ORDER):
        if stop(name):
            print("lab: stopped %s" % name)
    if args.purge and os.path.isdir(STATE):
        shutil.rmtree(STATE)
        print("lab: removed %s" % STATE)


def rss_kib(pid):
    with open("/proc/%d/status" % pid, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def status(_args):
    total = 0
    running = 0
    for name in START_ORDER:
        pid = pid_of(name)
        if pid is None:
            print("%-24s stopped" % name)
            continue
        running += 1
        rss = rss_kib(pid)
        total += rss
        state = "healthy" if healthy(name) else "unhealthy"
        print("%-24s pid %-8d %-9s %6.0f MiB" % (name, pid, state, rss / 1024.0))
    summary = ("total", running, len(START_ORDER), total / 1024.0)
    print("%-24s %d/%d running, %.0f MiB resident" % summary)
    if running:
        print(kubectl("version").stdout.strip())
        print(kubectl("get", "nodes").stdout.strip())
    return 0 if running == len(START_ORDER) else 1


def env(_args):
    print("export KUBECONFIG=%s" % admin_kubeconfig())
    print("export PATH=%s:$PATH" % BIN)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up").set_defaults(run=up)
    purge = commands.add_parser("down")
    purge.add_argument("--purge", action="store_true", help="also delete the lab's state")
    purge.set_defaults(run=down)
    commands.add_parser("status").set_defaults(run=status)
    commands.add_parser("env").set_defaults(run=env)
    args = parser.parse_args(argv)
    return args.run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
