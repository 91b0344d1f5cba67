"""Release pruning, checksum parsing and archive safety (pure logic on real tar files)."""

from __future__ import annotations

import io
import tarfile

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils import release
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError


def releases(*versions):
    return [{"version": v, "unpacked_at": "2026-01-%02d" % i} for i, v in enumerate(versions, 1)]


def test_prune_keeps_newest_and_protected():
    found = releases("1.0", "1.1", "1.2", "1.3", "1.4")
    assert release.plan_prune(found, keep=2, protected={"1.0"}) == ["1.1", "1.2"]
    assert release.plan_prune(found, keep=5, protected=set()) == []
    with pytest.raises(ConfigurationError):
        release.plan_prune(found, keep=0, protected=set())


def test_checksum_forms():
    digest = "A" * 64
    assert release.normalize_checksum("sha256:" + digest) == "a" * 64
    with pytest.raises(ConfigurationError, match="SHA-256"):
        release.normalize_checksum("md5:abc")


def test_source_description_hides_credentials():
    assert release.describe_source("https://user:tok@example.invalid/a.tgz?X-Amz-Signature=s") == \
        "https://example.invalid/a.tgz"


def evil_tar(tmp_path, name, linkname=None):
    path = tmp_path / "evil.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo(name)
        if linkname:
            info.type = tarfile.SYMTYPE
            info.linkname = linkname
            tar.addfile(info)
        else:
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    return str(path)


@pytest.mark.parametrize("name,link", [("../escape", None), ("/etc/passwd-x", None), ("ok/../../x", None),
                                       ("link", "/etc"), ("sub/link", "../../outside")])
def test_unpack_refuses_escapes(tmp_path, name, link):
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(release.ReleaseError, match="outside"):
        release.unpack(evil_tar(tmp_path, name, link), str(dest))
    assert list(dest.iterdir()) == []
