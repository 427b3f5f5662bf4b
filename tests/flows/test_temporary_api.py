"""The temporary Prefect API that `minetax run` starts before importing Prefect (flows.temporary_api)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from flows import temporary_api
from tests.conftest import ROOT


def test_a_configured_server_is_used_and_none_is_started(monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    monkeypatch.setattr(temporary_api.TemporaryAPI, "launch", lambda self: pytest.fail("a server was started"))
    assert temporary_api.start()() is None


def test_a_server_that_exits_is_reported_with_its_own_error(monkeypatch):
    def launch(self):
        self.process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stderr.write('no database'); "
                                         "sys.exit(4)"], stderr=self.log)

    monkeypatch.setattr(temporary_api.TemporaryAPI, "launch", launch)
    api = temporary_api.TemporaryAPI()
    api.launch()
    with pytest.raises(temporary_api.TemporaryAPIError, match=r"exited with code 4:\nno database"):
        api.wait(timeout=30)
    api.stop()


def test_a_server_that_does_not_answer_in_time_is_stopped(monkeypatch):
    def launch(self):
        self.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])

    monkeypatch.setattr(temporary_api.TemporaryAPI, "launch", launch)
    api = temporary_api.TemporaryAPI()
    api.launch()
    proc = api.process
    with pytest.raises(temporary_api.TemporaryAPIError, match="did not answer within 1 s"):
        api.wait(timeout=1)
    assert proc.poll() is not None and api.process is None


def test_minetax_run_reports_an_api_that_does_not_start_as_an_error(tmp_path):
    """Through the command line: the server cannot open its database, so it exits; the run stops with a clear
    error line that carries the server's own output, exit code 1 and no traceback."""
    env = {**os.environ, "MINETAX_HOME": str(tmp_path / "home"),
           "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path}/no/such/folder/prefect.db"}
    env.pop("PREFECT_API_URL", None)
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "run"], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 1, r.stderr
    assert "error: the temporary Prefect API exited with code" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr.split("error: the temporary Prefect API")[0], r.stderr


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux only")
def test_the_api_has_its_own_session_and_never_outlives_its_process(tmp_path):
    """The API is out of the caller's process group (a terminal's Ctrl-C does not reach it) and goes away even
    when the caller is killed with SIGKILL, with no chance to stop it."""
    import signal
    import time

    code = ("import sys, time\nfrom flows import temporary_api\nready = temporary_api.start()\nready()\n"
            "print(temporary_api.current.process.pid, flush=True)\ntime.sleep(300)\n")
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    api = int(p.stdout.readline())
    assert _alive(api)
    assert os.getsid(api) != os.getsid(p.pid) and os.getpgid(api) != os.getpgid(p.pid)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    deadline = time.monotonic() + 15
    while _alive(api) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(api), "the temporary API outlived the process that started it"
