"""Ctrl-C and SIGTERM: minetax.interrupts in a real process with a real DuckDB query, then `minetax run` itself.

Each case runs in a subprocess (signals and their handlers belong to a process) and sends a real signal. The run
cases need a run that is still working when the signal comes: a generated data folder of 3.7 M readings, and the
signal is sent as soon as the run has copied the readings file into raw/ (loading, validating and estimating it
takes about a second after that, at least).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from minetax.config import DEFAULT_DATA_DIR

MINETAX = str(Path(sys.executable).parent / "minetax")  # the console script `uv run minetax` runs

LONG_QUERY = "SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3"  # minutes, unless interrupted


def script(body: str) -> subprocess.Popen:
    code = "import os, signal, sys, threading, time\nimport duckdb\nfrom minetax import interrupts\n" + \
        textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(p: subprocess.Popen, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if text in line:
            return
        if not line and p.poll() is not None:
            pytest.fail(f"the process ended before {text!r}: {p.stderr.read()}")
    pytest.fail(f"no {text!r} within {timeout} s")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_a_registered_query_in_any_thread_and_raises_keyboard_interrupt(sig):
    """The query runs in a worker thread (DuckDB never sees the signal there): only con.interrupt() can stop it.
    The main thread, waiting, gets KeyboardInterrupt; the worker's query ends with KeyboardInterrupt too."""
    p = script(f"""
        interrupts.install()
        con = duckdb.connect()
        out = {{}}
        def work():
            try:
                with interrupts.active(con):
                    con.execute({LONG_QUERY!r}).fetchall()
                out["worker"] = "finished"
            except BaseException as e:
                out["worker"] = type(e).__name__
        t = threading.Thread(target=work)
        t.start()
        print("running", flush=True)
        try:
            while t.is_alive():
                time.sleep(0.05)
        except KeyboardInterrupt as e:
            t0 = time.monotonic()
            t.join()
            print("main: KeyboardInterrupt", e, "| worker:", out["worker"], "after %.2f s" % (time.monotonic() - t0))
        """)
    wait_for_line(p, "running")
    time.sleep(0.5)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    name = "Ctrl-C" if sig == signal.SIGINT else "SIGTERM"
    assert f"main: KeyboardInterrupt interrupted by {name} | worker: KeyboardInterrupt after" in out, out + err
    assert float(out.split("after ")[1].split()[0]) < 3


def test_a_query_in_the_main_thread_comes_out_as_keyboard_interrupt_and_a_second_signal_does_not_raise():
    """DuckDB turns the signal into its own "Query interrupted" error: active() gives it back as KeyboardInterrupt.
    A second and a third signal during the cleanup that follows raise nothing: the cleanup (here a rollback)
    completes."""
    p = script(f"""
        interrupts.install()
        con = duckdb.connect()
        con.execute("CREATE TABLE t (i INTEGER)")
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (1)")
        print("running", flush=True)
        try:
            with interrupts.active(con):
                con.execute({LONG_QUERY!r}).fetchall()
        except KeyboardInterrupt:
            print("interrupted", interrupts.requested(), flush=True)
            time.sleep(2)  # the test sends two more signals meanwhile
            con.execute("ROLLBACK")
            print("rolled back, rows:", con.execute("SELECT count(*) FROM t").fetchall()[0][0], flush=True)
        """)
    wait_for_line(p, "running")
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    wait_for_line(p, "interrupted True", timeout=10)
    p.send_signal(signal.SIGINT)
    time.sleep(0.2)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0 and "Traceback" not in err, err
    assert "rolled back, rows: 0" in out, out + err


def test_take_over_puts_the_handler_back_after_prefect_style_replacement():
    """Prefect's flow engine swaps in its own SIGTERM handler for a flow run; take_over() (called at the start of
    our flows and by active()) puts ours back, so SIGTERM is still reported as an interrupt."""
    p = script("""
        interrupts.install()
        signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(SystemExit("someone else's handler")))
        con = duckdb.connect()
        try:
            with interrupts.active(con):
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
        except KeyboardInterrupt as e:
            print("caught:", e, interrupts.signal_name())
        """)
    out, err = p.communicate(timeout=30)
    assert "caught: interrupted by SIGTERM SIGTERM" in out, out + err


def test_after_settle_a_signal_raises_nothing():
    """Once the command is over (main() calls settle()), exit handlers such as stopping the temporary API run
    undisturbed: a Ctrl-C then neither raises nor prints a traceback."""
    p = script("""
        interrupts.install()
        interrupts.settle()
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)
        print("still here", interrupts.requested())
        """)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0 and "still here True" in out and not err, out + err


def test_without_install_signals_keep_their_default_behaviour():
    """A library user (or a test) that never called install() is not affected: active() changes nothing."""
    p = script("""
        con = duckdb.connect()
        with interrupts.active(con):
            print("registered", flush=True)
            time.sleep(30)
        """)
    wait_for_line(p, "registered")
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=30)
    assert p.returncode == -signal.SIGTERM


# --- `minetax run` stopped by Ctrl-C (SIGINT to the whole process group, as a terminal sends it) or SIGTERM ---

def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (the temporary Prefect API is one)."""
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(d.name))
    return kids


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def start_run(home: Path, data: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "MINETAX_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    args = [MINETAX, "run"] + (["--data-dir", str(data)] if data else [])
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group: killpg is a terminal's Ctrl-C


def wait_until(condition, p: subprocess.Popen, what: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if p.poll() is not None:
            pytest.fail(f"the run ended before {what}: {p.stderr.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout} s")
        time.sleep(0.01)


def assert_stopped_cleanly(p: subprocess.Popen, sent_at: float, api: list[int], name: str) -> str:
    out, err = p.communicate(timeout=60)
    elapsed = time.monotonic() - sent_at
    assert p.returncode == 1, (p.returncode, out[-2000:], err)
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: interrupted ({name})"), err
    assert elapsed < 5, f"took {elapsed:.1f} s to stop"
    assert api and not any(running(pid) for pid in api), f"temporary API still running: {api}"
    return errors[0]


@pytest.fixture(scope="module")
def big_data(tmp_path_factory) -> Path:
    """40 farms × 3 years of 15-minute readings (3.7 M rows), plus the embedded reference figures."""
    out = tmp_path_factory.mktemp("big") / "data"
    r = subprocess.run([MINETAX, "generate-sample", "--out", str(out), "--farms", "40", "--start", "2022-01",
                        "--end", "2024-12", "--interval", "15min"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    shutil.copytree(DEFAULT_DATA_DIR / "reference", out / "reference")
    return out


@pytest.fixture(scope="module")
def published_home(tmp_path_factory) -> Path:
    """A home with one finished run on the embedded data: a snapshot and a warehouse to keep unchanged."""
    home = tmp_path_factory.mktemp("signals") / "home"
    p = start_run(home)
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    return home


def state_of(home: Path) -> tuple:
    """The published snapshot's bytes and what core and the run records hold."""
    import duckdb

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        core = con.execute("SELECT count(*), bit_xor(hash(r)) FROM core.energy_readings r").fetchall()[0]
        statuses = dict(con.execute("SELECT status, count(*) FROM meta.runs GROUP BY ALL").fetchall())
    finally:
        con.close()
    leftovers = sorted(p.name for p in (home / "published").iterdir() if p.name != "minetax.duckdb")
    return sha(home / "published" / "minetax.duckdb"), core, statuses, leftovers


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_a_run_stopped_in_the_middle_stops_within_5_s_and_changes_nothing(published_home, big_data, how):
    """The signal comes while the run loads 3.7 M readings: one error line, exit code 1 within 5 s, the
    temporary API stopped, the snapshot and core exactly as before, the lock released (the next run works)."""
    home = published_home
    snapshot, core, statuses, leftovers = state_of(home)
    raw = home / "raw" / "energy_readings"
    before = len(list(raw.iterdir()))
    scratch = home / "core" / "energy_readings" / ".tmp"  # the readings being written into their partitions

    def loading() -> bool:  # a new raw copy (the first time), or the partition write of the readings (the raw copy
        # is content-addressed: after an earlier interrupted run of the same file it is there already)
        return (raw.is_dir() and len(list(raw.iterdir())) > before) or (scratch.is_dir() and any(scratch.iterdir()))

    p = start_run(home, big_data)
    wait_until(loading, p, "the readings file taken into raw/ or being partitioned")
    api = children(p.pid)
    sent_at = time.monotonic()
    if how == "ctrl-c":
        os.killpg(p.pid, signal.SIGINT)  # what a terminal does: the whole foreground process group
    else:
        p.send_signal(signal.SIGTERM)  # what a service manager or `kill PID` does
    line = assert_stopped_cleanly(p, sent_at, api, "Ctrl-C" if how == "ctrl-c" else "SIGTERM")
    assert "nothing was changed" in line, line
    after = state_of(home)
    assert after[:2] == (snapshot, core), "the snapshot or core changed"
    assert after[3] == leftovers, f"left in published/: {after[3]}"
    assert after[2].get("interrupted", 0) == statuses.get("interrupted", 0) + 1, \
        f"the stopped run is not recorded as interrupted: {after[2]}"


def test_after_an_interrupted_run_the_next_run_succeeds(published_home, big_data):
    p = start_run(published_home, big_data)
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    snapshot, core, statuses, _ = state_of(published_home)
    assert core[0] > 3_000_000  # the generated readings are in


def test_ctrl_c_while_the_temporary_api_starts(tmp_path):
    """The API runs in its own process group: the terminal's Ctrl-C does not kill it under the run, and the run
    stops it on its way out."""
    p = start_run(tmp_path / "home")
    wait_until(lambda: bool(children(p.pid)), p, "the temporary API process")
    api = children(p.pid)
    time.sleep(0.5)
    sent_at = time.monotonic()
    os.killpg(p.pid, signal.SIGINT)
    assert_stopped_cleanly(p, sent_at, api, "Ctrl-C")
    assert not (tmp_path / "home" / "published" / "minetax.duckdb").exists()
