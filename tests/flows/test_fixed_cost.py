"""What issue 15 cut from the fixed cost of a run, and what it must keep: the temporary API's settings (block
registration skipped only once done, automations off, a value in the environment kept), one temporary API per
command, and the flow run's heartbeats on a running server (sent by flows.heartbeats)."""

from __future__ import annotations

import subprocess
import sys
import time

from flows import temporary_api
from tests.conftest import prefect_api, wait_for

BLOCKS = ("PREFECT_API_BLOCKS_REGISTER_ON_START", "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION")


def _clean(monkeypatch, home):
    for name in (*BLOCKS, "PREFECT_SERVER_MEMO_STORE_PATH", "PREFECT_MEMO_STORE_PATH",
                 "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED", "PREFECT_API_SERVICES_TRIGGERS_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(home))


def test_block_registration_is_skipped_only_once_a_server_did_it(monkeypatch, tmp_path):
    _clean(monkeypatch, tmp_path)
    assert temporary_api._skip_block_registration() == {}  # a new PREFECT_HOME: the first start registers them
    (tmp_path / "memo_store.toml").write_text("other = 'x'\n")
    assert temporary_api._skip_block_registration() == {}
    (tmp_path / "memo_store.toml").write_text('block_auto_registration = "e4b7"\n')
    assert temporary_api._skip_block_registration() == {BLOCKS[0]: "false", BLOCKS[1]: "false"}
    monkeypatch.setenv(BLOCKS[0], "true")  # the user's own choice wins
    assert temporary_api._skip_block_registration() == {}
    monkeypatch.delenv(BLOCKS[0])
    monkeypatch.setenv("PREFECT_SERVER_MEMO_STORE_PATH", str(tmp_path / "elsewhere.toml"))
    assert temporary_api._skip_block_registration() == {}


def test_automations_are_off_on_the_temporary_api_unless_set(monkeypatch, tmp_path):
    _clean(monkeypatch, tmp_path)
    assert temporary_api._no_automations() == {"PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false"}
    monkeypatch.setenv("PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED", "true")
    assert temporary_api._no_automations() == {}


def test_a_second_flow_of_a_command_uses_the_api_already_up(monkeypatch, tmp_path):
    """`minetax compare` runs two flows: one temporary API, not two; another PREFECT_HOME gets its own."""
    launched: list[subprocess.Popen] = []

    def launch(self):  # a stand-in process: what start() decides does not depend on what runs in it
        self.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        launched.append(self.process)

    monkeypatch.setattr(temporary_api.TemporaryAPI, "launch", launch)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setattr(temporary_api, "current", None)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "a"))
    apis = []
    try:
        temporary_api.start()
        apis.append(temporary_api.current)
        temporary_api.start()
        assert len(launched) == 1 and temporary_api.current is apis[0]
        monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "b"))
        temporary_api.start()
        apis.append(temporary_api.current)
        assert len(launched) == 2 and apis[1] is not apis[0]
        apis[1].process.kill()
        apis[1].process.wait()
        temporary_api.start()  # it died: a new one
        apis.append(temporary_api.current)
        assert len(launched) == 3
    finally:
        for api in apis:
            api.stop()


def _events(url: str, name: str, resource_id: str) -> list[dict]:
    body = {"filter": {"event": {"name": [name]}, "resource": {"id": [resource_id]},
                       "occurred": {"since": "2000-01-01T00:00:00Z"}}, "limit": 50}
    return prefect_api(url, "/events/filter", body)["events"]


def test_a_run_on_a_server_sends_its_heartbeat_and_completes(prefect_server):
    """Prefect's own heartbeat thread is off for `minetax run` on a server; flows.heartbeats sends the same event
    for the flow run (a server's "stopped sending heartbeats" automation keeps working)."""
    url, env, base, data = prefect_server
    home = base / "heartbeat-home"
    t0 = time.time()
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "run", "--home", str(home), "--data-dir", str(data)],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "published snapshot:" in r.stdout  # printed in full before the process left (minetax.cli.exits)
    runs = prefect_api(url, "/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 5,
                                                  "flow_runs": {"start_time": {"after_": time.strftime(
                                                      "%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 - 1))}}})
    run = next(x for x in runs if x["state"]["type"] == "COMPLETED")
    beats = wait_for(lambda: _events(url, "prefect.flow-run.heartbeat", f"prefect.flow-run.{run['id']}"), 60,
                     "the flow run's heartbeat event")
    related = {(x["prefect.resource.role"], x["prefect.resource.id"]) for x in beats[0]["related"]}
    assert ("flow", f"prefect.flow.{run['flow_id']}") in related
    assert len(beats) == 1  # one at the start; the next would be 180 s later (Prefect's default interval)
