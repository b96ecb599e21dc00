"""The collection builds into a tarball that installs offline and documents every module."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "plugins", "modules"))
                 if name.endswith(".py"))


def run(*command, env=None):
    return subprocess.run(list(command), capture_output=True, text=True, check=True, cwd=REPO, env=env)


def test_tarball_installs_offline_and_every_module_renders(tmp_path):
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path))
    tarball = tmp_path / "difymesh-platform-0.1.0.tar.gz"
    target = tmp_path / "installed"
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "--force",
        "-p", str(target), str(tarball))
    installed = target / "ansible_collections" / "difymesh" / "platform"
    assert (installed / "plugins" / "modules" / "mesh_traffic.py").is_file()
    assert not (installed / "tools").exists() and not (installed / ".cache").exists()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(target))
    listed = json.loads(run(os.path.join(BIN, "ansible-doc"), "-l", "--json", "difymesh.platform", env=env).stdout)
    assert sorted(name.split(".")[-1] for name in listed) == MODULES
    docs = json.loads(run(os.path.join(BIN, "ansible-doc"), "--json",
                          *["difymesh.platform." + name for name in MODULES], env=env).stdout)
    assert all(docs[name]["doc"]["short_description"] for name in docs)
