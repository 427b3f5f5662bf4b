"""The package as installed: what the wheel carries (resources, the build commit) and `minetax --version`.

The installed wheel itself is run by scripts/check_wheel.sh (CI, after the tests): a fresh environment outside the
checkout, then minetax run, sql and export from there.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from minetax import __version__, config, version
from minetax.publish import runs

ROOT = config.PROJECT_ROOT


def _git_commit() -> str | None:
    r = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def test_a_checkout_reads_its_own_folders():
    """Tests, `uv run` and editable installs read the checkout, so edits to sql/ or schemes/ show at once."""
    assert config.CHECKOUT == ROOT == config.RESOURCES
    for name in config.RESOURCE_FOLDERS:
        assert (config.RESOURCES / name).is_dir(), name
    assert config.SQL_DIR == ROOT / "sql" and config.DEFAULT_DATA_DIR == ROOT / "data"


def test_the_version_is_written_once():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__


def test_code_version_names_the_commit():
    current = version.current()
    assert current.source == "checkout" and current.version == __version__
    assert current.commit == _git_commit()
    assert runs.code_version() == str(current)
    assert re.fullmatch(r"\d+\.\d+\.\d+(\+g[0-9a-f]{12})?(\.dirty)?", runs.code_version())


def test_minetax_version_prints_version_and_commit(tmp_path):
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "--version"], capture_output=True, text=True,
                       env={**os.environ, "MINETAX_HOME": str(tmp_path)}, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"minetax {__version__}"
    commit = _git_commit()
    assert lines[1].startswith(f"commit {commit}" if commit else "commit unknown"), lines
    assert lines[2] == f"from checkout {ROOT}"


def test_the_build_hook_packs_every_resource_folder():
    """hatch_build.py and minetax.config name the same folders (the hook cannot import minetax)."""
    text = (ROOT / "hatch_build.py").read_text()
    folders = re.search(r"^RESOURCE_FOLDERS = (\(.*?\))", text, re.M)
    assert folders and ast.literal_eval(folders.group(1)) == config.RESOURCE_FOLDERS
    assert f'BUILD_INFO = "{version.BUILD_INFO}"' in text


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    uv = [shutil.which("uv")] if shutil.which("uv") else [sys.executable, "-m", "uv"]
    r = subprocess.run([*uv, "build", "--wheel", "--out-dir", str(out), "--quiet"], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return next(out.glob("minetax-*.whl"))


def test_the_wheel_carries_every_resource_file_and_the_commit(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in config.RESOURCE_FOLDERS:
        files = [p for p in (ROOT / name).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        assert files, name
        missing = [str(p.relative_to(ROOT)) for p in files
                   if f"minetax/_resources/{p.relative_to(ROOT).as_posix()}" not in names]
        assert not missing, missing
    assert {"flows/pipeline.py", "flows/deployments.py", "minetax/cli/app.py"} <= names
    commit = _git_commit()
    if commit is None:  # a checkout without git (an unpacked archive): the wheel records no commit
        assert "minetax/_build.json" not in names
    else:
        assert json.loads(zipfile.ZipFile(wheel).read("minetax/_build.json"))["commit"] == commit
