"""The Kazakhstan fee's open points as explicit readings (schemes/kz-mining-fee.yaml, `readings`): the other
readings reproduce the figures published before issue 17 exactly, and bad readings are refused by name."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from minetax import pipeline
from minetax.config import SCHEMES_DIR, Settings
from minetax.errors import SchemeError
from minetax.tax.schemes import load_scenario, load_scheme
from tests.conftest import TESTS
from tests.test_embedded_totals import COUNTRY, FARM, KEY

BEFORE = TESTS / "golden" / "kz_baseline_before_issue17.csv"  # kz-baseline rows of embedded_totals.csv at 921ef73


def test_other_readings_reproduce_the_totals_published_before(tmp_path):
    """kz-baseline-tiyn (price to the tiyn, own generation replaces the bracket) = kz-baseline before issue 17."""
    _, path = pipeline.run(Settings.make(tmp_path / "home"), "kz-baseline-tiyn")
    con = duckdb.connect(str(path), read_only=True)
    try:
        now = pd.concat([con.execute(FARM).df(), con.execute(COUNTRY).df()])
    finally:
        con.close()
    now = now.assign(scenario_id="kz-baseline").sort_values(KEY).reset_index(drop=True)
    before = pd.read_csv(BEFORE).sort_values(KEY).reset_index(drop=True)
    assert now[KEY].astype(str).values.tolist() == before[KEY].astype(str).values.tolist()
    for col in ("base_kwh", "tax_low_kzt", "tax_kzt", "tax_high_kzt", "tax_dynamic_kzt"):
        assert now[col].tolist() == pytest.approx(before[col].tolist(), rel=1e-12, abs=1e-3), col


def test_defaults_follow_policy_and_scenario_picks_the_other():
    fee = load_scheme("kz-mining-fee")
    assert fee.readings == {"price_rounding": "none", "own_generation": "highest"}
    assert fee.price_decimals is None
    other = {s.scheme_id: s for s in load_scenario("kz-baseline-tiyn").schemes}["kz-mining-fee"]
    assert other.readings == {"price_rounding": "tiyn", "own_generation": "replaces"}
    assert other.price_decimals == 2 and other.version != fee.version
    combine = {r["name"]: r["combine"] for r in other.rate_rules() if r["kind"] == "override"}
    assert combine["own_generation"] == "replace" and combine["unmetered"] == "replace"
    combine = {r["name"]: r["combine"] for r in fee.rate_rules() if r["kind"] == "override"}
    assert combine["own_generation"] == "highest" and combine["own_renewable_generation"] == "replace"


def _fee_dir(tmp_path, old: str, new: str, scenario: str | None = None):
    text = (SCHEMES_DIR / "kz-mining-fee.yaml").read_text()
    assert old in text
    (tmp_path / "scenarios").mkdir(exist_ok=True)
    (tmp_path / "kz-mining-fee.yaml").write_text(text.replace(old, new))
    if scenario:
        (tmp_path / "scenarios" / "s.yaml").write_text(scenario)
    return tmp_path


@pytest.mark.parametrize("old, new, message", [
    ("    default: none\n", "    default: floor\n",
     "readings.price_rounding.default: 'floor' (a string) is not one of"),
    ("  price_rounding:\n", "  price_round:\n", "readings.price_round: unknown open point 'price_round'"),
    ("      tiyn: the average", "      kopek: the average", "readings.price_rounding.choices: unknown choice 'kopek'"),
    ("    default: highest\n", "", "readings.own_generation: missing key 'default'"),
    ("            reading: own_generation", "            reading: own_gen",
     "reading must be one of own_generation"),
])
def test_bad_readings_refused(tmp_path, old, new, message):
    with pytest.raises(SchemeError, match="scheme refused: kz-mining-fee.yaml") as e:
        load_scheme("kz-mining-fee", _fee_dir(tmp_path, old, new))
    assert message in str(e.value), str(e.value)


def test_override_following_an_undocumented_reading_refused(tmp_path):
    text = (SCHEMES_DIR / "kz-mining-fee.yaml").read_text()
    (tmp_path / "kz-mining-fee.yaml").write_text(text[:text.index("readings:   #")])
    with pytest.raises(SchemeError, match="follows reading 'own_generation', which the scheme's readings do not "
                                          "document"):
        load_scheme("kz-mining-fee", tmp_path)


@pytest.mark.parametrize("picks, message", [
    ("{kz-mining-fee: {price_rounding: kopek}}", "readings.kz-mining-fee.price_rounding: unknown choice"),
    ("{kz-mining-fee: {rounding: tiyn}}", "scheme kz-mining-fee has no open point 'rounding'"),
    ("{kz-cit: {price_rounding: tiyn}}", "scheme kz-cit has no open point 'price_rounding'"),
    ("{us-dame: {price_rounding: tiyn}}", "names scheme 'us-dame', which the scenario does not use"),
])
def test_bad_scenario_readings_refused(tmp_path, picks, message):
    schemes = tmp_path / "schemes"
    (schemes / "scenarios").mkdir(parents=True)
    for p in SCHEMES_DIR.glob("*.yaml"):
        (schemes / p.name).write_text(p.read_text())
    for p in (SCHEMES_DIR / "scenarios").glob("*.yaml"):
        (schemes / "scenarios" / p.name).write_text(p.read_text())
    (schemes / "scenarios" / "bad.yaml").write_text(f"scenario_id: bad\nbase: kz-baseline\nreadings: {picks}\n")
    with pytest.raises(SchemeError, match="scenario refused: bad.yaml") as e:
        load_scenario("bad", schemes / "scenarios", schemes)
    assert message in str(e.value), str(e.value)
