"""House rules that keep the project honest: docs match the formats, the library is Prefect-free."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from minetax.config import PROJECT_ROOT, SQL_DIR
from minetax.sources.datasets import DATASETS

README = (PROJECT_ROOT / "README.md").read_text()


def test_readme_shows_the_two_commands():
    assert "uv run minetax run" in README and "uv run pytest" in README


def test_readme_documents_every_input_column():
    for ds in DATASETS:
        assert f"`{ds.name}" in README, f"dataset {ds.name} missing from README"
        for col in ds.columns:
            assert re.search(rf"\b{re.escape(col.name)}\b", README), f"{ds.name}.{col.name} missing from README"


def test_readme_documents_output_views():
    for view in ("estimates", "farm_month", "revenue_by_month", "revenue_by_year", "runs"):
        assert f"`{view}`" in README, view


LIBRARY = PROJECT_ROOT / "src" / "minetax"
PACKAGES = ("sources", "load", "validate", "model", "tax", "publish", "outputs", "forecast", "cli")


def _modules() -> dict[str, Path]:
    """Every module of the library by dotted name."""
    out = {}
    for p in LIBRARY.rglob("*.py"):
        parts = p.relative_to(LIBRARY.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


def _imports(path: Path) -> set[str]:
    """The minetax modules a file imports (module level and inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "minetax":
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "minetax")
    return found


def test_layout_has_a_package_per_stage():
    for pkg in PACKAGES:
        assert (LIBRARY / pkg / "__init__.py").is_file(), pkg


def test_tests_mirror_the_packages():
    """tests/<package>/ for each package (tests/ itself for the top-level modules and whole-run tests); shared
    helpers only in tests/conftest.py."""
    tests = PROJECT_ROOT / "tests"
    for pkg in PACKAGES:
        assert list((tests / pkg).glob("test_*.py")), f"tests/{pkg}/ has no tests"
    helpers = [p.name for p in tests.rglob("*.py") if not p.name.startswith("test_")
               and p.name not in ("conftest.py", "reader_loop.py", "make_binary_cases.py")]
    assert not helpers, helpers  # reader_loop.py is a reader process; make_binary_cases.py writes corpus files
    names = [p.name for p in tests.rglob("test_*.py")]
    assert len(names) == len(set(names)), "two test files of one name: pytest imports them as one module"


def test_library_does_not_import_prefect():
    """Domain logic runs without Prefect, in every package; only the CLI reaches flows/, to run a flow."""
    for name, p in _modules().items():
        text = p.read_text()
        assert not re.search(r"^\s*(from|import) prefect", text, re.M), name
        if not name.startswith("minetax.cli"):
            assert not re.search(r"^\s*(from|import) flows", text, re.M), name


def test_nothing_imports_the_command_line():
    for name, p in _modules().items():
        if not name.startswith("minetax.cli"):
            assert not any(i.startswith("minetax.cli") for i in _imports(p)), name


def test_no_import_cycles_between_modules():
    modules = _modules()
    graph = {name: {i for i in _imports(p) if i in modules and i != name and not name.startswith(i + ".")}
             for name, p in modules.items()}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            if not state.get(nxt):
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in graph:
        if not state.get(name):
            visit(name, [name])


def test_sql_files_have_a_header_comment():
    for p in SQL_DIR.rglob("*.sql"):
        assert p.read_text().startswith("-- "), p.name
