"""The temporary Prefect API that `minetax run` starts before importing Prefect (minetax.temporary_api)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from minetax import temporary_api


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
