"""Run every integration target against the lab, one ansible-playbook per target.

Targets follow ansible-test's layout (tests/integration/targets/<name>/tasks/main.yml) and
assert their own outcomes; the audit-log CLI is passed in as `lab_audit` so a target can prove
that check mode or a failed validation made no write request.
"""

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGETS = os.path.join(REPO, "tests", "integration", "targets")
RUNNER = os.path.join(REPO, "tests", "integration", "run_target.yml")
ISTIO_CHARTS = os.environ.get("DIFYMESH_ISTIO_CHARTS", os.path.join(
    os.path.dirname(REPO), "shared", "fixtures", "istio-1.30.3"))


def targets():
    return sorted(name for name in os.listdir(TARGETS)
                  if os.path.isfile(os.path.join(TARGETS, name, "tasks", "main.yml")))


@pytest.mark.parametrize("target", targets())
def test_target(target):
    env = dict(os.environ,
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".cache", "collections"),
               ANSIBLE_ROLES_PATH=TARGETS,
               KUBECONFIG=os.path.join(REPO, ".cache", "lab", "run", "kubeconfig"))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), RUNNER,
               "-i", "localhost,", "-c", "local",
               "-e", "target=%s" % target,
               "-e", "lab_audit='%s %s'" % (sys.executable, os.path.join(REPO, "tools", "lab", "auditlog.py")),
               "-e", "istio_chart_dir=%s" % ISTIO_CHARTS]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=900)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
