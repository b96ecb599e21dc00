"""The site playbooks and inventories.

Every playbook parses against both inventories, the example inventory resolves both sites, and a
survey answer that does not fit stops a playbook before it writes anything: the lab's audit log
shows no write request from the run.
"""

import json
import os
import subprocess
import sys

import pytest

from auditlog import AuditLog

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
ADMIN = "difymesh-lab-admin"
PLAYBOOKS = sorted(name for name in os.listdir(os.path.join(REPO, "playbooks")) if name.endswith(".yml"))
ENV = dict(os.environ,
           ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".cache", "collections"),
           KUBECONFIG=os.path.join(REPO, ".cache", "lab", "run", "kubeconfig"),
           ANSIBLE_NOCOLOR="1")


def ansible(tool, *args):
    return subprocess.run([os.path.join(BIN, tool)] + list(args), env=ENV, cwd=REPO,
                          capture_output=True, text=True, check=False, timeout=600)


def test_example_inventory_resolves_both_sites():
    result = ansible("ansible-inventory", "-i", "inventories/example", "--list")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    hostvars = listed["_meta"]["hostvars"]
    assert sorted(listed["sites"]["children"]) == ["site_berlin", "site_osaka"]
    assert sorted(listed["production"]["hosts"]) == ["berlin-prod", "osaka-prod"]
    assert listed["staging"]["hosts"] == ["berlin-staging"]
    assert hostvars["berlin-prod"]["difymesh_site_name"] == "berlin"
    assert hostvars["osaka-prod"]["difymesh_site_name"] == "osaka"
    assert hostvars["berlin-prod"]["difymesh_registry"] != hostvars["osaka-prod"]["difymesh_registry"]
    assert len(set(hostvars[host]["difymesh_context"] for host in hostvars)) == 3


@pytest.mark.parametrize("inventory", ["lab", "example"])
@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_playbook_parses(playbook, inventory):
    result = ansible("ansible-playbook", "--syntax-check", "-i", "inventories/" + inventory,
                     "playbooks/" + playbook)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


SHIFT = {"mesh_policy_shift_service": "dify/dify-api", "mesh_policy_shift_subset": "v2"}
BAD_ANSWERS = [
    ("uninstall.yml", {"uninstall_confirm": "another-cluster"}, "nothing was removed here"),
    ("uninstall.yml", {}, "missing required arguments: uninstall_confirm"),
    ("istio_upgrade.yml", {"istio_upgrade_phase": "sideways", "istio_upgrade_version": "1.30.4"},
     "istio_upgrade_phase must be one of"),
    ("istio_upgrade.yml", {"istio_upgrade_phase": "canary"}, "istio_upgrade_version is empty"),
    ("istio_upgrade.yml", {"istio_upgrade_phase": "shift", "istio_upgrade_version": "1.30.4"},
     "istio_upgrade_namespaces is empty"),
    ("traffic.yml", dict(SHIFT, mesh_policy_shift_weight=150), "mesh_policy_shift_weight must be a whole number"),
    ("traffic.yml", dict(SHIFT, mesh_policy_shift_weight="half"), "mesh_policy_shift_weight"),
    ("traffic.yml", dict(SHIFT, mesh_policy_shift_service="dify/dify-web", mesh_policy_shift_weight=50),
     'mesh_policy_shift_service "dify/dify-web" is not in mesh_policy_services'),
    ("mtls_migrate.yml", {}, "missing required arguments: mtls_migrate_namespaces"),
]


@pytest.mark.parametrize("playbook, answers, message", BAD_ANSWERS,
                         ids=["%s-%d" % (case[0][:-4], index) for index, case in enumerate(BAD_ANSWERS)])
def test_bad_survey_answer_stops_before_any_write(playbook, answers, message):
    audit = AuditLog.for_lab()
    start = audit.mark()
    result = ansible("ansible-playbook", "-i", "inventories/lab", "playbooks/" + playbook,
                     "-e", json.dumps(answers))
    # Only the lab admin's requests: the control plane writes on its own (endpoints, leases).
    requests = audit.summary(start, audit.mark(), user=ADMIN)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert message in " ".join(output.split()), output[-3000:]
    assert requests["writes"] == 0, requests["write_requests"]
