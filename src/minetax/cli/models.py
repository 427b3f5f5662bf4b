"""The `models` command: the model graph (sql/ files by stage, in run order, with what each makes and reads)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from minetax.cli.common import console, err


def models(
        stage: Annotated[str | None, typer.Option(help="one stage (folder of sql/): staging, core, model, tax, "
                                                       "checks, publish, …")] = None,
        markdown: Annotated[bool, typer.Option("--markdown", help="print a Markdown table (as in docs/models.md)")]
        = False,
        check: Annotated[bool, typer.Option("--check", help="check every header; exit 1 on a problem")] = False,
) -> None:
    """List the model graph: stage, file, model, what it reads and how it is recomputed (headers of sql/*.sql)."""
    from minetax import graph

    if check:
        found = graph.problems()
        for problem in found:
            err.print(problem, highlight=False, soft_wrap=True)
        if found:
            raise typer.Exit(1)
    rows = graph.describe(stage)
    if markdown:
        console.print(graph.markdown(rows), highlight=False, soft_wrap=True, end="")
        return
    table = Table("stage", "file", "model", "reads", "recompute", highlight=False)
    for row in rows:
        table.add_row(row["stage"], row["file"], row["model"], row["reads"], row["recompute"])
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("models")(models)
