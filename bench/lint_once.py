# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run of our lint over bench/corpus/, as ``bench/lint_vs_squawk.py`` times it.

    python bench/lint_once.py <collections root> [<corpus directory>]

lints each project directory through ``migration_lint``'s service and prints the rules found
per file as JSON.  It imports only what that needs, so its process costs what our lint costs
(interpreter start, the lint's imports, the lint), as squawk's process costs what squawk does;
the comparison and the report live in lint_vs_squawk.py.
"""

from __future__ import annotations

import json
import os
import sys

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
# What a user of each project sets for its runner (everything else: the defaults, markers read).
PROJECT_SETTINGS = {
    # temporal-sql-tool runs a versioned file statement by statement, outside a transaction (its
    # files use CREATE INDEX CONCURRENTLY without any marker).
    "temporalio+temporal": {"transactional": "no"},
}


def projects(corpus=CORPUS):
    """The project directories of the corpus, by name."""
    return [p for p in sorted(os.listdir(corpus)) if os.path.isdir(os.path.join(corpus, p))]


def lint_corpus(corpus=CORPUS):
    """Our findings (and suppressed ones) as ``{absolute file: [finding...]}``, linting each
    project directory; needs ``ansible_collections.shipyard.deploy`` importable."""
    from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.lint import lint_service

    found = {}
    for project in projects(corpus):
        options = dict(paths=[os.path.join(corpus, project)], sql=None, block_on="none", block_on_rules=[],
                       disable=[], runner_sets_lock_timeout=False, transactional="auto", fail_on_blocking=False)
        # a copy of the corpus (lint_vs_squawk.py's scaled run) names its projects <project>~<n>
        options.update(PROJECT_SETTINGS.get(project.split("~")[0], {}))
        result = lint_service(options, False, False)
        for finding in result["findings"] + result["suppressed"]:
            found.setdefault(finding["file"], []).append(finding)
    return found


if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1])
    corpus = sys.argv[2] if len(sys.argv) > 2 else CORPUS
    json.dump({path: [f["rule"] for f in findings] for path, findings in lint_corpus(corpus).items()}, sys.stdout)
