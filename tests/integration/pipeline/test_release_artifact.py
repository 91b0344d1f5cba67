"""release_artifact through real playbooks: local, HTTP and S3 artifacts, checksums, pruning."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from harness.playbook import REPO_ROOT, play


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    out = tmp_path_factory.mktemp("artifacts")
    subprocess.run([sys.executable, os.path.join(REPO_ROOT, "demo", "build_artifacts.py"), str(out)],
                   check=True, capture_output=True)
    sums = {}
    for version in ("1.0.0", "2.0.0", "3.0.0"):
        with open(out / ("shop-%s.tar.gz" % version), "rb") as handle:
            sums[version] = hashlib.sha256(handle.read()).hexdigest()
    return out, sums


def unpack_task(name, app_root, version, source, checksum, **extra):
    args = {"app_root": str(app_root), "version": version, "source": str(source), "checksum": checksum}
    args.update(extra)
    return {"name": name, "shipyard.deploy.release_artifact": args}


def test_local_artifact_idempotent_and_pruned_around_slots(playbook, artifacts, tmp_path):
    out, sums = artifacts
    root = tmp_path / "shop"
    tasks = [unpack_task("v%s" % v, root, v, out / ("shop-%s.tar.gz" % v), sums[v], keep=1)
             for v in ("1.0.0", "2.0.0")]
    run = playbook.run(play(tasks))
    assert run.rc == 0, run.output
    assert run.task("v1.0.0")["unpacked"] is True
    assert (root / "releases" / "2.0.0" / "VERSION").read_text() == "2.0.0\n"
    assert run.task("v2.0.0")["removed"] == ["1.0.0"]  # keep=1, nothing points at 1.0.0

    os.symlink(root / "releases" / "2.0.0", root / "blue")  # live release
    run = playbook.run(play([unpack_task("v3", root, "3.0.0", out / "shop-3.0.0.tar.gz", sums["3.0.0"], keep=1),
                             unpack_task("again", root, "3.0.0", out / "shop-3.0.0.tar.gz", sums["3.0.0"],
                                         keep=1)]), diff=True)
    assert run.rc == 0, run.output
    assert run.task("v3")["removed"] == [] and run.task("v3")["slots"] == {"blue": "2.0.0"}
    assert run.task("again")["changed"] is False
    assert sorted(os.listdir(root / "releases")) == ["2.0.0", "3.0.0"]


def test_wrong_checksum_unpacks_nothing(playbook, artifacts, tmp_path):
    out, sums = artifacts
    root = tmp_path / "shop"
    run = playbook.run(play([unpack_task("bad", root, "1.0.0", out / "shop-1.0.0.tar.gz", sums["2.0.0"])]))
    assert run.rc != 0
    assert "has SHA-256 %s but %s was expected" % (sums["1.0.0"], sums["2.0.0"]) in run.task("bad")["msg"]
    assert os.listdir(root / "releases") == []  # no release, no temporary file left


def test_check_mode_fetches_nothing(playbook, artifacts, tmp_path):
    out, sums = artifacts
    root = tmp_path / "shop"
    run = playbook.run(play([unpack_task("would", root, "1.0.0", out / "shop-1.0.0.tar.gz", sums["1.0.0"])]),
                       check=True)
    assert run.rc == 0, run.output
    assert run.task("would")["changed"] is True and run.task("would")["unpacked"] is True
    assert not root.exists()


def test_http_and_s3_sources(playbook, artifacts, tmp_path, s3, s3_bucket):
    out, sums = artifacts
    handler = partial(SimpleHTTPRequestHandler, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    s3.client().upload_file(str(out / "shop-2.0.0.tar.gz"), s3_bucket, "shop/shop-2.0.0.tar.gz")
    root = tmp_path / "shop"
    try:
        url = "http://127.0.0.1:%d/shop-1.0.0.tar.gz" % server.server_address[1]
        run = playbook.run(play([
            unpack_task("http", root, "1.0.0", url, sums["1.0.0"]),
            unpack_task("s3", root, "2.0.0", "s3://%s/shop/shop-2.0.0.tar.gz" % s3_bucket, "sha256:" + sums["2.0.0"],
                        **s3.module_options()),
            unpack_task("replaced", root, "2.0.0", out / "shop-3.0.0.tar.gz", sums["3.0.0"]),
        ]))
    finally:
        server.shutdown()
    assert run.task("http")["unpacked"] is True
    assert run.task("s3")["unpacked"] is True
    assert (root / "releases" / "2.0.0" / "VERSION").read_text() == "2.0.0\n"
    assert "already exists" in run.task("replaced")["msg"]  # versions are immutable without force
