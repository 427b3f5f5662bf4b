"""House rules that keep the project honest: docs match the formats, the library is Prefect-free."""

from __future__ import annotations

import re

from minetax.config import PROJECT_ROOT, SQL_DIR
from minetax.datasets import DATASETS

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


def test_library_does_not_import_prefect():
    """Domain logic runs without Prefect; only the CLI reaches flows/, lazily, to run a flow."""
    for p in (PROJECT_ROOT / "src" / "minetax").glob("*.py"):
        text = p.read_text()
        assert not re.search(r"^\s*(from|import) prefect", text, re.M), p.name
        if p.name != "cli.py":
            assert not re.search(r"^\s*(from|import) flows", text, re.M), p.name


def test_sql_files_have_a_header_comment():
    for p in SQL_DIR.glob("*.sql"):
        assert p.read_text().startswith("-- "), p.name
