"""minetax.storage on a local folder and on a real S3-compatible server (moto_server on 127.0.0.1, no mock)."""

from __future__ import annotations

import os
import pickle
import uuid

import duckdb
import pytest

from minetax.errors import MinetaxError
from minetax.storage import ENDPOINT_VARS, Store
from tests.conftest import free_port

ROWS = "SELECT range AS i, range % 7 AS g, 'farm-' || (range % 13) AS farm_id FROM range(?)"
# fails after the first 250,000 rows have streamed out (several batches are written before the error)
FAILS_LATE = "SELECT CASE WHEN range < 250000 THEN range ELSE error('boom at ' || range) END AS i FROM range(400000)"


def use_s3(monkeypatch, server) -> None:
    """Point the process at the test server, and only at it."""
    for name in (*ENDPOINT_VARS, "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, monkeypatch):
    """A fresh, empty store: a tmp folder, or a fresh prefix in the S3 server's bucket."""
    if request.param == "local":
        return Store.open(str(tmp_path / "store"))
    server = request.getfixturevalue("s3_server")
    use_s3(monkeypatch, server)
    return Store.open(f"s3://{server.bucket}/t-{uuid.uuid4().hex[:8]}/readings")


def raw_names(store: Store) -> list[str]:
    """Every file under the store's root as the file system or the server itself shows it (temporary ones too)."""
    if store.is_local:
        return sorted(os.path.relpath(os.path.join(d, f), store.root) for d, _, fs in os.walk(store.root) for f in fs)
    bucket, _, prefix = store.root.partition("/")
    import boto3

    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
    found = s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/").get("Contents", [])
    # pyarrow keeps a folder that a delete left empty as an empty "folder/" marker object: not a file
    return sorted(o["Key"][len(prefix) + 1:] for o in found if not (o["Key"].endswith("/") and o["Size"] == 0))


def test_round_trip(store, tmp_path):
    con = duckdb.connect()
    assert store.list() == [] and not store.exists("b=01/m=2024-01/part.parquet")
    assert store.write_parquet(con, ROWS, "b=01/m=2024-01/part.parquet", [1000]) == 1000
    assert store.write_parquet(con, ROWS + ";\n", "b=02/m=2024-01/part.parquet", [10]) == 10
    con.execute(f"COPY ({ROWS.replace('?', '5')}) TO '{tmp_path / 'local.parquet'}' (FORMAT parquet)")
    store.put_file(tmp_path / "local.parquet", "b=02/m=2024-02/part.parquet")
    assert store.list() == ["b=01/m=2024-01/part.parquet", "b=02/m=2024-01/part.parquet",
                            "b=02/m=2024-02/part.parquet"]
    assert store.list("b=02/") == ["b=02/m=2024-01/part.parquet", "b=02/m=2024-02/part.parquet"]
    assert store.list("b=02/m=2024-0") == store.list("b=02/")
    assert store.list("b=03/") == []
    assert store.exists("b=01/m=2024-01/part.parquet") and store.size("b=01/m=2024-01/part.parquet") > 100
    assert store.uri("b=01/x.parquet") == (f"{store.root}/b=01/x.parquet" if store.is_local
                                           else f"s3://{store.root}/b=01/x.parquet")
    store.relation(con, store.list(), "readings_all")
    assert con.execute("SELECT count(*), sum(i), count(DISTINCT farm_id) FROM readings_all").fetchone() == (
        1015, sum(range(1000)) + sum(range(10)) + sum(range(5)), 13)
    with pytest.raises(ValueError, match="no files"):
        store.relation(con, [], "nothing")
    with pytest.raises(ValueError, match="relative"):
        store.exists("../escape.parquet")
    store.delete("b=01/m=2024-01/part.parquet")
    store.delete("b=01/m=2024-01/part.parquet")  # again: nothing there, no error
    assert not store.exists("b=01/m=2024-01/part.parquet")
    assert store.list() == ["b=02/m=2024-01/part.parquet", "b=02/m=2024-02/part.parquet"]
    with pytest.raises(FileNotFoundError):
        store.size("b=01/m=2024-01/part.parquet")


def test_write_is_atomic(store):
    """A query that fails after rows have streamed out leaves no file under the name (an old one stays whole), and
    no temporary file behind."""
    con = duckdb.connect()
    store.write_parquet(con, ROWS, "b=01/part.parquet", [3])
    with pytest.raises(duckdb.Error, match="boom"):
        store.write_parquet(con, FAILS_LATE, "b=01/part.parquet")
    with pytest.raises(duckdb.Error, match="boom"):
        store.write_parquet(con, FAILS_LATE, "b=02/part.parquet")
    assert not store.exists("b=02/part.parquet")
    assert raw_names(store) == ["b=01/part.parquet"]  # nothing half-written, no temporary object left
    store.relation(con, ["b=01/part.parquet"], "old")
    assert con.execute("SELECT count(*) FROM old").fetchone() == (3,)


def test_pushdown_gives_duckdb_counts(store):
    """A filtered count over the store's relation equals DuckDB's own over the same rows, and the filter and the
    projection reach the scan (pushed down) rather than running above it."""
    con = duckdb.connect()
    for k in range(3):
        store.write_parquet(con, f"SELECT * FROM ({ROWS}) WHERE i % 3 = {k}", f"b={k}/part.parquet", [300_000])
    store.relation(con, store.list(), "readings")
    query = "SELECT count(*), sum(i) FROM {} WHERE g = 3 AND farm_id = 'farm-5' AND i > 1000"
    expected = con.execute(query.format(f"({ROWS})"), [300_000]).fetchone()
    assert expected[0] > 0
    assert con.execute(query.format("readings")).fetchone() == expected
    plan = con.execute("EXPLAIN SELECT sum(i) FROM readings WHERE g = 3").fetchall()[0][1]
    scan = plan[plan.index("Function:"):]  # the scan node, at the bottom of the plan
    assert "Filters:" in scan and "g" in scan.split("Filters:")[1], plan  # the filter is pushed into the scan
    assert "Projections: i" in scan and "farm_id" not in scan, plan  # and only column i is read out of it


def test_s3_store_pickles_for_workers(s3_server, monkeypatch):
    """A Dask task gets the store pickled: the copy reads and writes the same objects."""
    use_s3(monkeypatch, s3_server)
    store = Store.open(f"s3://{s3_server.bucket}/pickled")
    store.write_parquet(duckdb.connect(), ROWS, "a.parquet", [7])
    copy = pickle.loads(pickle.dumps(store))
    assert copy == store and copy.list() == ["a.parquet"]
    con = duckdb.connect()
    copy.relation(con, ["a.parquet"], "a")
    assert con.execute("SELECT count(*) FROM a").fetchone() == (7,)
    assert s3_server.keys("pickled/") == ["pickled/a.parquet"]


@pytest.mark.parametrize("url", ["gs://bucket/readings", "http://127.0.0.1/readings", "s3://", "s3:///prefix",
                                 "s3://bucket/prefix?versionId=1"])
def test_bad_url_is_named(url):
    with pytest.raises(MinetaxError) as e:
        Store.open(url)
    assert repr(url) in str(e.value) and "MINETAX_READINGS_STORE" in str(e.value)
    assert "s3://bucket/prefix" in str(e.value)


def test_local_folder_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(MinetaxError, match=r"store .*file/readings .*cannot use folder"):
        Store.open(str(tmp_path / "file" / "readings"))


def test_unknown_bucket(s3_server, monkeypatch):
    use_s3(monkeypatch, s3_server)
    with pytest.raises(MinetaxError) as e:
        Store.open("s3://no-such-bucket/readings")
    text = str(e.value)
    assert "s3://no-such-bucket/readings" in text and "'no-such-bucket' does not exist" in text, text
    assert s3_server.endpoint in text and "MINETAX_READINGS_STORE" in text


def test_endpoint_down(s3_server, monkeypatch):
    use_s3(monkeypatch, s3_server)
    down = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", down)
    with pytest.raises(MinetaxError) as e:
        Store.open(f"s3://{s3_server.bucket}/readings")
    text = str(e.value)
    assert f"s3://{s3_server.bucket}/readings" in text and f"cannot reach endpoint {down}" in text, text
    monkeypatch.setenv("AWS_ENDPOINT_URL", "127.0.0.1:9000")
    with pytest.raises(MinetaxError, match=r"AWS_ENDPOINT_URL='127.0.0.1:9000' is not an endpoint URL"):
        Store.open(f"s3://{s3_server.bucket}/readings")


def test_no_credentials(s3_server, monkeypatch, tmp_path):
    use_s3(monkeypatch, s3_server)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with pytest.raises(MinetaxError) as e:
        Store.open(f"s3://{s3_server.bucket}/readings")
    text = str(e.value)
    assert f"s3://{s3_server.bucket}/readings" in text and "no S3 credentials" in text
    assert "AWS_ACCESS_KEY_ID" in text
