"""Scheme files: the shipped law loads; malformed files are refused with a clear message."""

from __future__ import annotations

import shutil

import pytest
import yaml

from minetax.config import SCHEMES_DIR
from minetax.errors import SchemeError
from minetax.schemes import load_scenario, load_scheme


def test_shipped_law_loads():
    s = load_scheme("kz-mining-fee")
    assert s.tax_period == "quarter" and s.rate_unit == "KZT/kWh"
    assert s.rate_range == (1.0, 25.0)
    rules = s.rate_rules()
    flat_2022 = [r for r in rules if str(r["valid_from"]) == "2022-01-01" and r["kind"] == "bracket"]
    assert [r["rate"] for r in flat_2022] == [1.0]
    assert all(r["status"] in ("enacted", "reported", "unverified") and r["reference"] for r in rules)
    assert load_scenario("kz-baseline").schemes[0].scheme_id == "kz-mining-fee"


def _write(tmp_path, mutate):
    doc = yaml.safe_load((SCHEMES_DIR / "kz-mining-fee.yaml").read_text())
    mutate(doc)
    (tmp_path / "kz-mining-fee.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return tmp_path


def _brackets_2023(doc):
    return next(v for d, v in doc["parameters"]["brackets"]["values"].items() if str(d) == "2023-01-01")["value"]


BAD = {
    "unsorted brackets": (lambda d: _brackets_2023(d).__setitem__(1, {"up_to": 9, "rate": 22}), "must increase"),
    "last bracket bounded": (lambda d: _brackets_2023(d).__setitem__(-1, {"up_to": 30, "rate": 1}), "must be open"),
    "negative rate": (lambda d: _brackets_2023(d).__setitem__(0, {"up_to": 10, "rate": -1}), "rate must be"),
    "unknown family": (lambda d: d.__setitem__("family", "per_device"), "unknown family"),
    "unknown currency": (lambda d: d.__setitem__("currency", "XYZ"), "unknown currency"),
    "unknown unit": (lambda d: d.__setitem__("rate_unit", "KZT/MWh"), "unknown rate_unit"),
    "bad tax period": (lambda d: d.__setitem__("tax_period", "week"), "tax_period"),
    "unknown top-level key": (lambda d: d.__setitem__("rates", 5), "unknown keys"),
    "base does not fit family": (lambda d: d.__setitem__("base", "mined_value_kzt"), "does not fit family"),
    "bad price decimals": (lambda d: d.__setitem__("average_price_decimals", "two"), "average_price_decimals"),
    "unknown parameter": (lambda d: d["parameters"].__setitem__("rate_cap", {"values": {}}), "unknown parameter"),
    "dates out of order": (lambda d: d["parameters"]["brackets"].__setitem__(
        "values", dict(reversed(list(d["parameters"]["brackets"]["values"].items())))), "out of order"),
    "date not month start": (lambda d: d["parameters"]["brackets"]["values"].__setitem__(
        __import__("datetime").date(2025, 3, 15), {"value": [{"rate": 3}], "status": "proposed",
                                                   "reference": {"title": "x"}}), "first day of a month"),
    "bad status": (lambda d: next(iter(d["parameters"]["brackets"]["values"].values())).__setitem__(
        "status", "rumoured"), "status must be"),
    "missing reference": (lambda d: next(iter(d["parameters"]["brackets"]["values"].values())).pop("reference"),
                          "reference needs a title"),
    "unknown override condition": (lambda d: list(d["parameters"]["overrides"]["values"].values())[1]["value"][0]
                                   .__setitem__("when", {"colour": ["green"]}), "unknown condition"),
    "unknown energy source": (lambda d: list(d["parameters"]["overrides"]["values"].values())[1]["value"][0]
                              .__setitem__("when", {"energy_source": ["nuclear"]}), "energy_source must be"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_malformed_scheme_refused(tmp_path, name):
    mutate, message = BAD[name]
    folder = _write(tmp_path, mutate)
    with pytest.raises(SchemeError, match=message) as e:
        load_scheme("kz-mining-fee", folder)
    assert "kz-mining-fee.yaml" in str(e.value)


def test_unknown_scenario_lists_known(tmp_path):
    with pytest.raises(SchemeError, match="known: .*kz-baseline"):
        load_scenario("nope")


def test_scenario_id_cannot_escape(tmp_path):
    with pytest.raises(SchemeError, match="letters, digits"):
        load_scenario("../../etc/passwd")


def test_scheme_must_match_file_name(tmp_path):
    shutil.copy(SCHEMES_DIR / "kz-mining-fee.yaml", tmp_path / "other.yaml")
    with pytest.raises(SchemeError, match="must match the file name"):
        load_scheme("other", tmp_path)
