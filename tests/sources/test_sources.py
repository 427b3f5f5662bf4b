"""The HTTP network source against a recorded-shape fixture served on 127.0.0.1 (no test touches the internet)."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.sources.network import SourceError, fetch_network, get_json, write_network_file
from tests.conftest import ROOT, TESTS

FIXTURE = json.loads((TESTS / "fixtures" / "coinmetrics_btc_2025-01.json").read_text())


@pytest.fixture
def server():
    """The recorded answer in two pages; a test may change hits["pages"] (the days served) first."""
    hits = {"n": 0, "fail_first": True, "pages": copy.deepcopy(FIXTURE["pages"])}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hits["n"] += 1
            base = f"http://127.0.0.1:{self.server.server_port}"
            if self.path.startswith("/v4/timeseries/asset-metrics"):
                if hits["fail_first"]:
                    hits["fail_first"] = False
                    return self._send(503, {"error": "busy"})
                return self._send(200, {"data": hits["pages"][0], "next_page_url": f"{base}/v4/page2"})
            if self.path == "/v4/page2":
                return self._send(200, {"data": hits["pages"][1]})
            if self.path == "/slow":
                time.sleep(1.0)
                return self._send(200, {})
            return self._send(404, {"error": "no such path"})

        def _send(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}", hits
    srv.shutdown()


def test_fetch_follows_pages_and_retries_a_transient_error(server):
    url, hits = server
    rows = fetch_network(f"{url}/v4", dt.date(2025, 1, 1), dt.date(2025, 1, 31), backoff=0.01)
    assert len(rows) == 31 and rows[0]["date"] == "2025-01-01" and rows[-1]["date"] == "2025-01-31"
    assert hits["n"] == 3  # 503, page 1, page 2
    assert float(rows[0]["hashrate_ths"]) == pytest.approx(float(FIXTURE["pages"][0][0]["HashRate"]))


def test_timeouts_and_client_errors(server):
    url, _ = server
    with pytest.raises(SourceError, match="after 2 attempts"):
        get_json(f"{url}/slow", timeout=0.2, retries=1, backoff=0.01)
    with pytest.raises(SourceError, match="HTTP 404.*not retried"):
        get_json(f"{url}/nope", retries=3, backoff=0.01)


def test_api_key_from_environment_or_secrets_file_is_never_shown(server, tmp_path, monkeypatch):
    from minetax.sources.network import KEY_VAR, api_key

    url, _ = server
    monkeypatch.delenv(KEY_VAR, raising=False)
    assert api_key(tmp_path) is None
    (tmp_path / "secrets.env").write_text(f"{KEY_VAR}=s3cret-from-file\n")
    assert api_key(tmp_path) == "s3cret-from-file"
    monkeypatch.setenv(KEY_VAR, "s3cret-from-env")
    assert api_key(tmp_path) == "s3cret-from-env"
    with pytest.raises(SourceError) as e:
        fetch_network(f"{url}/nowhere", dt.date(2025, 1, 1), dt.date(2025, 1, 2), key="s3cret-from-env",
                      backoff=0.01)
    assert "s3cret" not in str(e.value) and "api_key=***" in str(e.value)
    assert "secrets.env" in (ROOT / ".gitignore").read_text()


def test_fetched_file_is_loaded_by_the_next_run(server, tmp_path):
    url, _ = server
    settings = Settings.make(tmp_path / "home")
    settings.ensure()
    rows = fetch_network(f"{url}/v4", dt.date(2025, 1, 1), dt.date(2025, 1, 31), backoff=0.01)
    path = write_network_file(rows, settings.inbox_dir, dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert path.name == "network_daily-20250101_20250131.csv"
    with open(path) as f:
        assert len(list(csv.DictReader(f))) == 31
    ctx, _ = pipeline.run(settings, "kz-baseline")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    n = con.execute("SELECT count(*) FROM core.network_daily WHERE fees_source = 'coinmetrics api'").fetchall()[0][0]
    status = con.execute("SELECT status FROM meta.inputs WHERE run_id = ? AND file_name = ?",
                         [ctx.run_id, path.name]).fetchall()
    con.close()
    assert n == 31 and status == [("loaded",)]


# --- the days received must be the days asked for ---

def _drop(pages, *days):
    return [[item for item in page if item["time"][:10] not in days] for page in pages]


@pytest.mark.parametrize("case", ["missing", "outside", "twice"])
def test_days_that_differ_from_the_request_are_refused(server, case):
    url, hits = server
    last = dt.date(2025, 1, 31)
    if case == "missing":  # a gap of three days and a lone day
        hits["pages"] = _drop(hits["pages"], "2025-01-05", "2025-01-06", "2025-01-07", "2025-01-20")
        expected = "missing 2025-01-05..2025-01-07, 2025-01-20 (4 days)"
    elif case == "outside":  # asked up to the 29th, the source sends the whole month
        last = dt.date(2025, 1, 29)
        expected = "outside the request 2025-01-30..2025-01-31 (2 days)"
    else:  # the second page repeats the first page's last day
        hits["pages"][1].insert(0, hits["pages"][0][-1])
        expected = "more than once 2025-01-20 (1 day)"
    with pytest.raises(SourceError) as e:
        fetch_network(f"{url}/v4", dt.date(2025, 1, 1), last, backoff=0.01)
    message = str(e.value)
    assert expected in message and f"days asked for (2025-01-01..{last})" in message, message
    assert "Nothing was written" in message


def test_many_missing_days_are_summarised(server):
    url, hits = server
    hits["pages"] = _drop(hits["pages"], *(f"2025-01-{d:02d}" for d in range(2, 32, 2)))  # every other day
    with pytest.raises(SourceError) as e:
        fetch_network(f"{url}/v4", dt.date(2025, 1, 1), dt.date(2025, 1, 31), backoff=0.01)
    assert "missing 2025-01-02, 2025-01-04," in str(e.value) and "and 7 more ranges (15 days)" in str(e.value)


def test_fetch_network_command_refuses_and_writes_nothing(server, tmp_path):
    """The command as a user runs it: one error line naming the missing days, nothing in the drop folder; the
    same command for the days the source has writes them."""
    url, hits = server
    hits["fail_first"] = False
    home = tmp_path / "home"

    def fetch(first, last):
        return subprocess.run([sys.executable, "-m", "minetax.cli", "fetch-network", "--from", first, "--to", last,
                               "--url", f"{url}/v4", "--retries", "0"], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "MINETAX_HOME": str(home)})

    r = fetch("2025-01-01", "2025-02-02")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("error:") and "missing 2025-02-01..2025-02-02 (2 days)" in " ".join(r.stderr.split())
    assert not list(Settings.make(home).inbox_dir.glob("network_daily*"))
    bad = fetch("2025-01-31", "2025-01-01")
    assert bad.returncode == 1 and "--from must not be after --to" in bad.stderr, bad.stderr
    ok = fetch("2025-01-01", "2025-01-31")
    assert ok.returncode == 0, ok.stderr
    written = [p.name for p in Settings.make(home).inbox_dir.glob("network_daily*")]
    assert written == ["network_daily-20250101_20250131.csv"]
