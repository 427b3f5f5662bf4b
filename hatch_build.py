"""Hatch build hook (pyproject.toml [tool.hatch.build.targets.*.hooks.custom]): what an installed minetax needs
beyond its Python code.

- wheel: the resource folders a run reads (sql/, schemes/, expectations/, the embedded data/) as package data
  minetax/_resources/<folder>, read through importlib.resources (minetax.config); and minetax/_build.json, the
  commit the wheel was built from (minetax.version, `minetax --version`). A wheel built from an sdist takes the
  commit the sdist recorded.
- sdist: src/minetax/_build.json with the commit, for the wheel built from it (the sdist has no .git).
- editable installs (uv sync, pip install -e): nothing; they read the checkout, so edits show at once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

RESOURCE_FOLDERS = ("sql", "schemes", "expectations", "data")  # minetax.config.RESOURCE_FOLDERS
BUILD_INFO = "_build.json"  # minetax.version.BUILD_INFO


def _git(root: str, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        if self.target_name == "wheel":
            for name in RESOURCE_FOLDERS:
                if not (root / name).is_dir():
                    raise FileNotFoundError(f"{root / name}: a resource folder the wheel must carry is missing")
                build_data["force_include"][str(root / name)] = f"minetax/_resources/{name}"
        top = _git(self.root, "rev-parse", "--show-toplevel")  # the checkout's own git, not one of a folder above
        in_git = bool(top) and Path(str(top)).resolve() == root.resolve()
        sha = _git(self.root, "rev-parse", "--short=12", "HEAD") if in_git else None
        if not sha:  # not a git checkout, e.g. an unpacked sdist: its src/minetax/_build.json is part of the package
            return
        info = {"commit": sha, "dirty": bool(_git(self.root, "status", "--porcelain", "--untracked-files=no"))}
        self._tmp = tempfile.mkdtemp(prefix="minetax-build-")
        path = Path(self._tmp) / BUILD_INFO
        path.write_text(json.dumps(info) + "\n")
        target = f"minetax/{BUILD_INFO}" if self.target_name == "wheel" else f"src/minetax/{BUILD_INFO}"
        build_data["force_include"][str(path)] = target

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if getattr(self, "_tmp", None):
            shutil.rmtree(self._tmp, ignore_errors=True)
