"""Build the demo shop's release artifacts: shop-<version>.tar.gz and a .sha256 beside each.

- 1.0.0: creates ``items`` (migration V1).
- 2.0.0: adds ``orders`` (migration V2, expand-only), needs it to report healthy.
- 3.0.0: same schema, but a deliberate bug answers 30% of requests with 500 — the canary that
  the analysis must roll back.
- 4.0.0: same schema, healthy, but its API (``/api/me``) always answers 500 — the smoke test of the
  idle slot must stop it before any traffic.
- 5.0.0: same schema, healthy, its API answers once, then 500 — the smoke test of the idle slot
  passes, the one through the load balancer after the switch must roll it back.

Archives are reproducible (sorted entries, fixed mtimes and owners), so checksums are stable.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "app")

RELEASES = {
    "1.0.0": {"migrations": ["V1__create_items.sql"], "release": {"requires_table": "items", "bug_rate": 0}},
    "2.0.0": {"migrations": ["V1__create_items.sql", "V2__add_orders.sql"],
              "release": {"requires_table": "orders", "bug_rate": 0}},
    "3.0.0": {"migrations": ["V1__create_items.sql", "V2__add_orders.sql"],
              "release": {"requires_table": "orders", "bug_rate": 0.3}},
    "4.0.0": {"migrations": ["V1__create_items.sql", "V2__add_orders.sql"],
              "release": {"requires_table": "orders", "bug_rate": 0, "api_calls_before_failing": 0}},
    "5.0.0": {"migrations": ["V1__create_items.sql", "V2__add_orders.sql"],
              "release": {"requires_table": "orders", "bug_rate": 0, "api_calls_before_failing": 1}},
}


def _add(tar, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 1_700_000_000
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    tar.addfile(info, io.BytesIO(data))


def build(version, outdir):
    """Write shop-<version>.tar.gz and its .sha256 into ``outdir``; return the archive path."""
    spec = RELEASES[version]
    path = os.path.join(outdir, "shop-%s.tar.gz" % version)
    buffer = io.BytesIO()
    # gzip header mtime 0 keeps the archive byte-identical between builds
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        with open(os.path.join(APP, "app.py"), "rb") as handle:
            _add(tar, "app.py", handle.read(), 0o755)
        _add(tar, "VERSION", (version + "\n").encode())
        _add(tar, "release.json", json.dumps(spec["release"], sort_keys=True).encode())
        _add(tar, "config.env.example", b"DATABASE_URL=postgresql://shop@127.0.0.1/shop\nLOG_LEVEL=warn\n")
        for name in sorted(spec["migrations"]):
            with open(os.path.join(APP, "migrations", name), "rb") as handle:
                _add(tar, "migrations/" + name, handle.read())
    data = buffer.getvalue()
    with open(path, "wb") as handle:
        handle.write(data)
    digest = hashlib.sha256(data).hexdigest()
    with open(path + ".sha256", "w") as handle:
        handle.write("%s  %s\n" % (digest, os.path.basename(path)))
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("versions", nargs="*", default=sorted(RELEASES))
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    for version in args.versions:
        print(build(version, args.outdir))


if __name__ == "__main__":
    main()
