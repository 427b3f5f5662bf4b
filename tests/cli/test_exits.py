"""minetax.cli.exits.leave: the process ends as a normal exit would for everything a later reader can see (exit
status, the threads a normal exit waits for, the exit handlers, what was printed), without Python's teardown."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from minetax.cli import exits

SCRIPT = textwrap.dedent("""
    import atexit, sys, threading, time
    from pathlib import Path
    from minetax.cli import exits

    out = Path(sys.argv[1])
    def worker():
        time.sleep(0.3)
        (out / "thread").write_text("done")
    threading.Thread(target=worker).start()  # not a daemon: a normal exit waits for it
    atexit.register(lambda: (out / "first-registered").write_text(str((out / "last-registered").exists())))
    atexit.register(lambda: (out / "last-registered").write_text("ran"))
    print("no newline at the end", end="")
    print("to stderr", end="", file=sys.stderr)
    exits.leave(eval(sys.argv[2]))
    (out / "after").write_text("leave returned")
""")


@pytest.mark.parametrize(("code", "status"), [("None", 0), ("0", 0), ("1", 1), ("130", 130),
                                              ("'error: said'", 1)])
def test_leave_ends_the_process_as_a_normal_exit_would(tmp_path, code, status):
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), code], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == status, p.stderr
    assert p.stdout == "no newline at the end"  # flushed before the process ended
    assert p.stderr.startswith("to stderr")
    if code == "'error: said'":  # as sys.exit("…") does: the message on stderr, status 1
        assert p.stderr.rstrip().endswith("error: said")
    assert (tmp_path / "thread").read_text() == "done"
    assert (tmp_path / "last-registered").read_text() == "ran"
    assert (tmp_path / "first-registered").read_text() == "True"  # handlers ran in reverse order, as at exit
    assert not (tmp_path / "after").exists()


def test_exit_status_as_sys_exit_gives_it(capsys):
    assert [exits._code(c) for c in (None, 0, 2, 256 + 3)] == [0, 0, 2, 3]
    assert exits._code("boom") == 1
    assert capsys.readouterr().err == "boom\n"
