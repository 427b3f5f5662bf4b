"""Where things live: the project's resource folders and the user's state folder (MINETAX_HOME).

The resource folders (sql/, schemes/, expectations/ and the embedded data/) are read from one root, RESOURCES:
- run from a checkout (`uv run`, an editable install, pytest): the checkout itself, so edits show at once;
- installed from the wheel (`pip install`, `uv tool install`): the copies the wheel carries as package data,
  minetax/_resources/<folder> (put there by hatch_build.py), found through importlib.resources.
Nothing else reads these folders by its own path: every reader takes SQL_DIR, SCHEMES_DIR, … from here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

_HERE = Path(__file__).resolve().parent  # …/src/minetax in a checkout, …/site-packages/minetax when installed
RESOURCE_FOLDERS = ("sql", "schemes", "expectations", "data")


def _checkout() -> Path | None:
    """The source checkout this code runs from (src/minetax beside sql/ and pyproject.toml), else None."""
    root = _HERE.parents[1]
    if _HERE.parent.name == "src" and (root / "pyproject.toml").is_file() and (root / "sql").is_dir():
        return root
    return None


def _package_resources() -> Path:
    """minetax/_resources of the installed package. DuckDB and the loaders read files by path, so the package must
    be installed as files (as pip and uv install wheels), not imported from a zip."""
    root = resources.files("minetax") / "_resources"
    if not isinstance(root, Path) or not (root / "sql").is_dir():
        raise ImportError(f"minetax: the resource folders are missing from the installed package ({root}); "
                          "reinstall it from a wheel built with `uv build --wheel`")
    return root


CHECKOUT = _checkout()
RESOURCES = CHECKOUT if CHECKOUT is not None else _package_resources()
# The folder holding the code: the checkout, or site-packages when installed (flows/ lives beside minetax/ in both).
PROJECT_ROOT = CHECKOUT if CHECKOUT is not None else _HERE.parent
SQL_DIR = RESOURCES / "sql"
SCHEMES_DIR = RESOURCES / "schemes"
SCENARIOS_DIR = SCHEMES_DIR / "scenarios"
EXPECTATIONS_DIR = RESOURCES / "expectations"
DEFAULT_DATA_DIR = RESOURCES / "data"

DEFAULT_SCENARIO = "kz-baseline"
CLUSTER_ENV = "MINETAX_CLUSTER"  # Settings.cluster when --cluster is not given
READINGS_STORE_ENV = "MINETAX_READINGS_STORE"  # Settings.readings_store when --readings-store is not given


def default_home() -> Path:
    """MINETAX_HOME if set, else $XDG_DATA_HOME/minetax (usually ~/.local/share/minetax)."""
    env = os.environ.get("MINETAX_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "minetax"


@dataclass(frozen=True)
class Settings:
    """All state of one installation lives under `home`; inputs are read from `data_dir`."""

    home: Path
    data_dir: Path = DEFAULT_DATA_DIR
    schemes_dir: Path = SCHEMES_DIR  # scheme files; scenarios in its scenarios/ subfolder
    # Dask scheduler address (tcp://HOST:PORT) that runs the map tasks; None: in this process (flows/executors.py)
    cluster: str | None = None
    # where loaded readings are kept: a folder or s3://bucket/prefix (minetax.storage); None: MINETAX_HOME/core/
    # energy_readings
    readings_store: str | None = None

    @classmethod
    def make(cls, home: str | Path | None = None, data_dir: str | Path | None = None,
             schemes_dir: str | Path | None = None, cluster: str | None = None,
             readings_store: str | None = None) -> Settings:
        """Settings from arguments; each one not given from its environment variable (MINETAX_HOME, MINETAX_CLUSTER,
        MINETAX_READINGS_STORE), else its default."""
        h = Path(home).expanduser() if home else default_home()
        d = Path(data_dir).expanduser() if data_dir else DEFAULT_DATA_DIR
        s = Path(schemes_dir).expanduser() if schemes_dir else SCHEMES_DIR
        return cls(home=h.resolve(), data_dir=d.resolve(), schemes_dir=s.resolve(),
                   cluster=(cluster or os.environ.get(CLUSTER_ENV) or "").strip() or None,
                   readings_store=(readings_store or os.environ.get(READINGS_STORE_ENV) or "").strip() or None)

    @property
    def scenarios_dir(self) -> Path:
        return self.schemes_dir / "scenarios"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.home / "published"

    @property
    def published_path(self) -> Path:
        return self.published_dir / "minetax.duckdb"

    @property
    def raw_dir(self) -> Path:
        """Content-addressed copies of every input file as received (raw/<dataset>/<sha256>.<ext>)."""
        return self.home / "raw"

    @property
    def inbox_dir(self) -> Path:
        """Drop folder: new input files put here are picked up by the next run, once (by content hash)."""
        return self.home / "inbox"

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"

    def ensure(self) -> None:
        for p in (self.home, self.published_dir, self.raw_dir, self.inbox_dir):
            p.mkdir(parents=True, exist_ok=True)
