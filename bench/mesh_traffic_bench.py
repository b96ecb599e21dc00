"""Benchmark: mesh_traffic against a kubernetes.core.k8s loop and kubectl server-side apply.

The same VirtualServices and DestinationRules (default: 200 services in 10 namespaces, so
400 objects) are applied three ways on the lab, each from an empty state and then again as a
no-op. Wall time comes from the clock; request counts come from the apiserver's audit log.
Ratios are printed against the baselines measured in the same run.

Times are medians over rounds that alternate between the methods (--rounds, default 3).

    python bench/mesh_traffic_bench.py [--services 200] [--namespaces 10] [--rounds 3] [--skip-loop]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))
import conftest  # noqa: E402,F401  pylint: disable=unused-import,wrong-import-position
from auditlog import READ_VERBS, WRITE_VERBS, AuditLog  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.difymesh.platform.plugins.module_utils import builder  # noqa: E402  pylint: disable=wrong-import-position

BIN = os.path.dirname(sys.executable)
KUBECTL = os.path.join(REPO, ".cache", "lab", "current", "kubectl")
KUBECONFIG = os.path.join(REPO, ".cache", "lab", "run", "kubeconfig")
PIDS = os.path.join(REPO, ".cache", "lab", "run", "pids")
ADMIN = "difymesh-lab-admin"


def services(count, namespaces):
    """The benchmark inventory: a gray release per service."""
    return [{
        "name": "svc-%03d" % index,
        "namespace": "bench-%02d" % (index % namespaces),
        "subsets": {"v1": {"version": "v1"}, "v2": {"version": "v2"}},
        "weights": {"v1": 90, "v2": 10},
        "traffic_policy": {"loadBalancer": {"simple": "ROUND_ROBIN"}},
    } for index in range(count)]


def objects(inventory):
    return ([builder.destination_rule(s) for s in inventory]
            + [builder.virtual_service(s) for s in inventory])


def run(command, **kwargs):
    env = dict(os.environ, KUBECONFIG=KUBECONFIG,
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".cache", "collections"))
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise SystemExit("failed: %s\n%s%s" % (" ".join(command), result.stdout[-3000:], result.stderr[-3000:]))
    return result


def kubectl(*args, stdin=None):
    return run([KUBECTL, "--kubeconfig", KUBECONFIG] + list(args), input=stdin)


def playbook(folder, name, tasks, variables):
    path = os.path.join(folder, name + ".yml")
    with open(os.path.join(folder, name + "-vars.json"), "w", encoding="utf-8") as handle:
        json.dump(variables, handle)
    play = [{"name": name, "hosts": "localhost", "gather_facts": False,
             "vars_files": [name + "-vars.json"],
             "vars": {"ansible_python_interpreter": sys.executable}, "tasks": tasks}]
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(play, handle)
    return [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", path]


def mesh_traffic_command(folder, inventory):
    task = {"name": "Apply", "difymesh.platform.mesh_traffic": {
        "services": "{{ bench_services }}", "kubeconfig": KUBECONFIG}}
    return playbook(folder, "mesh-traffic", [task], {"bench_services": inventory})


def ansible_floor_command(folder, inventory):
    """The same play with the same variables and a task that does no work: Ansible's own cost."""
    task = {"name": "Template the inventory", "ansible.builtin.debug": {"msg": "{{ bench_services | length }}"}}
    return playbook(folder, "ansible-floor", [task], {"bench_services": inventory})


def module_floor_command(folder, inventory):
    """mesh_traffic with nothing declared: Ansible, the module's imports and its client, no request."""
    task = {"name": "Apply nothing", "difymesh.platform.mesh_traffic": {
        "services": "{{ bench_services[:0] }}", "kubeconfig": KUBECONFIG}}
    return playbook(folder, "module-floor", [task], {"bench_services": inventory})


def k8s_loop_command(folder, inventory):
    task = {"name": "Apply", "kubernetes.core.k8s": {
        "definition": "{{ item }}", "kubeconfig": KUBECONFIG,
        "server_side_apply": {"field_manager": "bench-loop", "force_conflicts": True}},
        "loop": "{{ bench_objects }}", "loop_control": {"label": "{{ item.metadata.name }}"}}
    return playbook(folder, "k8s-loop", [task], {"bench_objects": objects(inventory)})


def kubectl_command(folder, inventory):
    path = os.path.join(folder, "objects.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"apiVersion": "v1", "kind": "List", "items": objects(inventory)}, handle)
    return [KUBECTL, "--kubeconfig", KUBECONFIG, "apply", "--server-side",
            "--field-manager=bench-kubectl", "--force-conflicts", "-f", path]


def reset(namespaces):
    names = ["bench-%02d" % i for i in range(namespaces)]
    for name in names:
        run([KUBECTL, "--kubeconfig", KUBECONFIG, "apply", "-f", "-"],
            input=json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
        # The objects have no finalizers: a delete is done when it returns, so no --wait polling,
        # which took seconds per namespace.
        kubectl("delete", "virtualservices,destinationrules", "--all", "-n", name, "--wait=false")
        left = kubectl("get", "virtualservices,destinationrules", "-n", name, "-o", "name").stdout.split()
        if left:
            raise SystemExit("reset: %d objects still in %s" % (len(left), name))


# Each method's own requests: by its user agent, in the benchmark's namespaces or cluster-wide
# (discovery), so that anything else using the lab at the same time is not counted.
USER_AGENTS = {"mesh_traffic": "difymesh.platform", "kubectl": "kubectl", "k8s_loop": "OpenAPI-Generator"}


def own_requests(audit, start, end, user_agent):
    for event in audit.events(start, end):
        namespace = event.get("objectRef", {}).get("namespace", "")
        if (event.get("user", {}).get("username") == ADMIN and event.get("userAgent", "").startswith(user_agent)
                and (not namespace or namespace.startswith("bench-"))):
            yield event


def server_cpu_seconds():
    """CPU time the lab's apiserver and etcd have used so far (they serve every method alike)."""
    total = 0
    for name in ("kube-apiserver", "etcd"):
        with open(os.path.join(PIDS, name + ".pid"), encoding="utf-8") as handle:
            pid = handle.read().strip()
        with open("/proc/%s/stat" % pid, encoding="utf-8") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime and stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def client_cpu_seconds():
    """CPU time of every finished child process: the method's own command and what it started."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(audit, name, command):
    start = audit.mark()
    cpu = server_cpu_seconds()
    client = client_cpu_seconds()
    began = time.perf_counter()
    run(command)
    seconds = time.perf_counter() - began
    cpu = server_cpu_seconds() - cpu
    client = client_cpu_seconds() - client
    verbs = [event["verb"] for event in own_requests(audit, start, audit.mark(), USER_AGENTS[name])]
    return {"seconds": seconds, "server_cpu": cpu, "client_cpu": client,
            "reads": sum(v in READ_VERBS for v in verbs),
            "writes": sum(v in WRITE_VERBS for v in verbs), "lists": verbs.count("list")}


def median_rows(rows):
    """Per pass, the median of every measured value over the rounds."""
    return dict((label, dict((key, statistics.median(row[label][key] for row in rows)) for key in rows[0][label]))
                for label in rows[0])


def print_table(results, floors):
    print("\n%-22s %9s %11s %11s %7s %7s %7s" % ("method / pass", "seconds", "server cpu", "client cpu",
                                                 "reads", "writes", "lists"))
    for name, passes in results.items():
        for label, row in passes.items():
            cells = ("%s %s" % (name, label), row["seconds"], row["server_cpu"], row["client_cpu"], row["reads"],
                     row["writes"], row["lists"])
            print("%-22s %9.2f %11.2f %11.2f %7d %7d %7d" % cells)
    print("%-22s %9.2f   (ansible-playbook, same play and variables, a task doing nothing)"
          % ("ansible start-up", floors["ansible"]))
    print("%-22s %9.2f   (the same with mesh_traffic declaring nothing: imports and client, no request)"
          % ("module start-up", floors["module"]))


def print_ratios(results, floors):
    mesh = results["mesh_traffic"]
    print("\nratios (baseline time / mesh_traffic time, same run):")
    for name in [n for n in results if n != "mesh_traffic"]:
        for label in ("first", "no-op"):
            print("  %-12s %-6s %6.1fx" % (name, label, results[name][label]["seconds"] / mesh[label]["seconds"]))
    # kubectl's own start-up (about 0.1 s) stays in its time: these ratios favour kubectl.
    for label in ("first", "no-op"):
        for floor_name in ("ansible", "module"):
            net = max(mesh[label]["seconds"] - floors[floor_name], 0.01)
            print("  %-12s %-6s %6.1fx   (mesh_traffic net of the %s start-up)" % (
                "kubectl", label, results["kubectl"][label]["seconds"] / net, floor_name))


def check_targets(results, namespaces):
    mesh = results["mesh_traffic"]
    targets = {
        "mesh_traffic faster than kubectl (first apply)":
            mesh["first"]["seconds"] < results["kubectl"]["first"]["seconds"],
        "mesh_traffic no-op makes zero writes": mesh["no-op"]["writes"] == 0,
        "mesh_traffic no-op lists at most once per kind per namespace":
            mesh["no-op"]["lists"] <= 3 * namespaces,
    }
    if "k8s_loop" in results:
        targets["mesh_traffic at least 10x faster than the k8s loop (first apply)"] = (
            results["k8s_loop"]["first"]["seconds"] >= 10 * mesh["first"]["seconds"])
    print("\ntargets:")
    for target, met in targets.items():
        print("  [%s] %s" % ("met" if met else "MISSED", target))
    return all(targets.values())


def report(results, namespaces, floors):
    print_table(results, floors)
    print_ratios(results, floors)
    return check_targets(results, namespaces)


def median_seconds(audit, command, rounds):
    return statistics.median(measure(audit, "mesh_traffic", command)["seconds"] for _round in range(rounds))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--skip-loop", action="store_true", help="leave out the slow k8s loop")
    parser.add_argument("--rounds", type=int, default=3,
                        help="first apply and no-op per method this many times; medians are reported")
    args = parser.parse_args()
    inventory = services(args.services, args.namespaces)
    audit = AuditLog.for_lab()
    methods = [("mesh_traffic", mesh_traffic_command), ("kubectl", kubectl_command)]
    if not args.skip_loop:
        methods.append(("k8s_loop", k8s_loop_command))
    rounds = {name: [] for name, _command in methods}
    with tempfile.TemporaryDirectory() as folder:
        floors = {"ansible": median_seconds(audit, ansible_floor_command(folder, inventory), args.rounds),
                  "module": median_seconds(audit, module_floor_command(folder, inventory), args.rounds)}
        commands = dict((name, make_command(folder, inventory)) for name, make_command in methods)
        # Rounds alternate between the methods, so a busy moment of the machine hits them alike;
        # the k8s loop, minutes long, runs once.
        for number in range(args.rounds):
            for name, command in commands.items():
                if number == 0 or name != "k8s_loop":
                    reset(args.namespaces)
                    rounds[name].append({"first": measure(audit, name, command),
                                         "no-op": measure(audit, name, command)})
            print("round %d done" % (number + 1), flush=True)
    reset(args.namespaces)
    results = dict((name, median_rows(rows)) for name, rows in rounds.items())
    print("%d services, %d objects, %d namespaces" % (len(inventory), 2 * len(inventory), args.namespaces))
    return 0 if report(results, args.namespaces, floors) else 1


if __name__ == "__main__":
    sys.exit(main())
