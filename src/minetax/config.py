"""Where things live: the project's resource folders and the user's state folder (MINETAX_HOME)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = PROJECT_ROOT / "sql"
SCHEMES_DIR = PROJECT_ROOT / "schemes"
SCENARIOS_DIR = SCHEMES_DIR / "scenarios"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"

DEFAULT_SCENARIO = "kz-baseline"


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

    @classmethod
    def make(cls, home: str | Path | None = None, data_dir: str | Path | None = None,
             schemes_dir: str | Path | None = None) -> Settings:
        h = Path(home).expanduser() if home else default_home()
        d = Path(data_dir).expanduser() if data_dir else DEFAULT_DATA_DIR
        s = Path(schemes_dir).expanduser() if schemes_dir else SCHEMES_DIR
        return cls(home=h.resolve(), data_dir=d.resolve(), schemes_dir=s.resolve())

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
