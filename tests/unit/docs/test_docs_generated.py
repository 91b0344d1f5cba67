"""The generated reference pages: current, complete, deterministic, and free of raw Ansible markup."""

from __future__ import annotations

import os
import re
import shutil

import pytest

# I(), C(), B(), O(), V(), RV(), M(), U(), L(), E(), P() not converted by the generator
RAW_MARKUP = re.compile(r"(?<![A-Za-z0-9_])(?:[ICBOVMULEP]|RV)\([^)\s]")
CODE_BLOCK = re.compile(r"^```.*?^```", re.S | re.M)


def test_committed_pages_are_what_make_docs_writes(generator, pages):
    stale = generator.stale(pages)
    assert not stale, "stale documentation, run `make docs` and commit docs/: %s" % ", ".join(stale)


def test_a_changed_or_orphaned_page_is_reported(generator, pages, tmp_path):
    docs = tmp_path / "docs"
    for path, content in pages.items():
        (docs / path).parent.mkdir(parents=True, exist_ok=True)
        (docs / path).write_text(content)
    assert generator.stale(pages, str(docs)) == []

    (docs / "modules" / "pg_backup.md").write_text(pages["modules/pg_backup.md"].replace("pg_dump", "pg_dumb", 1))
    (docs / "modules" / "removed_module.md").write_text("old\n")
    shutil.rmtree(docs / "roles")
    assert generator.stale(pages, str(docs)) == [
        "modules/pg_backup.md",
        *sorted(p for p in pages if p.startswith("roles/")),
        "modules/removed_module.md (no longer generated)",
    ]


def test_generation_is_deterministic(generator, sources, pages):
    assert generator.render(generator.collect()) == pages


def test_every_module_and_role_has_a_page_listed_in_the_index(generator, pages):
    modules = sorted(f[:-3] for f in os.listdir(os.path.join(generator.ROOT, "plugins", "modules"))
                     if f.endswith(".py"))
    roles = sorted(os.listdir(os.path.join(generator.ROOT, "roles")))
    assert sorted(p for p in pages if p.startswith("modules/")) == ["modules/%s.md" % m for m in modules]
    assert sorted(p for p in pages if p.startswith("roles/")) == ["roles/%s.md" % r for r in roles]
    for path in [p for p in pages if "/" in p] + ["playbooks.md", "getting-started.md"]:
        assert "(%s)" % path in pages["index.md"] or "(%s#" % path in pages["index.md"], path


def _paths(options, key, prefix=()):
    for name, option in options.items():
        yield (*prefix, name)
        yield from _paths(option.get(key) or {}, key, (*prefix, name))


@pytest.mark.parametrize("kind", ["option", "return"])
def test_module_pages_hold_every_option_and_return_value_with_nested_ones(sources, pages, kind):
    nested = 0
    for name, data in sources.module_docs.items():
        values = data["doc"].get("options") if kind == "option" else data.get("return")
        for path in _paths(values or {}, "suboptions" if kind == "option" else "contains"):
            nested += len(path) > 1
            row = '<a id="%s-%s"></a>`%s`' % (kind, ".".join(path), ".".join(path))
            assert row in pages["modules/%s.md" % name], (name, path)
    assert nested > 0  # suboptions (canary_analysis probe.*) and contains are really walked


def test_module_pages_state_defaults_choices_required_and_check_mode(pages):
    page = pages["modules/pg_backup.md"]
    assert "| <a id=\"option-compression_level\"></a>`compression_level` | int |  | `1` |" in page
    assert "| <a id=\"option-location\"></a>`location` | str | yes |" in page
    assert re.search(r"\| `check_mode` \| \*\*full\*\* \| .*Writes nothing", page)
    assert "```yaml\n" in page and "## Return values" in page
    assert "`driver` | str | yes |  | `haproxy`, `nginx`, `aws_alb` |" in pages["modules/traffic_switch.md"]


def test_every_no_log_option_is_marked_secret(generator, sources, pages):
    marked = 0
    for name, spec in sources.module_specs.items():
        lines = pages["modules/%s.md" % name].splitlines()
        for path in generator.secret_options(spec):
            row = next(line for line in lines if line.startswith('| <a id="option-%s"></a>' % ".".join(path)))
            assert "**Secret** (`no_log`)" in row, (name, path)
            marked += 1
        for line in lines:
            if "**Secret** (`no_log`)" in line:
                option = re.match(r'\| <a id="option-([^"]+)"', line).group(1)
                assert tuple(option.split(".")) in generator.secret_options(spec), (name, option)
    assert marked >= 10  # password, conninfo, AWS keys, bearer tokens, webhook_url…


def test_no_raw_ansible_markup_is_left(pages):
    for path, content in pages.items():
        prose = CODE_BLOCK.sub("", content)
        assert not RAW_MARKUP.findall(prose), (path, RAW_MARKUP.findall(prose)[:3])


def test_links_between_pages_point_at_existing_pages_and_anchors(generator, pages):
    anchors = {path: set(re.findall(r'<a id="([^"]+)"></a>', content)) for path, content in pages.items()}
    with open(os.path.join(generator.DOCS, "getting-started.md")) as handle:
        checked_pages = dict(pages, **{"getting-started.md": handle.read()})
    checked = 0
    for path, content in checked_pages.items():
        for target in re.findall(r"\]\(([^)\s]+)\)", CODE_BLOCK.sub("", content)):
            if target.startswith(("http://", "https://", "<")):
                continue
            page, fragment = [*target.split("#", 1), ""][:2]
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), page)) if page else path
            exists = resolved in pages or os.path.exists(os.path.join(generator.DOCS, resolved))
            assert exists, (path, target)
            if fragment and resolved in anchors:
                assert fragment in anchors[resolved], (path, target)
            checked += 1
    assert checked > 100


def test_role_pages_hold_every_entry_point_and_option(sources, pages):
    for role, data in sources.role_docs.items():
        page = pages["roles/%s.md" % role]
        for entry, spec in data["entry_points"].items():
            assert '<a id="entry-point-%s"></a>' % entry in page
            for path in _paths(spec.get("options") or {}, "options"):
                assert '<a id="%s--option-%s"></a>' % (entry, ".".join(path)) in page, (role, entry, path)
    assert "tasks_from: fetch" in pages["roles/app_release.md"]
