"""Errors a user can act on. Each names the file, the column, the rule and example rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    PathLike = str | Path  # a file or folder named in a message


class MinetaxError(Exception):
    """Base class: the CLI prints the message and exits non-zero, without a traceback."""


class InputError(MinetaxError):
    """An input file failed a rule. Nothing was merged into core; nothing published changed."""

    def __init__(self, file: str, findings: list[dict]):
        self.file = file
        self.findings = findings
        lines = [f"input rejected: {file}"]
        for f in findings:
            col = f.get("column") or "(table)"
            lines.append(f"  column {col}: rule {f['rule']} failed" + _count(f))
            for ex in (f.get("examples") or [])[:5]:
                lines.append(f"    e.g. {ex}")
        super().__init__("\n".join(lines))


def _count(f: dict) -> str:
    n = f.get("unexpected_count")
    return f" ({n} rows)" if n else ""


class SchemeError(MinetaxError):
    """A scheme or scenario file is malformed; refused before anything runs."""


class OutputValidationError(MinetaxError):
    """The estimates failed their suite: the run failed and nothing was published."""

    def __init__(self, message: str, reports: list[Any] | None = None):
        super().__init__(message)
        self.reports = reports or []  # every output report of the run (recorded after the rollback)


# What the command line says when the system, not the user's data, stops a command: a full disk, a read-only or
# unusable MINETAX_HOME, a damaged DuckDB file. Known OS and DuckDB failures become one line that says what to do;
# anything else is a bug and keeps its traceback.

_OS_REASONS = {  # errno name -> how the OS (and DuckDB, in its message) says it
    "ENOSPC": "No space left on device",
    "EDQUOT": "Disk quota exceeded",
    "EROFS": "Read-only file system",
    "EACCES": "Permission denied",
    "EPERM": "Operation not permitted",
    "ENOTDIR": "Not a directory",
}
_CORRUPT = ("not a valid DuckDB database file", "Corrupt database file", "database file is corrupt",
            "checksum", "invalid block", "Could not read enough bytes")


def explain(exc: BaseException, home: PathLike | None = None) -> str | None:
    """One message (first line `error:`-ready, then detail lines) for a known system failure, or None. The
    errors it was raised from or while handling count too: a full disk often surfaces as a failed rollback."""
    seen = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        message = _explain_one(cause, home)
        if message:
            return message
        cause = cause.__cause__ or cause.__context__
    return None


def _explain_one(exc: BaseException, home: PathLike | None) -> str | None:
    import errno

    if isinstance(exc, OSError) and exc.errno is not None:
        name = errno.errorcode.get(exc.errno, "")
        if name == "EEXIST" and exc.filename and _file_in_path(exc.filename):  # a file where a folder must be
            name = "ENOTDIR"
        return _system(name, exc.filename, home) if name in _OS_REASONS else None
    if type(exc).__module__ not in ("duckdb", "_duckdb"):
        return None
    text = str(exc)
    path = _quoted_path(text)
    for name, said in _OS_REASONS.items():
        if said.lower() in text.lower():
            return _system(name, path, home)
    if is_damaged(exc):
        return damaged(path or _find_damaged(home), text, home)
    return None


def is_damaged(exc: BaseException) -> bool:
    """A DuckDB error saying that a database file is damaged (not a DuckDB file, a bad checksum)."""
    return type(exc).__module__ in ("duckdb", "_duckdb") and any(c.lower() in str(exc).lower() for c in _CORRUPT)


def _quoted_path(text: str) -> str | None:
    import re

    m = re.search(r'"(/[^"]+)"', text)
    return m.group(1) if m else None


def _system(name: str, path: PathLike | None, home: PathLike | None) -> str:
    where = f"MINETAX_HOME {home}" if home else "the folder it writes"
    nothing = "nothing was changed"
    if name in ("ENOSPC", "EDQUOT"):
        on = path or home or "the disk"
        return (f"no space left on the device holding {on}: free space and run again; {nothing}\n"
                f"  (minetax writes {where}: the warehouse, the published snapshot, raw copies, Prefect's state)")
    if name == "EROFS":
        return (f"{where} is read-only ({path or home}: read-only file system): remount it read-write, or point "
                f"MINETAX_HOME (or --home) at a writable folder; {nothing}")
    if name == "ENOTDIR":
        blocker = _file_in_path(path or home)
        return (f"cannot use {path or home}: {blocker or 'a part of it'} is a file, not a folder. Point MINETAX_HOME "
                f"(or --home) at a folder; {nothing}")
    return (f"permission denied: {path or home} cannot be written ({_OS_REASONS[name].lower()}): make {where} "
            f"writable for this user, or point MINETAX_HOME (or --home) at a writable folder; {nothing}")


def _file_in_path(path: PathLike | None) -> str | None:
    """The first component of `path` that exists and is not a folder."""
    from pathlib import Path

    if path is None:
        return None
    p = Path(path)
    for parent in [*reversed(p.parents), p]:
        if parent.exists() and not parent.is_dir():
            return str(parent)
    return None


def _find_damaged(home: PathLike | None) -> Path | None:
    """DuckDB did not name the file (a bad checksum): the one of the home's two databases that does not open."""
    from pathlib import Path

    import duckdb

    if home is None:
        return None
    for p in (Path(home) / "warehouse.duckdb", Path(home) / "published" / "minetax.duckdb"):
        if p.is_file():
            try:
                with duckdb.connect(str(p), read_only=True):
                    pass
            except duckdb.Error as e:
                if is_damaged(e):
                    return p
    return None


def damaged(path: PathLike | None, text: str, home: PathLike | None = None) -> str:
    """A damaged DuckDB file: which one, what DuckDB said, and how to get going again."""
    from pathlib import Path

    said = text.splitlines()[0] if text else "unreadable"
    p = Path(path) if path else None
    if p is not None and p.name == "minetax.duckdb" and p.parent.name == "published":
        return (f"the published snapshot {p} is damaged ({said}).\n"
                f"  Run `minetax run` to publish a new one (the warehouse is not affected).")
    if p is not None and p.name == "warehouse.duckdb":
        h = p.parent
        return (f"the warehouse {p} is damaged ({said}); nothing was changed.\n"
                f"  Move it aside (mv {p} {p}.damaged) and run `minetax run` with the same --data-dir: it is rebuilt\n"
                f"  from the data folder and the drop folder {h / 'inbox'}; a copy of every input loaded before is\n"
                f"  in {h / 'raw'} (put those back in the drop folder if the originals are gone).")
    return f"a DuckDB database file{' ' + str(p) if p else ''} is damaged ({said})"
