"""Offline stand-in for the pip bootstrap script ansible-test downloads.

ansible-test creates empty virtual environments for its sanity tests and fetches a get-pip
script from the internet to put pip in them. Python ships pip itself (ensurepip), so this
script installs that copy, then lets it install the requested packages from the configured
package index. The Makefile places it where ansible-test looks for its cached download.
"""

import ensurepip
import os
import subprocess
import sys


def main():
    # ensurepip points PIP_CONFIG_FILE at /dev/null in this process; the install below
    # must read pip's configuration (index, certificates) as usual, so keep the original.
    environment = dict(os.environ)
    ensurepip.bootstrap(upgrade=True)
    # get-pip's own switches mean nothing to pip itself.
    options = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + options, env=environment))


if __name__ == "__main__":
    main()
