"""Django's private attributes are touched in `core/` only (STYLE rule 12), beside tests/test_core_internals.py.

Every non-test project module outside core/ (and outside migrations, .venv, tests) is scanned for the
private attributes that were reached for before: prefetch caches, QuerySet result caches, formset
internals, model state, and private attributes set on a request. `_meta` is Django's public API.
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {"core", "tests", "migrations", ".venv", "node_modules", "static", "templates", "docs", "var"}
PRIVATE = re.compile(
    r"\._prefetched_objects_cache\b|\._result_cache\b|\._prefetch_done\b|\._should_delete_form\b|\._state\."
    r"|\brequest\._[a-z]\w*|\._known_related_objects\b|\._deferred\b"
)


def offenders(root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if SKIPPED_DIRS.intersection(relative.parts[:-1]) or relative.name.startswith("test_") or relative.name == "conftest.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if PRIVATE.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_django_private_attribute_outside_core():
    found = offenders()
    assert not found, "Django internals outside core/ (add a core helper and pin it there):\n" + "\n".join(found)


def test_the_scan_finds_each_kind(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "mod.py").write_text(
        "a._prefetched_objects_cache = {}\nqs._result_cache\nformset._should_delete_form(form)\n"
        "obj._state.adding\nrequest._fee_edit_error = e\nobj._meta.get_field('x')\nrequest.user\n"
    )
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "db.py").write_text("qs._result_cache = items\n")
    assert [line.split(":")[1] for line in offenders(tmp_path)] == ["1", "2", "3", "4", "5"]
