"""Intake: which files a run takes, and the raw copy each is read from.

- Only regular files are taken. A directory, pipe, device or socket named like an input is refused by name at
  once, never opened (opening a pipe would wait forever holding the run lock). A symbolic link is followed only
  when its target is a regular file inside the folder the link sits in (the data folder or the drop folder).
- A file still being written is not taken: its size and modification time must be the same at two looks at least
  SETTLE_SECONDS apart, the second one after the file was copied. A data-folder file that changes refuses the
  run ("still being written"); a drop-folder file that changes is left for the next run (status not_taken).
  Operators who write files into the drop folder should write them aside under another name (e.g. `.x.part`)
  and rename them into place; a file copied straight in is taken only once it has stopped changing.
- The copy is the input. The file is hashed; a content not yet in the raw store is copied to
  MINETAX_HOME/raw/<dataset>/<sha256>.<ext> (aside, hashed again on the way, then renamed), and every later step
  reads that copy, never the original path again: a file replaced during a run cannot be loaded under another
  file's hash.
- A file seen before is not hashed again when nothing about it changed: the raw store keeps, per path, the size,
  modification time (ns), inode and hash it had (raw/.hashes.json). Trusted only when the file's modification
  time was at least RACY_SECONDS older than the hash (a file written in the same instant as it was hashed could
  change again without its time moving: Git's "racy" rule) and its raw copy is still there. At a billion readings
  this saves reading 25 GB again on every run, `compare` and `backfill` that finds the inputs unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from minetax.errors import InputError

SETTLE_SECONDS = float(os.environ.get("MINETAX_SETTLE_SECONDS", "1.0"))
RACY_SECONDS = 2.0  # a hash is trusted for a file last modified at least this long before it was hashed
MEMO = ".hashes.json"  # in the raw store: path -> [size, mtime_ns, inode, sha256, hashed_at_ns]
KINDS = {stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a named pipe (FIFO)", stat.S_ISCHR: "a character device",
         stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


class StillWriting(Exception):
    """The file changed while it was taken."""


@dataclass(frozen=True)
class Look:
    size: int
    mtime_ns: int
    inode: int = 0

    def key(self) -> list[int]:
        return [self.size, self.mtime_ns, self.inode]


def refuse_kind(path: Path, folder: Path) -> None:
    """Refuse, by name, anything but a regular file inside `folder` (checked without opening it)."""
    try:
        st = os.lstat(path)
    except OSError as e:
        raise InputError(str(path), [{"column": None, "rule": "input is a readable file",
                                      "examples": [f"{path.name}: {e.strerror}"]}]) from None
    if stat.S_ISLNK(st.st_mode):
        target = path.resolve()
        inside = target.is_relative_to(folder.resolve())
        if not inside:
            raise InputError(str(path), [{"column": None, "rule": "a symbolic link points inside its folder",
                                          "examples": [f"{path.name} -> {target} (outside {folder})"]}])
        st = os.stat(target)
    for test, what in KINDS.items():
        if test(st.st_mode):
            raise InputError(str(path), [{"column": None, "rule": "input is a regular file",
                                          "examples": [f"{path.name} is {what}, not a file"]}])


def _look(path: Path) -> Look:
    st = os.stat(path)
    return Look(st.st_size, st.st_mtime_ns, st.st_ino)


def _memo(raw_dir: Path) -> dict[str, list]:
    try:
        found = json.loads((raw_dir / MEMO).read_text())
        return found if isinstance(found, dict) else {}
    except (OSError, ValueError):  # none yet, or unreadable: every file is hashed
        return {}


def _remember(raw_dir: Path, path: Path, look: Look, sha: str, hashed_at_ns: int) -> None:
    """Record the hash of `path` as it looked (written aside, then renamed: never a half-written memo)."""
    memo = _memo(raw_dir)
    memo[str(path.absolute())] = [*look.key(), sha, hashed_at_ns]
    raw_dir.mkdir(parents=True, exist_ok=True)
    tmp = raw_dir / f"{MEMO}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(memo))
    os.replace(tmp, raw_dir / MEMO)


def _known_hash(raw_dir: Path, path: Path, look: Look, dataset: str) -> str | None:
    """The hash recorded for `path` if the file looks exactly as it did then, was not modified within RACY_SECONDS
    before it was hashed, and its raw copy is still in the store; else None (hash it)."""
    rec = _memo(raw_dir).get(str(path.absolute()))
    if not rec or len(rec) != 5 or rec[:3] != look.key() or look.mtime_ns > rec[4] - RACY_SECONDS * 1e9:
        return None
    sha = str(rec[3])
    return sha if (raw_dir / dataset / f"{sha}{path.suffix}").exists() else None


def remembered_hash(path: Path, raw_dir: Path, dataset: str) -> str | None:
    """The hash of `path` if the raw store remembers it and the file has not changed since (see _known_hash); None
    when it must be read to be known. Reads only the file's metadata."""
    try:
        return _known_hash(raw_dir, path, _look(path), dataset)
    except OSError:
        return None


def take(path: Path, raw_dir: Path, dataset: str) -> tuple[str, Path]:
    """Copy `path` into the raw store, hashing it on the way; return (sha256, stored copy). Raises StillWriting
    when the file is not the same at two looks SETTLE_SECONDS apart (the second after the copy)."""
    first = _look(path)
    young = time.time() - first.mtime_ns / 1e9
    if young < SETTLE_SECONDS:  # written a moment ago: give a writer the chance to show itself
        time.sleep(SETTLE_SECONDS - max(young, 0.0))
        if _look(path) != first:
            raise StillWriting(path)
    known = _known_hash(raw_dir, path, first, dataset)
    hashed_at = time.time_ns()
    sha = known or _hash(path)  # a file already in the raw store is not copied again: its name is its content
    dest = raw_dir / dataset / f"{sha}{path.suffix}"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".incoming-{os.getpid()}{path.suffix}.tmp"
        try:
            if _hash(path, copy_to=tmp) != sha:
                raise StillWriting(path)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
    if _look(path) != first:
        raise StillWriting(path)
    if known is None:
        _remember(raw_dir, path, first, sha, hashed_at)
    return sha, dest


def _hash(path: Path, copy_to: Path | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as src, (open(copy_to, "wb") if copy_to else contextlib.nullcontext()) as out:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            h.update(chunk)
            if out:
                out.write(chunk)
    return h.hexdigest()


def still_writing(path: Path) -> InputError:
    return InputError(str(path), [{"column": None, "rule": "input file is complete (not still being written)",
                                   "examples": [f"{path.name} changed while it was read; run again when the copy "
                                                "has finished"]}])
