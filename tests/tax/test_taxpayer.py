"""farms.taxpayer_id (optional column, issue 17): absent, the farms load as before; present, an id with an invisible
character is refused by name before anything runs (it would split a taxpayer of the marginal bands in two)."""

from __future__ import annotations

import duckdb
import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.errors import InputError
from tests.conftest import FARM_HEADER, make_data_dir, write_csv


def _data(tmp_path, taxpayers: list[str] | None):
    data = make_data_dir(tmp_path / "data", {}, [["A1", "2023-01", 1000, 10], ["A2", "2023-01", 1000, 10]])
    header = FARM_HEADER + (["taxpayer_id"] if taxpayers is not None else [])
    rows = [[fid, f"Farm {fid}", "North", "coal", "grid", "true", "true", 1.0, "2022-01-01", ""]
            + ([taxpayers[i]] if taxpayers is not None else []) for i, fid in enumerate(("A1", "A2"))]
    write_csv(data / "farms.csv", header, rows)
    return Settings.make(tmp_path / "home", data)


@pytest.mark.parametrize("taxpayers, want", [(None, [None, None]), (["T1", " "], ["T1", None])])
def test_taxpayer_column_is_optional(tmp_path, taxpayers, want):
    settings = _data(tmp_path, taxpayers)
    _, path = pipeline.run(settings, "kz-baseline")
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert [r[0] for r in con.execute("SELECT taxpayer_id FROM farms ORDER BY farm_id").fetchall()] == want
    finally:
        con.close()


def test_invisible_character_in_taxpayer_refused(tmp_path):
    settings = _data(tmp_path, ["T1", "T\u200b1"])
    with pytest.raises(InputError) as e:
        pipeline.run(settings, "kz-baseline")
    text = str(e.value)
    assert "farms.csv" in text and "taxpayer_id" in text and "invisible" in text, text
    assert not settings.published_path.exists()  # nothing published
