"""Parquet files at one location: a local folder, or an S3 bucket prefix (`s3://bucket/prefix`), through pyarrow.

DuckDB 2.0 cannot load its httpfs extension here, so DuckDB never opens S3 itself: files are written by streaming a
query's Arrow batches into a Parquet writer on a pyarrow output stream, and read as a pyarrow dataset registered on
the connection (DuckDB pushes filters and projections down into the dataset's scanner). A local folder is written
and read by DuckDB directly (COPY … TO, read_parquet).

A file appears under its final name only when complete: locally it is written aside and renamed (os.replace); on S3
it is uploaded under a hidden temporary key and copied to its name (CopyObject), because pyarrow's output stream
completes a multipart upload even when the writer failed half-way (it closes, never aborts). Temporary names start
with "." and are never listed. A file larger than 5 GB cannot be copied in one CopyObject: keep files smaller.

S3 settings come from the standard environment: the endpoint from MINETAX_S3_ENDPOINT, AWS_ENDPOINT_URL_S3 or
AWS_ENDPOINT_URL (none: AWS itself; `http://…` is allowed, e.g. a test server on 127.0.0.1), the credentials from
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_SESSION_TOKEN, a profile, a web identity), the region from
AWS_REGION or AWS_DEFAULT_REGION (default us-east-1).
"""

from __future__ import annotations

import builtins
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from minetax.errors import MinetaxError

if TYPE_CHECKING:
    import duckdb

SETTING = "--readings-store or MINETAX_READINGS_STORE"  # where a user sets the location, for messages
ENDPOINT_VARS = ("MINETAX_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
DEFAULT_REGION = "us-east-1"
ROWS_PER_BATCH = 122_880  # rows per Arrow batch streamed to S3 (DuckDB's row group size): memory stays bounded
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
READING_COLUMNS = "farm_id, ts_start, ts_end, kwh, price_kzt_per_kwh"  # of a readings partition file
SEGMENT_OF_NAME = r"([0-9a-f]{64})_[0-9]+\.parquet$"  # a partition file's name: <segment sha256>_<i>.parquet


def segment_of(rel: str) -> str:
    """The segment (sha256 of the loaded readings file) of a readings partition file, from its name."""
    found = re.search(SEGMENT_OF_NAME, rel)
    if not found:
        raise ValueError(f"not a readings partition file name (<sha256>_<i>.parquet): {rel!r}")
    return found.group(1)


@dataclass(frozen=True)
class Store:
    """Parquet files under one root. `url` as given; `root` a local absolute path or "bucket/prefix" on `fs`.
    Picklable (sent to Dask workers as is: an S3 store carries its endpoint and credentials)."""

    url: str
    is_local: bool
    root: str
    fs: Any = field(compare=False, repr=False)  # pyarrow.fs.FileSystem

    @classmethod
    def open(cls, url: str, setting: str = SETTING) -> Store:
        """The store at `url` (a folder path, file:///path, or s3://bucket/prefix). A local folder is created; an
        S3 bucket must exist. A bad URL, no credentials, an unreachable endpoint or a missing bucket raise
        MinetaxError naming the URL and `setting` (where the user set it)."""
        text = str(url).strip()
        if text.startswith("s3://"):
            return _open_s3(text, setting)
        scheme = urlsplit(text).scheme
        if scheme == "file":
            return _open_local(text, urlsplit(text).path, setting)
        if "://" in text or (scheme and len(scheme) > 1):
            raise MinetaxError(f"store {text!r} ({setting}): unsupported location; give a folder path or "
                               f"s3://bucket/prefix (e.g. s3://minetax/readings)")
        if not text:
            raise MinetaxError(f"store location is empty ({setting}): give a folder path or s3://bucket/prefix")
        return _open_local(text, text, setting)

    def uri(self, rel: str) -> str:
        """The full path (local) or s3:// URL of the relative file `rel`."""
        return self._path(rel) if self.is_local else "s3://" + self._path(rel)

    def exists(self, rel: str) -> bool:
        """Whether the file `rel` exists."""
        from pyarrow import fs as pafs

        return bool(self.fs.get_file_info(self._path(rel)).type == pafs.FileType.File)

    def size(self, rel: str) -> int:
        """Size in bytes of the file `rel` (FileNotFoundError if there is none)."""
        from pyarrow import fs as pafs

        info = self.fs.get_file_info(self._path(rel))
        if info.type != pafs.FileType.File:
            raise FileNotFoundError(self.uri(rel))
        return int(info.size)

    def delete(self, rel: str) -> None:
        """Delete the file `rel`; nothing happens if there is none (a re-run task deletes again)."""
        if self.exists(rel):
            self.fs.delete_file(self._path(rel))

    def list(self, prefix: str = "") -> list[str]:
        """Relative paths of the files whose relative path starts with `prefix`, sorted (temporary files left out)."""
        from pyarrow import fs as pafs

        folder = prefix.rpartition("/")[0]
        base = self._path(folder) if folder else self.root
        infos = self.fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
        root = self.root.rstrip("/") + "/"
        found = [i.path[len(root):] for i in infos if i.type == pafs.FileType.File and i.path.startswith(root)]
        return sorted(r for r in found if r.startswith(prefix) and not r.rpartition("/")[2].startswith("."))

    def put_file(self, local: Path, rel: str) -> None:
        """Copy the local file to `rel`, atomically (readers see the old file or the whole new one)."""
        if self.is_local:
            self._replace_local(rel, lambda tmp: shutil.copyfile(local, tmp))
            return
        self._replace_s3(rel, lambda out: _copy_stream(Path(local), out))

    def write_parquet(self, con: duckdb.DuckDBPyConnection, query: str, rel: str,
                      params: builtins.list | None = None) -> int:
        """Run `query` (with positional `params`) on `con` and write its result as one zstd Parquet file at `rel`,
        atomically: a failed query leaves no file under `rel` (an older one stays). Returns the number of rows."""
        query = query.strip().rstrip(";")
        if self.is_local:
            def copy(tmp: str) -> int:
                row = con.execute(f"COPY ({query}) TO '{_quote(tmp)}' (FORMAT parquet, COMPRESSION zstd)",
                                  params or []).fetchone()
                return int(row[0]) if row else 0

            return int(self._replace_local(rel, copy))
        return int(self._replace_s3(rel, lambda out: _stream_parquet(con, query, params, out)))

    def relation(self, con: duckdb.DuckDBPyConnection, rels: builtins.list[str], name: str) -> None:
        """Make `name` on `con` a relation over the Parquet files `rels` (one schema: the files' columns by position,
        as written by write_parquet): a temporary view locally, a registered pyarrow dataset on S3 (filters and
        projections pushed down). ValueError for an empty list: callers decide what no files means."""
        if not rels:
            raise ValueError(f"no files for relation {name!r}")
        if not _NAME.fullmatch(name):
            raise ValueError(f"relation name {name!r} is not a plain identifier")
        if self.is_local:
            files = ", ".join(f"'{_quote(self._path(r))}'" for r in rels)
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet([{files}], "
                        "union_by_name = false)")
            return
        import pyarrow.dataset as ds

        con.register(name, ds.dataset([self._path(r) for r in rels], filesystem=self.fs, format="parquet"))

    def readings_relation(self, con: duckdb.DuckDBPyConnection, rels: builtins.list[str], name: str) -> None:
        """Make `name` on `con` a relation over the readings partition files `rels`: the core columns and `segment`,
        the sha256 of the loaded file the rows come from, taken from each file's name (once per file, not stored in
        every row; files written when it was, are read the same way). Locally one read_parquet (its filename column
        is constant per file, so the name is parsed per file); on S3 one registered dataset per file, each with its
        segment as a constant. ValueError for an empty list or a file not named <sha256>_<i>.parquet."""
        if not rels:
            raise ValueError(f"no files for relation {name!r}")
        if not _NAME.fullmatch(name):
            raise ValueError(f"relation name {name!r} is not a plain identifier")
        segments = [segment_of(r) for r in rels]
        if self.is_local:
            files = ", ".join(f"'{_quote(self._path(r))}'" for r in rels)
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {READING_COLUMNS}, "
                        f"regexp_extract(filename, '{SEGMENT_OF_NAME}', 1) AS segment "
                        f"FROM read_parquet([{files}], union_by_name = false, filename = true)")
            return
        import pyarrow.dataset as ds

        parts = []
        for i, (rel, seg) in enumerate(zip(rels, segments, strict=True)):
            con.register(f"{name}_{i}", ds.dataset(self._path(rel), filesystem=self.fs, format="parquet"))
            parts.append(f"SELECT {READING_COLUMNS}, '{seg}' AS segment FROM {name}_{i}")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS " + " UNION ALL ".join(parts))

    # ---- internals ------------------------------------------------------------------------------------------------

    def _path(self, rel: str) -> str:
        parts = rel.replace("\\", "/").split("/")
        if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"not a relative file path inside the store: {rel!r}")
        return f"{self.root.rstrip('/')}/{rel}"

    def _replace_local(self, rel: str, write: Any) -> Any:
        """write(tmp path) a file beside `rel`, flush it to disk, then rename it to `rel`; no temporary file stays."""
        final = Path(self._path(rel))
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
        try:
            result = write(str(tmp))
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
            return result
        finally:
            tmp.unlink(missing_ok=True)

    def _replace_s3(self, rel: str, write: Any) -> Any:
        """write(output stream) an object under a hidden temporary key, then copy it to `rel` (one CopyObject: the
        object appears whole) and delete the temporary one, also when writing failed."""
        final = self._path(rel)
        folder, _, base = final.rpartition("/")
        tmp = f"{folder}/.{base}.{uuid.uuid4().hex}.tmp"
        try:
            with self.fs.open_output_stream(tmp) as out:
                result = write(out)
            self.fs.move(tmp, final)
            return result
        finally:
            try:
                self.fs.delete_file(tmp)
            except OSError:
                pass  # moved, or never created


def _open_local(url: str, path: str, setting: str) -> Store:
    from pyarrow import fs as pafs

    root = Path(path).expanduser().resolve()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MinetaxError(f"store {url} ({setting}): cannot use folder {root}: {e.strerror}") from e
    return Store(url=url, is_local=True, root=str(root), fs=pafs.LocalFileSystem())


def _open_s3(url: str, setting: str) -> Store:
    parts = urlsplit(url)
    bucket, prefix = parts.netloc, parts.path.strip("/")
    if not bucket or parts.query or parts.fragment:
        raise MinetaxError(f"store {url!r} ({setting}): expected s3://bucket/prefix, e.g. s3://minetax/readings")
    fs, endpoint = s3_filesystem(url, setting)
    where = f"endpoint {endpoint}" if endpoint else "AWS S3"
    try:
        info = fs.get_file_info(bucket)
    except OSError as e:
        raise MinetaxError(_s3_failure(url, setting, where, str(e))) from e
    from pyarrow import fs as pafs

    if info.type == pafs.FileType.NotFound:
        raise MinetaxError(f"store {url} ({setting}): bucket {bucket!r} does not exist at {where}; create it or "
                           "point the setting at an existing bucket")
    return Store(url=url, is_local=False, root=f"{bucket}/{prefix}" if prefix else bucket, fs=fs)


def s3_filesystem(url: str, setting: str = SETTING) -> tuple[Any, str | None]:
    """A pyarrow S3FileSystem configured from the environment, and the endpoint URL (None: AWS)."""
    from pyarrow import fs as pafs

    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not (key and secret) and not _other_credentials():
        raise MinetaxError(f"store {url} ({setting}): no S3 credentials: set AWS_ACCESS_KEY_ID and "
                           "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE with ~/.aws/credentials)")
    options: dict[str, Any] = {
        "region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
        "connect_timeout": 5, "request_timeout": 60,
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=3)}
    if key and secret:
        options.update(access_key=key, secret_key=secret, session_token=os.environ.get("AWS_SESSION_TOKEN"))
    name, endpoint = next(((v, os.environ[v]) for v in ENDPOINT_VARS if os.environ.get(v)), (None, None))
    if endpoint:
        e = urlsplit(endpoint)
        if e.scheme not in ("http", "https") or not e.netloc or e.path.strip("/"):
            raise MinetaxError(f"store {url}: {name}={endpoint!r} is not an endpoint URL; expected e.g. "
                               "http://127.0.0.1:9000 or https://s3.example.org")
        options.update(endpoint_override=e.netloc, scheme=e.scheme)
    return pafs.S3FileSystem(**options), endpoint


def _other_credentials() -> bool:
    """Credentials the AWS SDK finds without the two key variables: a profile, a credentials file, a web identity
    or container role."""
    names = ("AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
             "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    shared = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or str(Path.home() / ".aws" / "credentials")
    return any(os.environ.get(n) for n in names) or Path(shared).is_file()


def _s3_failure(url: str, setting: str, where: str, said: str) -> str:
    """What a failed first request to S3 means, in one message."""
    said = said.splitlines()[0] if said else "no answer"
    if "NETWORK_CONNECTION" in said or "curlCode" in said or "connect" in said.lower():
        return (f"store {url} ({setting}): cannot reach {where} ({said}); start the server or fix "
                f"{' / '.join(ENDPOINT_VARS)}")
    if "ACCESS_DENIED" in said or "403" in said or "InvalidAccessKeyId" in said or "SignatureDoesNotMatch" in said:
        return (f"store {url} ({setting}): {where} refused the credentials ({said}); check AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY")
    return f"store {url} ({setting}): {where} failed: {said}"


def _quote(path: str) -> str:
    return path.replace("'", "''")


def _copy_stream(local: Path, out: Any) -> None:
    with open(local, "rb") as f:
        while chunk := f.read(8 << 20):
            out.write(chunk)


def _stream_parquet(con: duckdb.DuckDBPyConnection, query: str, params: list | None, out: Any) -> int:
    """Stream the query's result batch by batch into a zstd Parquet writer on `out`; the number of rows."""
    import pyarrow.parquet as pq

    relation = con.sql(query, params=params or None)
    if relation is None:
        raise ValueError(f"not a query that returns rows: {query[:80]!r}")
    reader = relation.to_arrow_reader(ROWS_PER_BATCH)  # streams: DuckDB produces the batches as they are read
    rows = 0
    with pq.ParquetWriter(out, reader.schema, compression="zstd") as writer:
        while (batch := _next_batch(reader)) is not None:
            writer.write_batch(batch, row_group_size=ROWS_PER_BATCH)
            rows += batch.num_rows
    return rows


def _next_batch(reader: Any) -> Any:
    """The reader's next batch, or None at the end. The query failing while it streams reaches here as an OSError
    from Arrow ("Invalid Input Error: …"): raised again as the duckdb.Error it was, as a local write raises it."""
    import duckdb

    try:
        return reader.read_next_batch()
    except StopIteration:
        return None
    except OSError as e:
        kind = re.match(r"([A-Za-z ]+) Error: ", str(e))
        cls = getattr(duckdb, kind.group(1).replace(" ", "") + "Exception", None) if kind else None
        raise (cls if isinstance(cls, type) and issubclass(cls, duckdb.Error) else duckdb.Error)(str(e)) from e
