"""Tables that fit the terminal: a table when its columns fit, else one block per record (`column  value`).

Nothing is ever cut with "…": numbers and words keep every character. A table's widths are chosen here, not by
Rich (which shrinks columns it cannot wrap and cuts their cells): numbers get their full width, text columns wrap
between words, and when even that does not fit the records are shown one block each. A table asked for by name
(`layout="table"`) that cannot fit is printed at the width it needs. Cells are plain strings printed as Text, never
as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

Layout = Literal["auto", "table", "vertical"]
READABLE = 16  # a wrapped column narrower than this (and than its text) reads badly: auto shows records instead


@dataclass(frozen=True)
class Col:
    name: str
    number: bool = False  # right-aligned, never wrapped


def show(console: Console, cols: Sequence[Col], rows: Sequence[Sequence[str]], *, title: str | None = None,
         layout: Layout = "auto", width: int | None = None) -> str:
    """Print rows as a table or as records, whichever fits `width` (default: the console's; 0: no limit).

    Returns the layout used ("table" or "vertical")."""
    limit = console.width if width is None else width or None
    widths = table_widths(cols, rows, limit)
    if layout == "vertical" or (layout == "auto" and (widths is None or not _readable(cols, rows, widths))):
        _print_vertical(console, cols, rows, title, limit or console.width)
        return "vertical"
    if widths is None:  # a table by request that cannot fit: words unbroken, as narrow as that allows
        widths = _least(cols, rows)
    _print_table(console, cols, rows, title, widths)
    return "table"


def table_widths(cols: Sequence[Col], rows: Sequence[Sequence[str]], limit: int | None) -> list[int] | None:
    """Column widths (without padding) that fit `limit` characters with numbers whole and words unbroken; their
    natural widths when they fit or there is no limit; None when even wrapped text does not fit."""
    natural = _natural(cols, rows)
    room = None if limit is None else limit - _overhead(len(cols))
    if room is None or sum(natural) <= room:
        return natural
    least = _least(cols, rows)
    return None if sum(least) > room else _share(natural, least, room)


def _natural(cols: Sequence[Col], rows: Sequence[Sequence[str]]) -> list[int]:
    """Each column's width with nothing wrapped."""
    return [max([_longest_line(c.name)] + [_longest_line(r[i]) for r in rows]) or 1 for i, c in enumerate(cols)]


def _least(cols: Sequence[Col], rows: Sequence[Sequence[str]]) -> list[int]:
    """Each column's narrowest width: numbers whole, text wrapped between words."""
    return [max([_longest_line(r[i]) if c.number else _longest_word(r[i]) for r in rows]
                + [_longest_word(c.name)]) or 1 for i, c in enumerate(cols)]


def _share(natural: list[int], least: list[int], room: int) -> list[int]:
    """Widths between least and natural summing to room: the narrowest columns keep their width, the widest share
    what is left equally (water filling)."""
    level = max(natural)
    while sum(min(n, max(m, level)) for n, m in zip(natural, least, strict=True)) > room:
        level -= 1
    widths = [min(n, max(m, level)) for n, m in zip(natural, least, strict=True)]
    spare = room - sum(widths)
    for i in sorted(range(len(widths)), key=lambda i: natural[i] - widths[i], reverse=True):
        add = min(spare, natural[i] - widths[i])
        widths[i] += add
        spare -= add
    return widths


def _readable(cols: Sequence[Col], rows: Sequence[Sequence[str]], widths: list[int]) -> bool:
    """No wrapped column squeezed below READABLE characters (unless its text is that short anyway)."""
    return all(w >= min(n, READABLE) for w, n in zip(widths, _natural(cols, rows), strict=True))


def _overhead(n: int) -> int:
    """Borders and padding of a Rich table with n columns: one space each side of a cell, a line between cells
    and at both edges."""
    return 3 * n + 1


def _longest_line(s: str) -> int:
    return max((cell_len(line) for line in s.splitlines()), default=0)


def _longest_word(s: str) -> int:
    return max((cell_len(word) for word in s.split()), default=0)


def _print_table(console: Console, cols: Sequence[Col], rows: Sequence[Sequence[str]], title: str | None,
                 widths: list[int]) -> None:
    t = Table(title=None if title is None else Text(title))
    for c, w in zip(cols, widths, strict=True):
        t.add_column(Text(c.name, overflow="fold"), justify="right" if c.number else "left", width=w,
                     no_wrap=c.number, overflow="fold")
    for r in rows:
        t.add_row(*(Text(v, overflow="fold") for v in r))
    needed = sum(widths) + _overhead(len(cols))
    if needed <= console.width:
        console.print(t)
        return
    saved = console.width
    console.width = needed
    try:
        console.print(t)
    finally:
        console.width = saved


def _print_vertical(console: Console, cols: Sequence[Col], rows: Sequence[Sequence[str]], title: str | None,
                    limit: int) -> None:
    """One block per record: a rule with its number, then `column  value` lines; numbers right-aligned to one
    width so their digits line up; long text wraps under its value."""
    if title:
        console.print(Text(title, style="italic"))
    if not rows:
        console.print(Text("columns: " + ", ".join(c.name for c in cols)))
        return
    name_w = min(max(cell_len(c.name) for c in cols), max(10, limit // 3))
    num_w = max((cell_len(r[i]) for r in rows for i, c in enumerate(cols) if c.number), default=0)
    value_w = max(1, min(limit - name_w - 2, max(num_w, max(_longest_line(v) for r in rows for v in r), 1)))
    for k, r in enumerate(rows, 1):
        head = f"─[ {k} ]"
        console.print(Text(head + "─" * max(0, name_w + 2 + value_w - cell_len(head)), style="dim"))
        for c, v in zip(cols, r, strict=True):
            _print_field(console, c.name, v.rjust(num_w) if c.number else v, name_w, value_w)


def _print_field(console: Console, name: str, value: str, name_w: int, value_w: int) -> None:
    """`name  value`, the value wrapped under itself; a name longer than name_w on a line of its own."""
    label = Text(name, style="bold")
    lines = [line for part in value.splitlines()
             for line in Text(part, overflow="fold").wrap(console, value_w, no_wrap=False)]
    if cell_len(name) > name_w:
        console.print(label, overflow="fold")
        label = Text("")
    for line in lines:
        line.rstrip()
        row = Text.assemble(label, " " * (name_w - label.cell_len + 2), line)
        row.rstrip()
        console.print(row, no_wrap=True, crop=False)
        label = Text("")
