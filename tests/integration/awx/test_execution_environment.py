"""The execution environment: ansible-builder's view of execution-environment.yml and of the collection.

No container runtime runs here, so no image is built: `ansible-builder create` writes the build context
(the Containerfile and what it copies), `ansible-builder introspect` reads the installed collection
the way the image build does, and `bindep` checks this Debian host against bindep.txt.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import yaml
from bindep.depends import Depends
from harness.playbook import REPO_ROOT

from ansible_collections.shipyard.deploy.plugins.module_utils.postgres import candidate_tools

BIN = os.path.dirname(sys.executable)
REQUIREMENTS = os.path.join(REPO_ROOT, "requirements.txt")
BINDEP = os.path.join(REPO_ROOT, "bindep.txt")
# Any network use would fail: the context must come from the checkout alone.  Where we may, the
# command runs in a network namespace with no interface at all (root here); the proxies cover the rest.
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "",
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "no_proxy": ""}


def requirement_lines(path):
    """The requirement lines of a pip or bindep file, without comments and blank lines."""
    with open(path) as handle:
        return [line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()]


def tool(name, *args, prefix=(), **kwargs):
    return subprocess.run([*prefix, os.path.join(BIN, name), *args], capture_output=True, text=True, check=False,
                          **kwargs)


def no_network():
    """``unshare -n`` when this process may create a network namespace, else nothing."""
    if not shutil.which("unshare"):
        return []
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    return ["unshare", "-n"] if probe.returncode == 0 else []


def test_builder_create_writes_a_context_that_installs_our_requirements(tmp_path):
    context = tmp_path / "context"
    run = tool("ansible-builder", "create", "--file", os.path.join(REPO_ROOT, "execution-environment.yml"),
               "--context", str(context), "--output-filename", "Containerfile",
               env=dict(os.environ, **OFFLINE), prefix=no_network())
    assert run.returncode == 0, run.stdout + run.stderr
    containerfile = (context / "Containerfile").read_text()
    build = context / "_build"
    # our pinned Python requirements and bindep file go into the image as they are in the checkout
    assert requirement_lines(build / "requirements.txt") == requirement_lines(REQUIREMENTS)
    assert requirement_lines(build / "bindep.txt") == requirement_lines(BINDEP)
    assert "COPY _build/requirements.txt requirements.txt" in containerfile
    # requirements.txt has ranges; the tested versions are pinned by constraints.txt in both build stages
    with open(os.path.join(REPO_ROOT, "constraints.txt")) as handle:
        assert (build / "configs" / "constraints.txt").read_text() == handle.read()
    assert containerfile.count("ENV PIP_CONSTRAINT=/tmp/shipyard-constraints.txt") == 2
    assert all(">=" in line and "<" in line for line in requirement_lines(REQUIREMENTS))
    assert "COPY _build/bindep.txt bindep.txt" in containerfile
    assert "--user-pip=requirements.txt --user-bindep=bindep.txt" in containerfile
    assert "RUN /output/scripts/install-from-bindep" in containerfile
    # PGDG is there before bindep.txt's postgresql18 is installed (the final stage derives from base)
    pgdg = containerfile.index("pgdg-redhat-repo-latest.noarch.rpm")
    assert pgdg < containerfile.index("FROM base AS final") < containerfile.index("install-from-bindep")
    assert 'ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==2.4.3"' in containerfile
    # the collection, at the version this checkout builds
    with open(os.path.join(REPO_ROOT, "galaxy.yml")) as handle:
        version = yaml.safe_load(handle)["version"]
    with open(build / "requirements.yml") as handle:
        galaxy = yaml.safe_load(handle)
    assert galaxy["collections"] == [{"name": "shipyard.deploy", "version": version}]
    assert "ansible-galaxy collection install" in containerfile


def test_builder_introspect_reads_the_installed_collection(installed_collection, tmp_path):
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    run = tool("ansible-builder", "introspect", installed_collection.collections_path,
               "--write-pip", str(pip_out), "--write-bindep", str(bindep_out))
    assert run.returncode == 0, run.stdout + run.stderr
    source = "  # from collection shipyard.deploy"
    ours_pip = requirement_lines(REQUIREMENTS)
    ours_bindep = requirement_lines(BINDEP)
    assert pip_out.read_text().splitlines() == [line + source for line in ours_pip]
    assert bindep_out.read_text().splitlines() == [line + source for line in ours_bindep]
    assert "psycopg[binary]" in run.stdout and "postgresql18 [platform:rpm]" in run.stdout


def test_combined_requirements_resolve_with_both_copies(installed_collection, tmp_path):
    """The image build lists our files twice (the EE's own and the collection's): pip must accept that."""
    combined = tmp_path / "requirements.txt"
    run = tool("ansible-builder", "introspect", installed_collection.collections_path,
               "--user-pip", REQUIREMENTS,
               "--user-bindep", BINDEP, "--write-pip", str(combined))
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(combined.read_text().splitlines()) == 2 * len(requirement_lines(REQUIREMENTS))
    run = tool("pip", "install", "--dry-run", "--no-deps", "--ignore-installed", "--disable-pip-version-check",
               "--quiet", "--report", str(tmp_path / "report.json"), "-r", str(combined))
    assert run.returncode == 0, run.stdout + run.stderr


def test_bindep_selects_the_right_names_per_platform():
    with open(BINDEP) as handle:
        depends = Depends(handle.read())

    def names(*profiles):
        return sorted(rule[0] for rule in depends.active_rules(["default", *profiles]))

    # the EE base (CentOS Stream / UBI / RHEL 9) and Debian/Ubuntu
    assert names("platform:rpm", "platform:redhat", "platform:centos") == ["postgresql18"]
    assert names("platform:dpkg", "platform:debian", "platform:ubuntu") == ["postgresql-client"]


def test_bindep_finds_nothing_missing_on_this_debian_host():
    run = tool("bindep", "-b", "-f", BINDEP)
    assert run.returncode == 0 and run.stdout.strip() == "", (
        "missing: %s (apt-get install them; the Makefile's DEB_PACKAGES has them)" % run.stdout + run.stderr)
    listed = tool("bindep", "-l", "newline", "-f", BINDEP)
    assert listed.stdout.split() == ["postgresql-client"], listed.stdout + listed.stderr
    # and what they installed is what the modules look for
    found = candidate_tools("pg_dump")
    assert any(path.startswith("/usr/lib/postgresql/") for path in found), found


def test_bindep_reports_what_is_missing(tmp_path):
    """The check above can fail: a package this host lacks is reported, with exit code 1."""
    missing = tmp_path / "bindep.txt"
    missing.write_text("shipyard-no-such-package [platform:dpkg]\npostgresql-client [platform:dpkg]\n")
    run = tool("bindep", "-b", "-f", str(missing))
    assert run.returncode == 1 and run.stdout.split() == ["shipyard-no-such-package"], run.stdout + run.stderr


def test_the_collection_declares_its_dependencies_to_ansible_builder(installed_collection):
    with open(os.path.join(installed_collection.collection_dir, "meta", "execution-environment.yml")) as handle:
        meta = yaml.safe_load(handle)
    assert meta == {"version": 1, "dependencies": {"python": "requirements.txt", "system": "bindep.txt"}}
    for name in ("requirements.txt", "bindep.txt"):
        assert os.path.isfile(os.path.join(installed_collection.collection_dir, name)), name
    # the image recipe is the repository's, not the collection's (galaxy.yml build_ignore)
    assert not os.path.exists(os.path.join(installed_collection.collection_dir, "execution-environment.yml"))
