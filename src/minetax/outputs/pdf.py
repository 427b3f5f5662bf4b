"""A4 pages for the PDF report, laid out top to bottom: headings, wrapped paragraphs, charts and tables that
continue on the next page (header repeated) instead of running off it. Nothing is drawn outside the margins:
text is wrapped to the page width, a table's font shrinks until its widest row fits."""

from __future__ import annotations

import io
import textwrap
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

A4 = (8.27, 11.69)  # inches
LEFT, WIDTH, TOP, BOTTOM = 0.07, 0.86, 0.95, 0.05  # fractions of the page
ROW = 0.0165  # table row height, fraction of the page height
CHAR_EM = 0.6  # a character's width in ems (DejaVu Sans, generous), to wrap text to the page


def chars_per_line(size: float) -> int:
    return int(WIDTH * A4[0] * 72 / (CHAR_EM * size))


class Flow:
    """Pages filled from the top: each block goes below the last, on a new page when it does not fit."""

    def __init__(self, pdf: PdfPages, footer: str) -> None:
        self.pdf, self.footer = pdf, footer
        self.page: Figure | None = None
        self.y = TOP
        self.pages = 0

    def new_page(self) -> None:
        import matplotlib.pyplot as plt

        self.close()
        self.page = plt.figure(figsize=A4)
        self.pages += 1
        self.page.text(LEFT, 0.025, self.footer, fontsize=6.5, color="#777777")
        self.page.text(LEFT + WIDTH, 0.025, f"page {self.pages}", fontsize=6.5, color="#777777", ha="right")
        self.y = TOP

    def close(self) -> None:
        import matplotlib.pyplot as plt

        if self.page is not None:
            self.pdf.savefig(self.page)
            plt.close(self.page)
            self.page = None

    def _need(self, height: float) -> Figure:
        if self.page is None or self.y - height < BOTTOM:
            self.new_page()
        assert self.page is not None
        return self.page

    def space(self, height: float = 0.015) -> None:
        self.y -= height

    def heading(self, text: str, size: float = 12.5) -> None:
        page = self._need(0.15)  # a heading is never the last thing on a page
        self.y -= size / 72 / A4[1] * 1.5
        page.text(LEFT, self.y, text, fontsize=size, weight="bold")
        self.y -= 0.012

    def para(self, text: str, size: float = 8.0, color: str = "#222222", indent: float = 0.0) -> None:
        line = size / 72 / A4[1] * 1.35
        width = int(chars_per_line(size) * (WIDTH - indent) / WIDTH)
        for raw in text.splitlines() or [""]:
            for piece in textwrap.wrap(raw, width, subsequent_indent="  ") or [""]:
                page = self._need(line)
                self.y -= line
                page.text(LEFT + indent, self.y, piece, fontsize=size, color=color)
        self.y -= line * 0.4

    def figure(self, fig: Figure, caption: str) -> None:
        """A chart at the page width, its caption wrapped below it."""
        import matplotlib.image as mpimg

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
        fig.clf()
        buf.seek(0)
        img = mpimg.imread(buf)
        height = WIDTH * A4[0] * img.shape[0] / img.shape[1] / A4[1]
        page = self._need(height + 0.03)
        ax = page.add_axes((LEFT, self.y - height, WIDTH, height))
        ax.imshow(img)
        ax.axis("off")
        self.y -= height + 0.004
        self.para(caption, 7.5, "#555555")
        self.space(0.01)

    def table(self, df: pd.DataFrame, numeric: list[bool], title: str, total: bool = False) -> None:
        """A table of text cells (header repeated on each page); numeric columns right-aligned; a total row bold.
        Headers wrap to the width of their column's values; the font shrinks until the widest row fits."""
        rows = [[str(v) for v in r] for r in df.values.tolist()]
        data = [max((len(r[j]) for r in rows), default=0) for j in range(len(df.columns))]
        header = ["\n".join(textwrap.wrap(str(c), max(n, 8, *map(len, str(c).split())))) for c, n in
                  zip(df.columns, data, strict=True)]
        lengths = [max(n, *map(len, h.splitlines())) + 2 for n, h in zip(data, header, strict=True)]
        # a cell's text gets 80% of its width (matplotlib pads 10% each side); a bold character is about 0.62 em
        size = max(4.5, min(7.0, 0.8 * WIDTH * A4[0] * 72 / (0.62 * sum(lengths))))
        widths = [n / sum(lengths) for n in lengths]
        lines = max(h.count("\n") + 1 for h in header)
        first = True
        while first or rows:
            self._need(0.03 + ROW * (min(len(rows), 3) + lines))
            fit = max(1, int((self.y - 0.03 - BOTTOM) / ROW) - lines)
            chunk, rows = rows[:fit], rows[fit:]
            self._draw(chunk, header, lines, widths, numeric, size, title if first else f"{title} (continued)",
                       total and not rows)
            first = False

    def _draw(self, rows: list[list[str]], header: list[str], lines: int, widths: list[float], numeric: list[bool],
              size: float, title: str, total: bool) -> None:
        from matplotlib.transforms import Bbox

        page = self._need(0.03)
        self.y -= 0.022
        page.text(LEFT, self.y, title, fontsize=9, weight="bold")
        height = ROW * (len(rows) + lines)
        self.y -= 0.006
        ax = page.add_axes((LEFT, self.y - height, WIDTH, height))
        ax.axis("off")
        cells = rows or [["(no rows)"] + [""] * (len(header) - 1)]
        t = ax.table(cellText=cells, colLabels=header, colWidths=widths, bbox=Bbox.from_bounds(0, 0, 1, 1))
        t.auto_set_font_size(False)
        t.set_fontsize(size)
        for (r, c), cell in t.get_celld().items():
            cell.set_linewidth(0.3)
            if r == 0:
                cell.set_facecolor("#DDE4EE")
                cell.set_text_props(weight="bold")
                cell.set_height(cell.get_height() * lines)  # the bbox keeps the rows' proportions
            if total and r == len(rows):
                cell.set_text_props(weight="bold")
            align = "right" if numeric[c] else "left"
            cell.set_text_props(ha=align)
            cell._loc = align  # type: ignore[attr-defined]  # private: Cell keeps its alignment only there
        self.y -= height + 0.012
