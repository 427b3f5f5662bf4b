"""The code's version: the package version and the commit it was made from, when known.

One source for `minetax --version` and the code_version of every run record (minetax.publish.runs):
- run from a checkout: git, asked at each call (`.dirty` when tracked files have uncommitted changes);
- installed from a wheel: minetax/_build.json, written into the wheel at build time by hatch_build.py from the
  checkout's git (or carried over from the sdist the wheel was built from); no commit when it was built without git.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from minetax import __version__
from minetax.config import CHECKOUT, RESOURCES

BUILD_INFO = "_build.json"


@dataclass(frozen=True)
class CodeVersion:
    version: str
    commit: str | None  # 12 hex digits
    dirty: bool  # tracked files differed from the commit (at build time for a wheel)
    source: str  # "checkout" or "wheel"

    def __str__(self) -> str:
        """PEP 440 local version, as recorded in runs.code_version: 0.1.0+gabc123def456.dirty"""
        return self.version + (f"+g{self.commit}" if self.commit else "") + (".dirty" if self.dirty else "")

    def describe(self) -> str:
        """The lines of `minetax --version`."""
        if self.commit:
            commit = self.commit + (" (with uncommitted changes)" if self.dirty else "")
        else:
            commit = "unknown"
        where = f"checkout {RESOURCES}" if self.source == "checkout" else f"installed package, resources {RESOURCES}"
        return f"minetax {self.version}\ncommit {commit}\nfrom {where}"


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def from_git(root: Path) -> tuple[str | None, bool]:
    """(commit, dirty) of the git work tree at root; (None, False) without git or outside a repository."""
    sha = _git(root, "rev-parse", "--short=12", "HEAD")
    if not sha:
        return None, False
    return sha, bool(_git(root, "status", "--porcelain", "--untracked-files=no"))


def _from_build_info() -> tuple[str | None, bool]:
    try:
        info = json.loads((resources.files("minetax") / BUILD_INFO).read_text())
    except (OSError, ValueError):
        return None, False
    return info.get("commit") or None, bool(info.get("dirty"))


def current() -> CodeVersion:
    """The running code's version and commit."""
    if CHECKOUT is not None:
        return CodeVersion(__version__, *from_git(CHECKOUT), source="checkout")
    return CodeVersion(__version__, *_from_build_info(), source="wheel")
