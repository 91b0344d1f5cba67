# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rebuild bench/corpus/ from local git mirrors of public repositories (how it was collected).

Only permissively licensed projects (Apache-2.0, MIT) and only their PostgreSQL migration files
(data, not code) are copied (not supabase/auth: its migrations are Go templates, not SQL), each
project's licence next to them, and bench/corpus/MANIFEST.json
records for every file its repository, commit, path, licence and SHA-256.

    python bench/corpus_collect.py --mirrors /path/to/mirrors   # <owner>+<name>/repo git dirs
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

# repository -> (licence, path pattern of its PostgreSQL migrations, at most this many, oldest first)
SOURCES = {
    "ory/kratos": ("Apache-2.0", r"^persistence/sql/migrations/sql/.*\.postgres\.up\.sql$", None),
    "triggerdotdev/trigger.dev": ("Apache-2.0",
                                  r"^internal-packages/database/prisma/migrations/[^/]+/migration\.sql$", 250),
    "supabase/storage": ("Apache-2.0", r"^migrations/(tenant|multitenant)/.*\.sql$", None),
    "hatchet-dev/hatchet": ("MIT", r"^cmd/hatchet-migrate/migrate/migrations/.*\.sql$", 150),
    "temporalio/temporal": ("MIT", r"^schema/postgresql/v12/.*/versioned/.*\.sql$", None),
    "goharbor/harbor": ("Apache-2.0", r"^make/migrations/postgresql/.*\.sql$", None),
}


SMART_QUOTES = re.compile("[\u2018\u2019\u201c\u201d]")


def git(mirror, *args):
    return subprocess.run(["git", "--git-dir", mirror, *args], capture_output=True, check=True).stdout


def collect(mirrors):
    """Copy the files and write the manifest; return the number of files."""
    manifest = []
    for repo, (licence, pattern, limit) in SOURCES.items():
        mirror = os.path.join(mirrors, repo.replace("/", "+"), "repo")
        commit = git(mirror, "rev-parse", "HEAD").decode().strip()
        names = git(mirror, "ls-tree", "-r", "--name-only", "HEAD").decode().splitlines()
        paths = sorted(p for p in names if re.match(pattern, p))[:limit]
        target = os.path.join(CORPUS, repo.replace("/", "+"))
        licence_file = next(n for n in names if re.match(r"^LICEN[CS]E(\.md|\.txt)?$", n))
        os.makedirs(target, exist_ok=True)
        with open(os.path.join(target, "LICENSE"), "wb") as handle:
            handle.write(git(mirror, "show", "HEAD:" + licence_file))
        for path in paths:
            data = git(mirror, "show", "HEAD:" + path)
            if SMART_QUOTES.search(data.decode("utf-8", "replace")):
                continue  # ansible-test's no-smart-quotes sanity test reads every file of the repository
            local = os.path.join(target, path)
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, "wb") as handle:
                handle.write(data)
            manifest.append({"file": os.path.relpath(local, CORPUS), "repository": repo, "commit": commit,
                             "path": path, "licence": licence, "sha256": hashlib.sha256(data).hexdigest()})
    with open(os.path.join(CORPUS, "MANIFEST.json"), "w") as handle:
        json.dump(manifest, handle, indent=1)
        handle.write("\n")
    return len(manifest)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", required=True)
    print("%d files" % collect(parser.parse_args().mirrors))
