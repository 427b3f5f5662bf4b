"""The command line as a user runs it: `minetax run` on the embedded data, `minetax sql`, bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from minetax.config import SCHEMES_DIR
from tests.conftest import make_data_dir


def minetax(*args, home, timeout=300, **env_vars):
    env = {**os.environ, "MINETAX_HOME": str(home), **env_vars}
    return subprocess.run([sys.executable, "-m", "minetax.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def one_error(r, *phrases) -> str:
    """Exit code 1, no traceback, exactly one `error:` line (detail lines may follow); return stderr on one line."""
    assert r.returncode == 1, (r.returncode, r.stdout[-2000:], r.stderr)
    assert "Traceback" not in r.stderr and 'File "' not in r.stderr, r.stderr
    assert sum(line.startswith("error:") for line in r.stderr.splitlines()) == 1, r.stderr
    assert r.stderr.startswith("error:"), r.stderr
    err = " ".join(r.stderr.split())
    for phrase in phrases:
        assert phrase in err, (phrase, r.stderr)
    return err


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli") / "home"
    return home, minetax("run", home=home)


def test_run_prints_summary_and_paths(ran):
    home, r = ran
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Revenue by year" in out and "kz-baseline" in out and "kz-mining-fee" in out and "kz-cit" in out
    assert "tax gap Kazakhstan" in out
    for year in ("2021", "2022", "2023", "2024"):
        assert f"│ {year} " in out
    assert str(home / "published" / "minetax.duckdb") in out.replace("\n", "")


def test_sql_formats(ran):
    home, _ = ran
    r = minetax("sql", "select year, farms, periods, tax_kzt from revenue_by_year where scheme_id = 'kz-mining-fee' "
                "order by year", "--format", "csv", home=home)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["year"] for row in rows] == ["2021", "2022", "2023", "2024"]
    assert float(rows[0]["tax_kzt"]) == 0  # the fee starts in 2022
    assert all(row["periods"] == "4" for row in rows)
    j = minetax("sql", "select count(*) as n from estimates", "--format", "json", home=home)
    assert json.loads(j.stdout)[0]["n"] > 0
    t = minetax("sql", "select farm_id from farms order by farm_id limit 2", home=home)
    assert "KZ-F01" in t.stdout and "2 rows" in t.stdout


# --- readable in any terminal: nothing cut, numbers whole (80 columns, as $COLUMNS and as a real terminal) ---

def in_terminal(*args, home, columns=80, timeout=120) -> str:
    """Run minetax on a pseudo-terminal `columns` wide (no $COLUMNS: Rich asks the terminal); what it showed, without
    colours."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    p = subprocess.Popen([sys.executable, "-m", "minetax.cli", *args], stdin=slave, stdout=slave, stderr=slave,
                         env={**env, "MINETAX_HOME": str(home), "TERM": "xterm-256color"}, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 1)[0]:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not data:
                break
            chunks.append(data)
        assert p.wait(timeout=10) == 0, b"".join(chunks).decode(errors="replace")
    finally:
        if p.poll() is None:
            p.kill()
        os.close(master)
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)")  # colours, cursor, links


def shown_whole(out: str, values, columns: int | None = 80) -> None:
    """Every value is in the output, nothing is cut with "…", and no line is wider than the terminal."""
    assert "…" not in out, out
    for v in values:
        assert v in out, (v, out)
    if columns:
        assert max(len(line) for line in out.splitlines()) <= columns, out


def revenue_values(home) -> list[str]:
    """The README's first query's values as `minetax sql` shows them (numbers with separators, 2 decimals)."""
    r = minetax("sql", "select * from revenue_by_year", "--format", "csv", home=home)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 8
    return [f"{float(row[c]):,.2f}" if float(row[c]) else "0" for row in rows
            for c in ("base_kwh", "tax_low_kzt", "tax_kzt", "tax_high_kzt")] + [rows[0]["run_id"], "kz-mining-fee"]


@pytest.mark.parametrize("where", ["COLUMNS=80", "terminal 80 wide"])
def test_readme_query_fits_80_columns(ran, where):
    home, _ = ran
    query = "select * from revenue_by_year"
    if where == "COLUMNS=80":
        r = minetax("sql", query, home=home, COLUMNS="80")
        assert r.returncode == 0, r.stderr
        out = r.stdout
    else:
        out = in_terminal("sql", query, home=home)
    shown_whole(out, revenue_values(home))
    assert out.count("─[ ") == 8 and out.rstrip().endswith("8 rows")  # one block per row


def test_sql_layouts_on_request(ran):
    home, _ = ran
    values = revenue_values(home)
    query = "select * from revenue_by_year"
    table = minetax("sql", query, "--format", "table", home=home, COLUMNS="80")  # a table, wider than asked
    shown_whole(table.stdout, values, columns=None)
    assert "┃ scenario_id" in table.stdout and f"│ {values[2]} │" in table.stdout
    wide = minetax("sql", query, "--width", "0", home=home, COLUMNS="80")
    assert wide.stdout.splitlines()[3] == table.stdout.splitlines()[3]
    assert minetax("sql", query, "--width", "100", "--format", "vertical", home=home).stdout.count("─[ ") == 8
    md = minetax("sql", query, "--format", "markdown", home=home).stdout.splitlines()
    assert md[0].startswith("| scenario_id | scheme_id | year |") and md[1].startswith("|---|---|---:|")
    assert len(md) == 10 and f"| {values[2]} |" in md[2]
    small = minetax("sql", "select farm_id, name from farms order by farm_id limit 2", home=home, COLUMNS="80")
    assert "│ KZ-F01  │ Ekibastuz North" in small.stdout  # fits: a table
    one_error(minetax("sql", "select 1", "--format", "xml", home=home), "--format must be auto, table, vertical")
    one_error(minetax("sql", "select 1", "--width", "-1", home=home), "--width must be 0")


def test_schemes_and_runs_fit_80_columns(ran):
    home, _ = ran
    for args in (["schemes"], ["schemes", "--detail", "kz-mining-fee"], ["runs"]):
        out = in_terminal(*args, home=home)
        shown_whole(out, [])
        assert out.strip(), args
    out = in_terminal("schemes", home=home)
    shown_whole(out, ["kz-mining-fee", "kg-electricity-bill", "imf-corrective-air", "kz-baseline-dynamic",
                      "electricity_cost_share", "Kazakhstan fee for digital mining"])
    detail = in_terminal("schemes", "--detail", "kz-mining-fee", home=home)
    assert "https://adilet.zan.kz/" in detail


def test_sql_is_read_only_and_sandboxed(ran):
    home, _ = ran
    w = minetax("sql", "delete from estimates", home=home)
    assert w.returncode == 1 and "refused" in w.stderr and "DELETE" in w.stderr
    f = minetax("sql", "select * from read_csv('/etc/passwd')", home=home)
    assert f.returncode == 1 and "refused" in f.stderr


def test_sql_before_any_run(tmp_path):
    r = minetax("sql", "select 1", home=tmp_path / "empty")
    assert r.returncode == 1 and "nothing published yet" in r.stderr


def test_bad_input_exit_code_and_message(tmp_path):
    data = make_data_dir(tmp_path / "data", {"B1": ["coal", "grid", True, "2022-01-01", None]},
                         [["B1", "2023-01", -7, 10]])
    r = minetax("run", "--data-dir", str(data), home=tmp_path / "home")
    assert r.returncode == 1
    err = " ".join(r.stderr.split())
    assert "energy_readings.csv" in err and "column kwh" in err and "row 1" in err
    assert "Traceback" not in r.stderr


# --- user data is printed as text, never as Rich markup ---

def test_markup_in_an_input_is_printed_literally(tmp_path):
    """A farm name and a value holding Rich markup, shown as example rows of a refused input: printed as they are
    (they used to end in a MarkupError traceback)."""
    data = make_data_dir(tmp_path / "data", {"B1": ["coal", "grid", True, "2022-01-01", None],
                                             "B2": ["nuclear[/red]", "grid", True, "2022-01-01", None]},
                         [["B1", "2023-01", 100, 10]])
    farms = data / "farms.csv"
    farms.write_text(farms.read_text().replace("Farm B2", "[/red] Evil [bold]farm"))
    r = minetax("run", "--data-dir", str(data), home=tmp_path / "home")
    one_error(r, "farms.csv", "column energy_source", "name=[/red] Evil [bold]farm", "energy_source=nuclear[/red]")


def test_markup_in_scheme_titles_and_paths_is_printed_literally(tmp_path):
    schemes = shutil.copytree(SCHEMES_DIR, tmp_path / "schemes")
    f = schemes / "kz-mining-fee.yaml"
    f.write_text(re.sub(r"(?m)^title: .*$", "title: '[/red] [bold]Kazakhstan[/] fee for digital mining'",
                        f.read_text(), count=1))
    listed = minetax("schemes", "--schemes-dir", str(schemes), home=tmp_path / "home")
    assert listed.returncode == 0, listed.stderr
    assert "[/red] [bold]Kazakhstan[/] fee" in listed.stdout
    detail = minetax("schemes", "--detail", "kz-mining-fee", "--schemes-dir", str(schemes), home=tmp_path / "home")
    assert detail.returncode == 0, detail.stderr
    assert "kz-mining-fee: [/red] [bold]Kazakhstan[/] fee" in " ".join(detail.stdout.split())
    out = tmp_path / "out[/red][bold]"
    gen = minetax("generate-sample", "--out", str(out), "--farms", "1", "--start", "2024-01", "--end", "2024-01",
                  "--interval", "1d", home=tmp_path / "home")
    assert gen.returncode == 0, gen.stderr
    assert f"to {out}" in " ".join(gen.stdout.split())


# --- the home: not a folder, read-only, full; damaged databases ---

def test_a_home_that_is_a_file_or_under_a_file(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    one_error(minetax("run", home=f / "home"), f"cannot use {f / 'home'}: {f} is a file, not a folder")
    one_error(minetax("run", home=f), f"{f} is a file, not a folder")
    one_error(minetax("run", "--home", str(f / "home"), home=tmp_path / "other"), f"{f} is a file, not a folder")


def _mount(*args) -> None:
    r = subprocess.run(["mount", *args], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"needs mount (root with CAP_SYS_ADMIN): {r.stderr.strip()}")


def _umount(path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True)


def test_a_read_only_home(ran, tmp_path):
    """A read-only bind mount of a home with a published run (root ignores permission bits, not a read-only
    mount): a run is refused at once with one line; reading the snapshot still works."""
    home, _ = ran
    ro = tmp_path / "ro"
    ro.mkdir()
    _mount("--bind", str(home), str(ro))
    try:
        _mount("-o", "remount,bind,ro", str(ro))
        one_error(minetax("run", home=ro), f"MINETAX_HOME {ro} is read-only", "nothing was changed")
        one_error(minetax("run", home=ro / "new"), f"MINETAX_HOME {ro / 'new'} is read-only")
        q = minetax("sql", "select count(*) as n from farms", "--format", "csv", home=ro)
        assert q.returncode == 0 and q.stdout.split() == ["n", "14"], q.stderr
    finally:
        _umount(ro)


def test_a_full_disk_then_free_space_and_run_again(tmp_path):
    """MINETAX_HOME on a 2 MB tmpfs: the run stops with one line; once there is room the same command works.
    With Prefect's state on the same full disk the temporary API cannot start: said the same way."""
    home = tmp_path / "home"
    home.mkdir()
    _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(home))
    try:
        prefect_home = str(tmp_path / "prefect")
        one_error(minetax("run", home=home, PREFECT_HOME=prefect_home), "no space left on the device holding",
                  "free space and run again; nothing was changed")
        assert not (home / "published" / "minetax.duckdb").exists()
        one_error(minetax("run", home=home), f"no space left on the device holding {home / 'prefect'}")
        _mount("-o", "remount,size=256m", str(home))
        r = minetax("run", home=home, PREFECT_HOME=prefect_home)
        assert r.returncode == 0, r.stderr
        assert "published snapshot" in r.stdout
    finally:
        _umount(home)


def _damage(path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(os.urandom(8192))


@pytest.mark.parametrize("offset", [0, 4096], ids=["header", "first-blocks"])
def test_a_damaged_warehouse_is_named_with_what_to_do(ran, tmp_path, offset):
    """Random bytes over the warehouse's first pages (the header: not a DuckDB file; after it: a bad checksum,
    which DuckDB reports without the file name). Following the advice (move it aside, run again) rebuilds it."""
    home = shutil.copytree(ran[0], tmp_path / "home")
    wh = home / "warehouse.duckdb"
    _damage(wh, offset)
    err = one_error(minetax("run", home=home), f"the warehouse {wh} is damaged", f"mv {wh} {wh}.damaged",
                    "run `minetax run`", str(home / "raw"))
    assert "nothing was changed" in err
    wh.rename(wh.with_suffix(".duckdb.damaged"))
    r = minetax("run", home=home)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("offset", [0, 4096], ids=["header", "first-blocks"])
def test_a_damaged_snapshot_is_named_and_a_run_publishes_a_new_one(ran, tmp_path, offset):
    home = shutil.copytree(ran[0], tmp_path / "home")
    snap = home / "published" / "minetax.duckdb"
    _damage(snap, offset)
    one_error(minetax("export", "--out", str(tmp_path / "x"), "--format", "csv", home=home),
              f"the published snapshot {snap} is damaged", "Run `minetax run` to publish a new one")
    for args in (["sql", "select 1"], ["report", "--out", str(tmp_path / "r"), "--format", "html"], ["runs"]):
        one_error(minetax(*args, home=home), str(snap), "minetax run")
    r = minetax("run", home=home)
    assert r.returncode == 0, r.stderr
    q = minetax("sql", "select count(*) as n from farms", "--format", "csv", home=home)
    assert q.returncode == 0 and q.stdout.split() == ["n", "14"], q.stderr
