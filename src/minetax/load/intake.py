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
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from minetax.errors import InputError

SETTLE_SECONDS = float(os.environ.get("MINETAX_SETTLE_SECONDS", "1.0"))
KINDS = {stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a named pipe (FIFO)", stat.S_ISCHR: "a character device",
         stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


class StillWriting(Exception):
    """The file changed while it was taken."""


@dataclass(frozen=True)
class Look:
    size: int
    mtime_ns: int


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
    return Look(st.st_size, st.st_mtime_ns)


def take(path: Path, raw_dir: Path, dataset: str) -> tuple[str, Path]:
    """Copy `path` into the raw store, hashing it on the way; return (sha256, stored copy). Raises StillWriting
    when the file is not the same at two looks SETTLE_SECONDS apart (the second after the copy)."""
    first = _look(path)
    young = time.time() - first.mtime_ns / 1e9
    if young < SETTLE_SECONDS:  # written a moment ago: give a writer the chance to show itself
        time.sleep(SETTLE_SECONDS - max(young, 0.0))
        if _look(path) != first:
            raise StillWriting(path)
    sha = _hash(path)  # a file already in the raw store is not copied again: its name is its content
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
