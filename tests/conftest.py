"""Shared test helpers: small data folders built from case files, isolated MINETAX_HOMEs, a real Prefect server."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest

from minetax import graph
from minetax.config import DEFAULT_DATA_DIR, Settings
from minetax.forecast import rates as forecast_rates
from minetax.tax import estimate
from minetax.tax import rates as law
from minetax.tax.schemes import Scenario, Scheme

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"  # test data: bad_inputs/, golden/, fixtures/
REFERENCE = DEFAULT_DATA_DIR / "reference"
FARM_HEADER = ["farm_id", "name", "region", "energy_source", "connection", "metered", "licensed",
               "capacity_mw", "commissioned_on", "decommissioned_on"]

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# a file is taken once it has not changed for this long (minetax.load.intake); tests write their files just before a
# run, so they wait less than an operator's drop folder does (tests/test_intake.py checks the wait itself)
os.environ.setdefault("MINETAX_SETTLE_SECONDS", "0.2")


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def month_reading(farm: str, month: str, kwh, price, extra: str | None = None) -> list:
    """A reading covering a whole month, or from/to a day ("from YYYY-MM-DD" / "to YYYY-MM-DD")."""
    y, m = map(int, month.split("-"))
    start = dt.datetime(y, m, 1)
    end = dt.datetime(y + m // 12, m % 12 + 1, 1)
    if extra and extra.startswith("from "):
        start = dt.datetime.fromisoformat(extra[5:])
    elif extra and extra.startswith("to "):
        end = dt.datetime.fromisoformat(extra[3:]) + dt.timedelta(days=1)
    return [farm, start.isoformat(sep=" "), end.isoformat(sep=" "), kwh, price]


def make_data_dir(folder: Path, farms: dict, readings: list[list], hashrate: list[list] | None = None) -> Path:
    """A data folder: farms.csv and energy_readings.csv from a case, plus the embedded reference figures.

    farms: {farm_id: [energy_source, connection, metered, commissioned_on, decommissioned_on(, capacity_mw)]}
    readings: [farm, YYYY-MM, kWh, price(, "from …" | "to …")]
    """
    rows = [[fid, f"Farm {fid}", "Test region", f[0], f[1], str(f[2]).lower(), "true",
             f[5] if len(f) > 5 else 1.0, str(f[3]), str(f[4] or "")] for fid, f in farms.items()]
    write_csv(folder / "farms.csv", FARM_HEADER, rows)
    write_csv(folder / "energy_readings.csv", ["farm_id", "ts_start", "ts_end", "kwh", "price_kzt_per_kwh"],
              [month_reading(*r) for r in readings])
    if hashrate:
        write_csv(folder / "farm_hashrate.csv", ["farm_id", "date", "hashrate_ths"], hashrate)
    ref = folder / "reference"
    ref.mkdir(exist_ok=True)
    for p in REFERENCE.glob("*.csv"):
        shutil.copy(p, ref / p.name)
    return folder


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture(scope="session")
def embedded_run(tmp_path_factory):
    """One run of the whole pipeline (no Prefect) on the embedded data; shared by read-only tests."""
    from minetax import pipeline

    settings = Settings.make(tmp_path_factory.mktemp("embedded") / "home")
    ctx, path = pipeline.run(settings, "kz-baseline")
    return settings, ctx, path


@pytest.fixture(scope="module")
def history(embedded_run):
    """The warehouse of the embedded run, read-only, as the forecast reads it (minetax.forecast.history)."""
    from minetax.forecast.history import read_only

    settings, _, _ = embedded_run
    with read_only(settings) as h:
        yield h


# ---- a real Prefect server ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prefect_api(url: str, path: str, body: dict | None = None):
    """GET (no body) or POST a JSON body to the Prefect REST API at url (…/api) and return the decoded answer."""
    req = urllib.request.Request(url + path, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def wait_for(predicate, seconds: float, what: str):
    """Poll predicate() every second until it returns something true, and return that."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """One real `prefect server start` on 127.0.0.1 for the session (it takes 10–45 s to start), stopped by its PID.
    Yields (api url, environment for processes that talk to it, a scratch folder, a one-farm data folder)."""
    base = tmp_path_factory.mktemp("prefect")
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(base / "prefect"), "PREFECT_API_URL": url,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "INFO"}
    log = open(base / "server.log", "w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)

    def healthy():
        try:
            return prefect_api(url, "/health") is True
        except OSError:
            return False

    try:
        wait_for(healthy, 120, "the Prefect server")
        data = make_data_dir(base / "data", {"S1": ["coal", "grid", True, "2022-01-01", None]},
                             [["S1", "2023-01", 1000, 10]])
        yield url, env, base, data
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def warehouse_state(settings: Settings) -> dict:
    """Counts and content hashes of every core, model and tax table, the readings and their manifest."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        tables = [f"{s}.{t}" for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ('core', 'model', 'tax') "
            "ORDER BY 1, 2").fetchall()] + ["core.energy_readings"]
        return {t: con.execute(f"SELECT count(*), sum(hash(COLUMNS(*))) FROM {t}").fetchall() for t in tables}
    finally:
        con.close()


# ---- the three consumers of the rate model, for the golden cases ------------------------------------------------
# The three consumers of the rate model (sql/tax/rate_in_force.sql), driven from case data on a scratch DuckDB.
#
# - the farm tax and the top-down country tax: the run's tax stage (the scheme's rules, then the sql/tax/ files
#   that make tax.estimates and tax.estimates_country, in graph order, as minetax.tax.estimate runs them) on model
#   rows built from the case's monthly readings, one farm and one country per case subject with the same kWh and
#   prices;
# - the forecast: minetax.forecast.rates.rates_by_year, which the forecast calls for its fleet.
#
# A subject: {"id": str, "readings": [(month: date, kWh, KZT/kWh), ...], "energy_source", "connection", "metered",
# "capacity_mw"}. The golden tests use these to check that every consumer gives the case's rate.

FARM_MONTH = ["run_id", "scenario_id", "farm_id", "month", "region", "metered", "energy_kwh", "energy_low_kwh",
              "energy_high_kwh", "avg_price_kzt_per_kwh", "electricity_cost_kzt", "electricity_cost_low_kzt",
              "electricity_cost_high_kzt", "mined_value_kzt", "mined_value_low_kzt", "mined_value_high_kzt"]
COUNTRY_MONTH = ["run_id", "scenario_id", "country", "month", "share_low", "share", "share_high", "energy_low_kwh",
                 "energy_kwh", "energy_high_kwh", "avg_price_kzt_per_kwh", "mined_value_kzt"]
FARMS = ["farm_id", "name", "region", "energy_source", "connection", "metered", "licensed", "capacity_mw"]
RUN_ID = "golden"


def _insert(con, table: str, columns: list[str], rows: list[list]) -> None:
    if rows:
        con.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                        rows)


def _model_rows(con, scenario_id: str, subjects: list[dict]) -> None:
    """model.farm_month, model.country_month and core.farms rows: each subject as a farm and as a country."""
    _insert(con, "core.farms", FARMS, [[s["id"], s["id"], "test", s["energy_source"], s["connection"], s["metered"],
                                        True, s["capacity_mw"]] for s in subjects])
    _insert(con, "model.farm_month", FARM_MONTH,
            [[RUN_ID, scenario_id, s["id"], m, "test", s["metered"], kwh, kwh, kwh, price, kwh * price, kwh * price,
              kwh * price, 0.0, 0.0, 0.0] for s in subjects for m, kwh, price in s["readings"]])
    _insert(con, "model.country_month", COUNTRY_MONTH,
            [[RUN_ID, scenario_id, s["id"], m, 1.0, 1.0, 1.0, kwh, kwh, kwh, price, 0.0]
             for s in subjects for m, kwh, price in s["readings"]])


def farm_and_country(scenario: Scenario, scheme: Scheme, subjects: list[dict]) -> tuple[dict, dict]:
    """Run the farm and the country tax for one scheme; per (subject id, period_start): (rate, basis, base kWh,
    tax KZT) from tax.estimates (farm) and tax.estimates_country (country)."""
    months = [m for s in subjects for m, _, _ in s["readings"]]
    lo, hi = estimate.whole_periods(min(months), max(months), scenario)
    params = {**estimate.scheme_params(RUN_ID, scenario, scheme), "m_from": lo, "m_to": hi}
    with law.scratch() as con:
        _model_rows(con, scenario.scenario_id, subjects)
        law.write_rules(con, scheme)
        ran = graph.run(con, "tax", {"run_id": RUN_ID, "scenario_id": scenario.scenario_id, "behaviour": False,
                                     "m_from": lo, "m_to": hi}, each=[params], targets=estimate.TAX_TARGETS)
        assert "tax/rate_in_force.sql" in ran, ran
        farm = con.execute("SELECT farm_id, period_start, rate, rate_basis, base_kwh, tax_kzt FROM tax.estimates"
                           ).fetchall()
        country = con.execute("SELECT country, period_start, rate, rate_basis, energy_kwh, tax_kzt "
                              "FROM tax.estimates_country").fetchall()
    return ({(r[0], r[1]): r[2:] for r in farm}, {(r[0], r[1]): r[2:] for r in country})


def as_forecast(scheme: Scheme, subject: dict, period_start: dt.date) -> tuple[float, list[str]]:
    """The rate the forecast's call gives the subject over the tax period starting `period_start`: each month
    with readings evaluated at the period's average price (as the forecast hands its fleet to the model),
    weighted by the month's kWh; with the bases met."""
    months = {"month": 1, "quarter": 3, "year": 12}[scheme.tax_period]
    end = dt.date(period_start.year + (period_start.month - 1 + months) // 12,
                  (period_start.month - 1 + months) % 12 + 1, 1)
    inside = [(m, kwh, price) for m, kwh, price in subject["readings"] if period_start <= m < end]
    energy = sum(kwh for _, kwh, _ in inside)
    avg_price = sum(kwh * price for _, kwh, price in inside) / energy
    # volume: the fleet's kWh in the month and before it in the period (marginal bands; one taxpayer, as top-down)
    fleet = [{"month": m, "avg_price_kzt_per_kwh": avg_price, "capacity_mw": subject["capacity_mw"],
              "connection": subject["connection"], "energy_source": subject["energy_source"],
              "metered": subject["metered"], "licensed": True, "volume_kwh": kwh,
              "volume_before_kwh": sum(k for m2, k, _ in inside if m2 < m)} for m, kwh, _ in inside]
    with law.scratch() as con:
        got = forecast_rates.rates_by_year(con, scheme, fleet)
    rate = sum(kwh * r for (_, kwh, _), (r, _) in zip(inside, got, strict=True)) / energy
    return rate, [basis for _, basis in got]


# ---- a real S3-compatible server and a real Dask cluster (scale-out) ----------------------------------------------

def stop_process(proc: subprocess.Popen, seconds: float = 15) -> None:
    """Stop a process this session started, by its PID: SIGTERM, then SIGKILL if it has not exited in `seconds`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=seconds)


def _answers(url: str, proc: subprocess.Popen, what: str) -> bool:
    """Whether `url` answers an HTTP GET; AssertionError at once if `proc` (the server) has exited."""
    if proc.poll() is not None:
        raise AssertionError(f"{what} exited with code {proc.returncode} before answering")
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # it answers, even if not with 200
    except OSError:
        return False


class S3Server:
    """A running `moto_server`: endpoint URL, a bucket created in it, the AWS_* variables that point at it."""

    def __init__(self, endpoint: str, bucket: str, log: Path):
        self.endpoint = endpoint
        self.bucket = bucket
        self.log = log
        self.env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "minetax-test",
                    "AWS_SECRET_ACCESS_KEY": "minetax-test-secret", "AWS_REGION": "us-east-1"}

    def client(self):
        """A boto3 S3 client on this server (to look at what a test wrote, beside the code under test)."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=self.env["AWS_REGION"],
                            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"])

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key under `prefix` in the bucket, as the server lists them, but the empty "folder/" markers
        pyarrow leaves where it deleted or moved a file."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", [])
                      if not (o["Key"].endswith("/") and o["Size"] == 0))


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3-compatible server (moto's, in its own process) on 127.0.0.1 at a free port, with one bucket;
    stopped by its PID at the end. Tests point the code at it with monkeypatch.setenv(each of .env)."""
    base = tmp_path_factory.mktemp("s3")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = open(base / "moto.log", "w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: _answers(endpoint + "/", proc, "moto_server"), 60, f"the S3 server at {endpoint}")
        server = S3Server(endpoint, "minetax-test", base / "moto.log")
        server.client().create_bucket(Bucket=server.bucket)
        yield server
    finally:
        stop_process(proc)
        log.close()


class DaskCluster:
    """A running Dask cluster: `dask scheduler` and one `dask worker --nworkers 2` (two worker processes, each under
    its nanny, which starts a new one if a worker dies), all on 127.0.0.1, the workers reporting to the session's
    Prefect server. `seconds`: how long it took to start."""

    def __init__(self, address: str, env: dict, log: Path, client, seconds: float):
        self.address = address
        self.env = env  # the workers' environment (PREFECT_API_URL of the prefect_server fixture)
        self.log = log  # the workers' output (their nannies' and their own log lines)
        self.client = client  # a distributed.Client of the test process
        self.seconds = seconds

    def worker_pids(self) -> dict[str, int]:
        """{worker address: its process id} of the workers the scheduler knows now (each one asked)."""
        return dict(self.client.run(os.getpid))

    def kill_worker(self, address: str | None = None) -> int:
        """kill -9 one worker process (the given one, else the first); its nanny starts a new one. Returns its PID."""
        import signal

        pids = self.worker_pids()
        pid = pids[address] if address else pids[sorted(pids)[0]]
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_for_workers(self, n: int = 2, seconds: float = 120) -> None:
        self.client.wait_for_workers(n, timeout=seconds)


@pytest.fixture(scope="session")
def dask_cluster(prefect_server, tmp_path_factory):
    """A real Dask cluster on 127.0.0.1 at free ports (dashboards off): a scheduler and one `dask worker` process
    with two worker processes of one thread and a 3 GB memory limit each, in this environment (the checkout is
    importable: the editable install puts it on sys.path), with PREFECT_API_URL of the prefect_server fixture and
    Prefect's INFO log lines in `.log`. Ready once the scheduler reports both workers; stopped by PID at the end."""
    import distributed

    url, server_env, _, _ = prefect_server
    base = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "PREFECT_API_URL": url, "PREFECT_HOME": str(base / "prefect"), "PREFECT_LOGGING_LEVEL": "INFO",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "GX_ANALYTICS_ENABLED": "false"}
    dask = str(Path(sys.executable).parent / "dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    t0 = time.perf_counter()
    procs, logs = [], [open(base / "scheduler.log", "w"), open(base / "workers.log", "w")]
    client = None
    try:
        procs.append(subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                       "--no-dashboard"], env=env, stdout=logs[0], stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL))
        procs.append(subprocess.Popen([dask, "worker", address, "--host", "127.0.0.1", "--nworkers", "2",
                                       "--nthreads", "1", "--memory-limit", "3GB", "--no-dashboard",
                                       "--local-directory", str(base / "scratch")], env=env,
                                      stdout=logs[1], stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        client = distributed.Client(address, timeout=120, set_as_default=False)
        client.wait_for_workers(2, timeout=180)
        yield DaskCluster(address, env, base / "workers.log", client, time.perf_counter() - t0)
    finally:
        if client is not None:
            client.close()
        for proc in reversed(procs):  # the workers (their nannies stop them), then the scheduler
            stop_process(proc, 30)
        for log in logs:
            log.close()
