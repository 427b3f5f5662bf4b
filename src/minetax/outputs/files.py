"""Output files: names that are safe on Windows and Linux, kept inside the folder the user named."""

from __future__ import annotations

import re
from pathlib import Path

from minetax.errors import MinetaxError

WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_name(name: str, max_len: int = 150) -> str:
    """Letters, digits, '.', '-' and '_' only; no leading dot; not a Windows device name; at most max_len."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "file"
    stem = s.split(".")[0].upper()
    if stem in WINDOWS_RESERVED:
        s = "_" + s
    return s[:max_len]


def output_path(out_dir: Path, name: str, force: bool) -> Path:
    """A file in out_dir (created if needed) named safely; refuses to leave out_dir or to overwrite without force."""
    root = out_dir.expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    path = (root / safe_name(name)).resolve()
    if path.parent != root:
        raise MinetaxError(f"refused: {name!r} would be written outside {root}")
    if path.exists() and not force:
        raise MinetaxError(f"refused: {path} exists; use --force to overwrite it")
    return path
