"""Tables that fit the terminal (minetax.cli.layout), captured from a Rich console 80 columns wide: nothing is cut,
numbers stay whole, text wraps between words, records are shown one block each when a table would not fit."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from minetax.cli.layout import Col, show, table_widths

NUMBERS = [Col("scenario_id"), Col("scheme_id"), Col("year", True), Col("base_kwh", True), Col("tax_low_kzt", True),
           Col("tax_kzt", True), Col("tax_high_kzt", True), Col("run_id")]
ROWS = [["kz-baseline", "kz-mining-fee", str(y), "1,813,520,198.50", "29,498,908,184.62", "38,909,384,644.43",
         "55,838,737,335.33", "20261127T161441Z-b5f327"] for y in (2021, 2022)]


def capture(cols, rows, width=80, **kw) -> tuple[str, str]:
    out = io.StringIO()
    used = show(Console(file=out, width=width, markup=False, color_system=None), cols, rows, **kw)
    return used, out.getvalue()


def assert_whole(text: str, rows) -> None:
    assert "…" not in text
    for r in rows:
        for v in r:
            for word in v.split():
                assert word in text, word


def test_wide_numbers_become_records_with_every_digit():
    used, text = capture(NUMBERS, ROWS)
    assert used == "vertical"
    assert all(len(line) <= 80 for line in text.splitlines()), text
    assert_whole(text, ROWS)
    assert re.search(r"^tax_kzt +38,909,384,644\.43$", text, re.M), text
    assert text.count("─[ ") == 2


def test_a_table_by_request_keeps_numbers_whole_even_when_wider():
    used, text = capture(NUMBERS, ROWS, layout="table")
    assert used == "table"
    assert_whole(text, ROWS)
    assert "│ 38,909,384,644.43 │" in text


def test_a_table_that_fits_is_a_table():
    cols, rows = [Col("farm_id"), Col("tax_kzt", True)], [["KZ-F01", "1,234.50"], ["KZ-F02", "12.00"]]
    used, text = capture(cols, rows)
    assert used == "table" and "│ KZ-F01  │ 1,234.50 │" in text


def test_prose_wraps_between_words_and_ids_stay_whole():
    comment = "1, 3 and 5-year totals of a comparison, from the first year the reform differs. " * 2
    cols, rows = [Col("table_name"), Col("kind"), Col("table_comment")], [["budget_windows", "table", comment]]
    used, text = capture(cols, rows, width=60)
    assert used == "table"
    assert all(len(line) <= 60 for line in text.splitlines()), text
    assert "budget_windows" in text and "comparison," in text and "…" not in text
    widths = table_widths(cols, rows, 60)
    assert widths is not None and sum(widths) + 3 * 3 + 1 == 60


def test_width_zero_is_no_limit_and_vertical_by_request():
    out = io.StringIO()
    assert show(Console(file=out, width=80, color_system=None), NUMBERS, ROWS, width=0) == "table"
    assert_whole(out.getvalue(), ROWS)
    used, text = capture([Col("a")], [["x"]], layout="vertical")
    assert used == "vertical" and re.search(r"^a +x$", text, re.M)


@pytest.mark.parametrize("value", ["[/red]", "[bold]x[/bold]", "[link=x]y"])
def test_cells_are_text_not_markup(value):
    for layout in ("table", "vertical"):
        _, text = capture([Col("v")], [[value]], layout=layout)
        assert value in text


def test_no_rows():
    used, text = capture(NUMBERS, [], layout="vertical")
    assert "columns: scenario_id, scheme_id, year" in text
