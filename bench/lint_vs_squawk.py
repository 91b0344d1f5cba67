# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_lint against squawk on a corpus of real migration files (bench/corpus/).

squawk (PyPI ``squawk-cli``) is the measuring stick only, never a dependency:

    .venv/bin/pip install squawk-cli
    .venv/bin/python bench/lint_vs_squawk.py [--repeat 5] [--show 20]

What it prints:

- per rule family that both tools have (FAMILIES), the (file, family) pairs either tool flags:
  both, ours only, squawk only, the raw agreement (both / either), and the agreement once each
  disagreement is judged (JUDGEMENTS: a disagreement where the judgement says our verdict is the
  right one counts as agreeing, one where squawk is right stays a disagreement, one without a
  judgement stays one too);
- the disagreements themselves, with the judgement and its reason;
- the time per file (and files per second) of each tool: each runs as one process over the whole corpus (squawk's CLI;
  our lint through ``migration_lint``'s service, in a fresh Python running bench/lint_once.py,
  which imports nothing the lint does not need), rounds alternating after one untimed round of
  each, medians; wall time, and CPU time (user + system of all threads: squawk runs several,
  the lint one);
- what one more file costs each tool, without its start-up: both also run over ``--scale``
  copies of the corpus (default 4) and the extra time is divided by the extra files;
- with ``--playbook``, what a user waits in a job: ``ansible-playbook`` with a migration_lint task
  per project, against the same playbook with ansible.builtin.ping in each task (Ansible's own
  start and per-task cost).

Each project's directory is linted as a migration directory (in version order, so the lint
knows the columns of the earlier files); the runner settings are the ones a user of each project
would set: the lint looks for the lock timeout in the file (squawk does too) and reads the
runner's markers for transactions (squawk has none, see JUDGEMENTS).  Run it on a quiet machine:
the load average is printed first.
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from lint_once import CORPUS, lint_corpus

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

# family -> (our rules, squawk rules)
FAMILIES = {
    "drop_column": ({"drop_column"}, {"ban-drop-column"}),
    "drop_table": ({"drop_table"}, {"ban-drop-table"}),
    "drop_function_or_type": ({"drop_object"}, {"ban-drop-function", "ban-drop-type"}),
    "rename_column": ({"rename_column"}, {"renaming-column"}),
    "rename_table": ({"rename_table"}, {"renaming-table"}),
    "rename_object": ({"rename_object"}, {"renaming-object"}),
    "change_column_type": ({"change_column_type"}, {"changing-column-type"}),
    "create_index_concurrently": ({"create_index_without_concurrently"}, {"require-concurrent-index-creation"}),
    "drop_index_concurrently": ({"drop_index_without_concurrently"}, {"require-concurrent-index-deletion"}),
    "constraint_not_valid": ({"constraint_without_not_valid", "validate_in_same_transaction"},
                             {"constraint-missing-not-valid", "adding-foreign-key-constraint"}),
    "unique_constraint": ({"unique_constraint"}, {"disallowed-unique-constraint", "adding-serial-primary-key-field"}),
    "not_null_column": ({"not_null_without_default"}, {"adding-required-field"}),
    "set_not_null": ({"set_not_null"}, {"adding-not-nullable-field"}),
    "rewriting_default": ({"volatile_default"}, {"adding-field-with-default"}),
    "char_column": ({"char_column"}, {"ban-char-field"}),
    "lock_timeout": ({"missing_lock_timeout"}, {"require-lock-timeout"}),
    "concurrently_in_transaction": ({"concurrently_in_transaction"}, {"ban-concurrent-index-creation-in-transaction"}),
    "truncate_cascade": ({"truncate_cascade"}, {"ban-truncate-cascade"}),
    "drop_default": ({"drop_default"}, {"ban-drop-default"}),
    "unparsable": ({"invalid_file"}, {"syntax-error"}),
}
OUR_FAMILY = {rule: family for family, (ours, _theirs) in FAMILIES.items() for rule in ours}
SQUAWK_FAMILY = {rule: family for family, (_ours, theirs) in FAMILIES.items() for rule in theirs}


def sql_files():
    """The corpus files, one list per project directory (in the order the lint reads them)."""
    return {project: glob.glob(os.path.join(CORPUS, project, "**", "*.sql"), recursive=True)
            for project in sorted(os.listdir(CORPUS)) if os.path.isdir(os.path.join(CORPUS, project))}


# -- running the tools --------------------------------------------------------------------------

def import_collection():
    """Make ``ansible_collections.shipyard.deploy`` importable; return the collections root."""
    from harness.playbook import collections_root

    root = collections_root()
    sys.path.insert(0, root)
    return root


def run_ours():
    """Our findings as ``{file: [finding...]}`` (paths relative to the corpus)."""
    return {os.path.relpath(path, CORPUS): findings for path, findings in lint_corpus().items()}


def squawk_binary():
    here = os.path.join(os.path.dirname(sys.executable), "squawk")
    return here if os.path.exists(here) else shutil.which("squawk")


def squawk_argv(files):
    return [squawk_binary(), "--reporter", "json", "--pg-version", "17.0", *files]


def run_squawk(files):
    """squawk's violations as ``{file: [violation...]}``."""
    out = subprocess.run(squawk_argv(files), capture_output=True, text=True, check=False).stdout
    found = collections.defaultdict(list)
    for violation in json.loads(out or "[]"):
        found[os.path.relpath(violation["file"], CORPUS)].append(violation)
    return found


def timed_rounds(files, repeat, root):
    """The wall times and CPU times (user + system) of each tool's rounds as one process over
    every file, rounds alternating (the first round of each, which fills the page cache and the
    bytecode cache, is not counted).

    Ours runs twice per round: ``ours`` with Python's bytecode cache (in a scratch directory),
    as an installed Python package runs, and ``ours_compiling`` compiling every module of the
    collection on each start, as with PYTHONDONTWRITEBYTECODE or a module zipped by Ansible.

    Both times are kept because squawk runs more than one thread: on two idle cores its wall
    time is about two thirds of its CPU time, and our lint is one thread, so the wall ratio
    says what a user waits and the CPU ratio what each tool's work costs.
    """
    ours_argv = [sys.executable, os.path.join(HERE, "lint_once.py"), root]
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = os.path.join(root, "pycache")
    compiling = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    runs = (("squawk", squawk_argv(files), None), ("ours", ours_argv, cached),
            ("ours_compiling", ours_argv, compiling))
    times = {name: [] for name, _argv, _env in runs}
    cpu = {name: [] for name, _argv, _env in runs}
    for _round in range(repeat + 1):
        for name, argv, env in runs:
            used = _children_cpu()
            started = time.perf_counter()
            subprocess.run(argv, capture_output=True, env=env, check=name != "squawk")  # squawk exits 1 on findings
            times[name].append(time.perf_counter() - started)
            cpu[name].append(_children_cpu() - used)
    return ({name: values[1:] for name, values in times.items()}, {name: values[1:] for name, values in cpu.items()})


def scaled_corpus(copies, scratch):
    """``copies`` copies of the corpus under ``scratch`` (projects ``<name>~<n>``), and its .sql files."""
    for number in range(copies):
        for project in sorted(os.listdir(CORPUS)):
            if os.path.isdir(os.path.join(CORPUS, project)):
                shutil.copytree(os.path.join(CORPUS, project), os.path.join(scratch, "%s~%d" % (project, number)))
    return sorted(glob.glob(os.path.join(scratch, "*", "**", "*.sql"), recursive=True))


def marginal_rounds(files, scaled_files, scratch, repeat, root):
    """Median wall times of each tool over the corpus and over its copies, rounds alternating.

    The difference divided by the number of extra files is what one more file costs each tool,
    without its fixed start-up (interpreter, imports; squawk's is a few ms, ours tens).
    """
    ours_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    ours_env["PYTHONPYCACHEPREFIX"] = os.path.join(root, "pycache")
    once = os.path.join(HERE, "lint_once.py")
    runs = {("squawk", 1): (squawk_argv(files), None), ("squawk", 2): (squawk_argv(scaled_files), None),
            ("ours", 1): ([sys.executable, once, root], ours_env),
            ("ours", 2): ([sys.executable, once, root, scratch], ours_env)}
    times = {key: [] for key in runs}
    for _round in range(repeat + 1):
        for key, (argv, env) in runs.items():
            started = time.perf_counter()
            subprocess.run(argv, capture_output=True, env=env, check=key[0] != "squawk")
            times[key].append(time.perf_counter() - started)
    return {key: statistics.median(values[1:]) for key, values in times.items()}


def lint_playbook(scratch, module):
    """A playbook with one task per corpus project, each running ``module``: migration_lint over the
    project directory (the bench's settings), or ansible.builtin.ping (Ansible's own cost per task)."""
    from lint_once import PROJECT_SETTINGS, projects

    tasks = []
    for project in projects():
        if module == "ping":
            tasks.append({"name": project, "ansible.builtin.ping": {}})
            continue
        options = {"paths": [os.path.join(CORPUS, project)], "block_on": "none", "fail_on_blocking": False,
                   "runner_sets_lock_timeout": False, "transactional": "auto"}
        options.update(PROJECT_SETTINGS.get(project, {}))
        tasks.append({"name": project, "shipyard.deploy.migration_lint": options})
    path = os.path.join(scratch, "%s.yml" % module)
    with open(path, "w") as handle:
        json.dump([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}], handle)
    return path


def playbook_rounds(root, repeat):
    """Median wall times of ``ansible-playbook`` linting the corpus (a task per project) and of the same
    playbook with ansible.builtin.ping in each task, rounds alternating: what a user waits in a job, and
    what of it is Ansible's own start and per-task cost."""
    scratch = tempfile.mkdtemp(prefix="shipyard-lint-playbook-")
    try:
        inventory = os.path.join(scratch, "inventory")
        with open(inventory, "w") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(ANSIBLE_COLLECTIONS_PATH=root, ANSIBLE_LOCAL_TEMP=os.path.join(scratch, "tmp"),
                   ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="False", ANSIBLE_NOCOLOR="1")
        playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
        runs = {name: [playbook, "-i", inventory, lint_playbook(scratch, name)] for name in ("lint", "ping")}
        times = {name: [] for name in runs}
        for _round in range(repeat + 1):
            for name, argv in runs.items():
                started = time.perf_counter()
                done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
                if done.returncode != 0:
                    raise RuntimeError("ansible-playbook (%s) failed:\n%s" % (name, done.stdout[-2000:]))
                times[name].append(time.perf_counter() - started)
        return {name: statistics.median(values[1:]) for name, values in times.items()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _children_cpu():
    """User + system CPU seconds of this process's finished children (all their threads)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- judging the disagreements ---------------------------------------------------------------------

def _text(path):
    with open(os.path.join(CORPUS, path), encoding="utf-8", errors="replace") as handle:
        return handle.read()


def _down_section_only(path, line):
    """True when ``line`` (1-based) lies in a goose/dbmate down section (squawk lints those)."""
    lines = _text(path).splitlines()[:line]
    marks = [text for text in lines if re.match(r"^--\s\+goose\s+(up|down)\b|^--\s*migrate:(up|down)", text, re.I)]
    return bool(marks) and re.search(r"down", marks[-1], re.I) is not None


class FileFacts:
    """What a file's statements are, for checking a judgement against the SQL itself: the
    statement at a line, the relations and objects the file created before it, and the columns
    the project's earlier files gave each table (the lint's own schema model, replayed)."""

    def __init__(self, path, model_before):
        from ansible_collections.shipyard.deploy.plugins.module_utils.migrations import lint, markers, statements

        self.lint = lint
        self.statements = statements.split_statements(markers.up_section(_text(path)), path)
        self.model = model_before

    def at(self, line):
        """(index, statement) of the statement that holds ``line``."""
        index = max((i for i, s in enumerate(self.statements) if s.line <= line), default=0)
        return index, self.statements[index]

    def created_before(self, index):
        return {self.lint._created_relation(s.kind, s.node) for s in self.statements[:index]} - {None}

    def model_at(self, index):
        """The schema model right before statement ``index`` (earlier files, then this file's)."""
        import copy

        model = copy.deepcopy(self.model)
        for statement in self.statements[:index]:
            model.apply(statement.kind, statement.node)
        return model

    def defined_after(self, index):
        return {self.lint._defined_object(s.kind, s.node) for s in self.statements[index + 1:]} - {None}


def project_models():
    """{file: SchemaModel as it was before the file}, replaying each project in the lint's order."""
    import copy

    from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.lint import (
        collect_sql_files,
        lint_script,
    )
    from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.schema_model import SchemaModel

    models = {}
    for project in sql_files():
        model = SchemaModel()
        for path in collect_sql_files([os.path.join(CORPUS, project)]):
            models[os.path.relpath(path, CORPUS)] = copy.deepcopy(model)
            try:
                lint_script(_text(os.path.relpath(path, CORPUS)), path, model=model)
            except Exception:  # an unparsable file teaches the model nothing  # noqa: S112
                continue
    return models


class _Created:
    """The lint's context as far as ``_references_existing`` needs it: what the file created."""

    def __init__(self, facts, index):
        self.created = facts.created_before(index)


def _relation(node):
    rangevar = node.get("relation")
    return rangevar.get("relname") if rangevar is not None else None


def _cmds(node):
    """The fields of each AlterTableCmd of a statement."""
    return [cmd["AlterTableCmd"] for cmd in node.get("cmds", ())]


def _contype(cmd):
    """The constraint type an ADD CONSTRAINT command adds (None for other commands)."""
    return cmd["def"]["Constraint"]["contype"] if cmd["subtype"] == "AT_AddConstraint" else None


def judge(family, path, ours, theirs, facts):
    """``(verdict, reason)`` of one disagreement, each checked against the SQL: ``ours`` (our
    finding, or our silence, is right), ``squawk`` (theirs is) or ``open`` (not judged)."""
    if theirs and all(_down_section_only(path, v["line"] + 1) for v in theirs):
        return "ours", "squawk lints the down section of a goose/dbmate file, which runs only on rollback"
    if family == "unparsable" and theirs and facts is not None:
        return "ours", "PostgreSQL's own parser (libpg_query, through pglast) parses the file; squawk's does not"
    if facts is None:
        return "open", "the file does not parse"
    if theirs and not ours:
        index, statement = facts.at(theirs[0]["line"] + 1)
        kind, node, relation = statement.kind, statement.node, _relation(statement.node)
        if relation and relation in facts.created_before(index):
            return "ours", "the table was created earlier in the same file: new, empty, nobody waits on it"
        if family == "constraint_not_valid" and any(
                _contype(c) in ("CONSTR_UNIQUE", "CONSTR_PRIMARY") for c in _cmds(node)) \
                and any(f["rule"] == "unique_constraint" for f in facts.findings):
            return "ours", "UNIQUE/PRIMARY KEY cannot be NOT VALID: reported by our unique_constraint rule"
        if family == "lock_timeout":
            if kind == "CreateStmt" and not facts.lint._references_existing(node, _Created(facts, index)):
                return "ours", "CREATE TABLE referencing only tables the same file created: nobody waits on them"
            if kind in ("CreateFunctionStmt", "CreateEnumStmt", "AlterEnumStmt", "CompositeTypeStmt",
                        "CreateDomainStmt", "CreateExtensionStmt"):
                return "ours", "%s locks no table the application's queries use" % kind
            if kind == "IndexStmt" and node.get("concurrent"):
                return "ours", ("CREATE INDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE, which no read or write "
                                "conflicts with, so queries do not queue behind it")
        if family == "change_column_type":
            for cmd in _cmds(node):
                if cmd["subtype"] == "AT_AlterColumnType":
                    from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.schema_model import (
                        type_signature,
                        widens,
                    )
                    coldef = cmd["def"]["ColumnDef"]
                    column = facts.model_at(index).column(relation, cmd.get("name"))
                    new = type_signature(coldef.get("typeName"))
                    if column and widens(column["type"], new) and coldef.get("raw_default") is None:
                        return "ours", "%s of a column the earlier statements created: catalog only" % (
                            "the same type again" if column["type"] == new else "a widening")
        if family == "drop_default":
            model = facts.model_at(index)
            for cmd in _cmds(node):
                column = model.column(relation, cmd.get("name")) if cmd["subtype"] == "AT_ColumnDefault" else None
                if column and not column["not_null"]:
                    return "ours", "the column is nullable: the old version's INSERTs get NULL, nothing fails"
        if family == "not_null_column" and any(
                cmd["subtype"] == "AT_AddColumn" and facts.lint._type_name(cmd["def"]["ColumnDef"].get("typeName"))
                in facts.lint.SERIAL_TYPES for cmd in _cmds(node)):
            return "ours", "a serial column has a default (nextval): NOT NULL is satisfied"
        if family == "drop_function_or_type" and kind == "DropStmt":
            dropped = facts.lint.DROPPED_KINDS.get(node["removeType"])
            names = {facts.lint._object_name(obj) for obj in node.get("objects", ())}
            if dropped and all((dropped, name) in facts.defined_after(index) for name in names):
                return "ours", "the script creates it again later (%s), so the running version finds it" % (
                    ", ".join(sorted(names)))
        if family == "rewriting_default":
            return "open", "squawk calls this default rewriting"
    if ours and not theirs:
        if any(f["rule"] == "invalid_file" for f in ours) is False and facts.squawk_syntax_error:
            return "ours", "squawk cannot parse the file, so it reports nothing else about it"
        index, statement = facts.at(ours[0]["line"])
        kind, node = statement.kind, statement.node
        if family == "rewriting_default" and any(
                cmd["subtype"] == "AT_AddColumn" and facts.lint._rewriting_default(
                    cmd["def"]["ColumnDef"], facts.lint._type_name(cmd["def"]["ColumnDef"].get("typeName")),
                    {c["contype"] for c in facts.lint._constraints(cmd["def"]["ColumnDef"])})
                for cmd in _cmds(node)):
            return "ours", ("serial/identity/STORED generated column or a default calling a volatile or "
                            "unknown function: PostgreSQL rewrites the table")
        if family == "lock_timeout" and kind in ("CreateStmt", "CreateTrigStmt"):
            return "ours", "%s locks an existing table; squawk does not check it" % kind
        if family == "unique_constraint" and any(
                _contype(c) == "CONSTR_PRIMARY" and not c["def"]["Constraint"].get("indexname") for c in _cmds(node)):
            return "ours", "ADD PRIMARY KEY builds its index under ACCESS EXCLUSIVE; squawk checks UNIQUE only"
        if family == "concurrently_in_transaction":
            return "open", "the file's runner: is it in a transaction?"
    return "open", "not judged"


# -- report ---------------------------------------------------------------------------------------

def compare(ours, squawk):
    """Per family: {(file): (our findings, squawk violations)} for the files either tool flags."""
    pairs = collections.defaultdict(dict)
    for path, findings in ours.items():
        for finding in findings:
            family = OUR_FAMILY.get(finding["rule"])
            if family:
                pairs[family].setdefault(path, ([], []))[0].append(finding)
    for path, violations in squawk.items():
        for violation in violations:
            family = SQUAWK_FAMILY.get(violation["rule_name"])
            if family:
                pairs[family].setdefault(path, ([], []))[1].append(violation)
    return pairs


def report(pairs, show, facts_of):
    total = {"pairs": 0, "both": 0, "judged_ours": 0}
    print("%-28s %6s %6s %6s %6s %8s %8s" % ("family", "either", "both", "ours", "squawk", "raw", "judged"))
    disagreements = []
    for family in FAMILIES:
        cases = pairs.get(family, {})
        both = sum(1 for o, t in cases.values() if o and t)
        ours_only = sum(1 for o, t in cases.values() if o and not t)
        theirs_only = sum(1 for o, t in cases.values() if t and not o)
        judged_ours = 0
        for path, (o, t) in sorted(cases.items()):
            if o and t:
                continue
            verdict, reason = judge(family, path, o, t, facts_of(path))
            judged_ours += verdict == "ours"
            disagreements.append((family, path, "ours" if o else "squawk", verdict, reason,
                                  (o[0]["line"] if o else t[0]["line"] + 1)))
        either = len(cases)
        total["pairs"] += either
        total["both"] += both
        total["judged_ours"] += judged_ours
        if either:
            print("%-28s %6d %6d %6d %6d %7.1f%% %7.1f%%" % (
                family, either, both, ours_only, theirs_only, 100.0 * both / either,
                100.0 * (both + judged_ours) / either))
    if total["pairs"]:
        print("%-28s %6d %6d %6s %6s %7.1f%% %7.1f%%" % (
            "ALL shared families", total["pairs"], total["both"], "", "", 100.0 * total["both"] / total["pairs"],
            100.0 * (total["both"] + total["judged_ours"]) / total["pairs"]))
    by_reason = collections.Counter((d[0], d[2], d[3], d[4]) for d in disagreements)
    print("\ndisagreements by judgement (family, flagged by, verdict, reason): count")
    for (family, flagged, verdict, reason), count in by_reason.most_common():
        print("  %-26s %-6s %-6s %4d  %s" % (family, flagged, verdict, count, reason))
    open_ones = [d for d in disagreements if d[3] != "ours"]
    print("\nnot agreeing after judgement (%d), first %d:" % (len(open_ones), show))
    for family, path, flagged, verdict, reason, line in open_ones[:show]:
        print("  %-26s %s:%s flagged by %s (%s: %s)" % (family, path, line, flagged, verdict, reason))
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--show", type=int, default=25)
    parser.add_argument("--scale", type=int, default=4,
                        help="also time both tools over this many copies of the corpus: the time an extra file costs")
    parser.add_argument("--playbook", action="store_true",
                        help="also time ansible-playbook linting the corpus, a migration_lint task per project")
    args = parser.parse_args()
    if squawk_binary() is None:
        sys.exit("squawk not found: pip install squawk-cli into this interpreter's environment")
    print("load average %.2f %.2f %.2f on %d CPUs" % (*os.getloadavg(), os.cpu_count()))
    files = [f for project in sql_files().values() for f in project]
    with open(os.path.join(CORPUS, "MANIFEST.json")) as handle:
        manifest = json.load(handle)
    print("corpus: %d files, %d repositories, %.1f MB" % (
        len(files), len({m["repository"] for m in manifest}), sum(os.path.getsize(f) for f in files) / 1e6))
    print(subprocess.run([squawk_binary(), "--version"], capture_output=True, text=True, check=True).stdout.strip())
    root = import_collection()
    ours, theirs = run_ours(), run_squawk(files)
    pairs = compare(ours, theirs)
    models = project_models()
    cache = {}

    def facts_of(path):
        if path not in cache:
            try:
                cache[path] = FileFacts(path, models.get(path))
                cache[path].findings = ours.get(path, [])
                cache[path].squawk_syntax_error = any(v["rule_name"] == "syntax-error" for v in theirs.get(path, []))
            except Exception:  # the judgement then says the file does not parse
                cache[path] = None
        return cache[path]

    report(pairs, args.show, facts_of)
    rounds, cpu_rounds = timed_rounds(files, args.repeat, root)
    times = {name: statistics.median(values) for name, values in rounds.items()}
    cpu = {name: statistics.median(values) for name, values in cpu_rounds.items()}
    in_process = []
    for _round in range(args.repeat):
        started = time.perf_counter()
        run_ours()
        in_process.append(time.perf_counter() - started)
    per_file = {name: 1000 * value / len(files) for name, value in times.items()}
    cpu_per_file = {name: 1000 * value / len(files) for name, value in cpu.items()}
    print("\ntime per file (one process over the corpus, median of %d): squawk %.3f ms (%.0f files/s), ours %.3f ms "
          "(%.0f files/s): ours/squawk = %.2fx" % (
              args.repeat, per_file["squawk"], 1000 / per_file["squawk"], per_file["ours"], 1000 / per_file["ours"],
              times["ours"] / times["squawk"]))
    print("CPU time per file (user + system, all threads): squawk %.3f ms (%.1f CPUs busy), ours %.3f ms: "
          "ours/squawk = %.2fx" % (cpu_per_file["squawk"], cpu["squawk"] / times["squawk"], cpu_per_file["ours"],
                                   cpu["ours"] / cpu["squawk"]))
    fastest = {name: 1000 * min(values) / len(files) for name, values in rounds.items()}
    print("fastest round of each (the least disturbed by other processes): squawk %.3f ms, ours %.3f ms: %.2fx"
          % (fastest["squawk"], fastest["ours"], fastest["ours"] / fastest["squawk"]))
    print("ours compiling its modules on each start (no bytecode cache): %.3f ms per file = %.2fx squawk"
          % (per_file["ours_compiling"], times["ours_compiling"] / times["squawk"]))
    print("ours in one warm process (no interpreter start, no imports): %.3f ms per file = %.2fx squawk's process"
          % (1000 * statistics.median(in_process) / len(files), statistics.median(in_process) / times["squawk"]))
    if args.scale > 1:
        scratch = tempfile.mkdtemp(prefix="shipyard-lint-scaled-")
        try:
            scaled = scaled_corpus(args.scale, scratch)
            marginal = marginal_rounds(files, scaled, scratch, args.repeat, root)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        extra = len(scaled) - len(files)
        cost = {tool: 1000 * (marginal[(tool, 2)] - marginal[(tool, 1)]) / extra for tool in ("squawk", "ours")}
        fixed = {tool: 1000 * marginal[(tool, 1)] - cost[tool] * len(files) for tool in ("squawk", "ours")}
        print("one more file (corpus x1 against x%d, %d extra files, medians of %d): squawk %.3f ms, ours %.3f ms: "
              "ours/squawk = %.2fx; fixed start-up: squawk %.0f ms, ours %.0f ms"
              % (args.scale, extra, args.repeat, cost["squawk"], cost["ours"], cost["ours"] / cost["squawk"],
                 fixed["squawk"], fixed["ours"]))
    if args.playbook:
        waited = playbook_rounds(root, args.repeat)
        print("through ansible-playbook, a migration_lint task per project (%d tasks, medians of %d): %.2f s; "
              "the same playbook with ansible.builtin.ping tasks %.2f s; the lint's share %.0f ms, squawk's "
              "whole run %.0f ms" % (len(sql_files()), args.repeat, waited["lint"], waited["ping"],
                                     1000 * (waited["lint"] - waited["ping"]), 1000 * times["squawk"]))


if __name__ == "__main__":
    main()
