"""Stand-in for pip's get-pip.py bootstrap script, for ansible-test's --requirements.

ansible-test bootstraps pip into its sanity virtual environments by downloading get-pip.py
from a CI file host; where only the package registries are reachable that download fails.
``make sanity`` copies this file into ansible-test's cache under the expected name.  It does
what get-pip.py does — put the requested pip into the running interpreter — with the standard
library's ``ensurepip`` and then an ordinary ``pip install`` from the package index.

Usage (as ansible-test calls it): python get_pip.py [pip options] pip==X [more packages]
"""

from __future__ import annotations

import subprocess
import sys

# get-pip.py options that plain pip does not know
DROP = {"--no-setuptools", "--no-wheel"}


def main(argv):
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    args = [arg for arg in argv if arg not in DROP]
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *args])


if __name__ == "__main__":
    main(sys.argv[1:])
