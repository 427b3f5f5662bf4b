"""Scheme files: the shipped law loads; malformed files are refused with a clear message."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml

from minetax.config import SCHEMES_DIR
from minetax.errors import SchemeError
from minetax.tax.schemes import load_scenario, load_scheme
from tests.conftest import TESTS


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
    "unknown top-level key": (lambda d: d.__setitem__("rates", 5), "unknown key 'rates'"),
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


# ---- strict reading (issue 13, point 3): nothing in a policy file is silently reinterpreted ------------------------

def _brackets_2022(doc):
    return next(v for d, v in doc["parameters"]["brackets"]["values"].items() if str(d) == "2022-01-01")


def _override_2023(doc):
    return list(doc["parameters"]["overrides"]["values"].values())[1]["value"][2]  # unmetered


STRICT = {  # mutation -> (key the message names, rule)
    "string boolean inclusive": (lambda d: _brackets_2023(d)[0].__setitem__("inclusive", "false"),
                                 "inclusive", "must be true or false (unquoted), got 'false' (a string)"),
    "string boolean in when": (lambda d: _override_2023(d)["when"].__setitem__("metered", "no"),
                               "when.metered", "must be true or false"),
    "number as string": (lambda d: _brackets_2023(d)[0].__setitem__("rate", "25"), "bracket 1",
                         "rate must be a number >= 0, got '25' (a string)"),
    "up_to as string": (lambda d: _brackets_2023(d)[0].__setitem__("up_to", "10"), "bracket 1",
                        "up_to must be a number, got '10' (a string)"),
    "nan rate": (lambda d: _brackets_2023(d)[0].__setitem__("rate", float("nan")), "bracket 1",
                 "rate must be a number >= 0, got nan (not a finite number)"),
    "inf override rate": (lambda d: _override_2023(d).__setitem__("rate", float("inf")), "unmetered",
                          "rate must be a number >= 0"),
    "inclusive on the open bracket": (lambda d: _brackets_2023(d)[-1].__setitem__("inclusive", True),
                                      "bracket 9", "inclusive is only for a bracket with up_to"),
    "misspelt parameter key": (lambda d: d["parameters"]["brackets"].__setitem__(
        "valeus", copy.deepcopy(d["parameters"]["brackets"]["values"])), "parameters.brackets", "unknown key 'valeus'"),
    "misspelt value key": (lambda d: _brackets_2022(d).__setitem__("stauts", "enacted"),
                           "parameters.brackets.values.2022-01-01", "unknown key 'stauts' (allowed: reference, "),
    "unknown reference key": (lambda d: _brackets_2022(d)["reference"].__setitem__("link", "x"),
                              "2022-01-01.reference", "unknown key 'link' (allowed: title, url)"),
    "misspelt bracket key": (lambda d: _brackets_2023(d)[0].__setitem__("inclusiv", True), "bracket 1",
                             "unknown key 'inclusiv' (allowed: inclusive, rate, up_to)"),
    "unknown override key": (lambda d: _override_2023(d).__setitem__("rates", 3), "unmetered",
                             "unknown key 'rates' (allowed: name, rate, reading, when)"),
    "empty condition list": (lambda d: _override_2023(d)["when"].__setitem__("connection", []), "when.connection",
                             "must be a list of"),
    "misspelt parameter unit": (lambda d: d["parameters"]["brackets"].__setitem__("unit", "KZT/kwh"),
                                "parameters.brackets.unit", "unknown unit 'KZT/kwh' (known for this scheme: KZT/kWh)"),
    "price_unit not on brackets": (lambda d: d["parameters"]["overrides"].__setitem__("price_unit", "KZT/kWh"),
                                   "overrides.price_unit", "only brackets have a price_unit"),
    "list as family": (lambda d: d.__setitem__("family", ["per_kwh"]), "family", "must be a non-empty text"),
    "parameter as list": (lambda d: d["parameters"].__setitem__("overrides", [1, 2]), "parameters.overrides",
                          "needs a mapping (key: value), got [1, 2]"),
    "title missing": (lambda d: d.pop("title"), "top level", "missing key 'title'"),
}


@pytest.mark.parametrize("name", list(STRICT))
def test_strict_scheme_values_refused(tmp_path, name):
    mutate, key, rule = STRICT[name]
    with pytest.raises(SchemeError) as e:
        load_scheme("kz-mining-fee", _write(tmp_path, mutate))
    msg = str(e.value)
    assert msg.startswith("scheme refused: kz-mining-fee.yaml") and key in msg and rule in msg, msg


def _write_text(tmp_path, text: str | bytes, name: str = "kz-mining-fee") -> Path:
    data = text if isinstance(text, bytes) else text.encode()
    (tmp_path / f"{name}.yaml").write_bytes(data)
    return tmp_path


def _fee_text(old: str, new: str) -> str:
    text = (SCHEMES_DIR / "kz-mining-fee.yaml").read_text()
    assert old in text
    return text.replace(old, new, 1)


RAW = {  # file text -> (line, rule)
    "duplicate date key": (lambda: _fee_text("      2024-01-01:\n        value:\n          - {rate: 2}",
                                             "      2023-01-01:\n        value:\n          - {rate: 2}"),
                           "parameters.brackets.values: duplicate key '2023-01-01' (lines 40 and 58)"),
    "duplicate parameter key": (lambda: _fee_text("  overrides:\n", "  brackets:\n"),
                                "parameters: duplicate key 'brackets' (lines 25 and 73)"),
    "datetime key": (lambda: _fee_text("      2024-01-01:\n        value:\n          - {rate: 2}",
                                       "      2024-01-01 00:00:00:\n        value:\n          - {rate: 2}"),
                     "line 58: parameters.brackets.values: '2024-01-01 00:00:00' is a date and time: "
                     "use a date YYYY-MM-DD"),
    "datetime key with T, no seconds": (lambda: _fee_text("      2026-01-01:", "      2026-01-01T00:00:"),
                                        "line 65: parameters.brackets.values: '2026-01-01T00:00' is a date and time"),
    "date that does not exist": (lambda: _fee_text("      2026-01-01:", "      2026-02-30:"),
                                 "line 65: parameters.brackets.values: '2026-02-30' is not a real date"),
    "tab indentation": (lambda: _fee_text("    status: enacted", "\tstatus: enacted"),
                        "line 36: not valid YAML: while scanning for the next token, found character '\\t' that "
                        "cannot start any token"),
    "unclosed flow list": (lambda: _fee_text("- {rate: 1}\n", "- {rate: 1\n"),
                           "line 36: not valid YAML: while parsing a flow mapping, expected ',' or '}'"),
    "yes as a key": (lambda: _fee_text("  overrides:\n", "  yes:\n"),
                     "line 73: parameters: key 'yes' is read by YAML as True"),
    "merge key": (lambda: "scheme_id: kz-mining-fee\n<<: {title: x}\n", "line 2: merge keys (<<) are not allowed"),
    "explicit tag": (lambda: "scheme_id: !!binary aGVsbG8=\n", "line 1: scheme_id: explicit tag"),
    "empty file": (lambda: "# nothing here\n", "the file is empty"),
    "top-level list": (lambda: "- scheme_id: kz-mining-fee\n", "line 1: the top level must be a mapping"),
    "two documents": (lambda: "scheme_id: a\n---\nscheme_id: b\n", "line 2: not valid YAML: expected a single "
                                                                   "document in the stream"),
    "binary file": (lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a binary file, not YAML text"),
    "not UTF-8": (lambda: "title: Налог\n".encode("cp1251"), "not UTF-8 text (byte 0xcd at offset 7)"),
    "control character": (lambda: "scheme_id: a\ntitle: \x1b[31m\n", "line 2: control character U+001B"),
    "too large": (lambda: "scheme_id: kz-mining-fee\n" + "# padding\n" * 110_000, "larger than 1024 KB"),
    "nested too deep": (lambda: "notes: " + "[" * 100 + "]" * 100 + "\n", "nested deeper than 32 levels"),
    "huge integer": (lambda: "average_price_decimals: " + "9" * 5000 + "\n", "is not a usable number"),
}


@pytest.mark.parametrize("name", list(RAW))
def test_unsafe_yaml_refused_with_line(tmp_path, name):
    make, rule = RAW[name]
    with pytest.raises(SchemeError) as e:
        load_scheme("kz-mining-fee", _write_text(tmp_path, make()))
    msg = str(e.value)
    assert msg.startswith("scheme refused: kz-mining-fee.yaml") and rule in msg, msg


def test_duplicate_key_was_silently_dropped_by_safe_load():
    """What the strict reader prevents: yaml.safe_load keeps the last of two equal keys without a word."""
    text = _fee_text("      2024-01-01:\n        value:\n          - {rate: 2}",
                     "      2023-01-01:\n        value:\n          - {rate: 2}")
    values = yaml.safe_load(text)["parameters"]["brackets"]["values"]
    assert len(values) == 3 and values[dt.date(2023, 1, 1)]["value"] == [{"rate": 2}]


def _bomb(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "scheme_id: kz-mining-fee\n" + "\n".join(lines) + "\n"  # 9**10 = 3.5e9 strings if expanded


def test_anchor_bomb_refused_at_once_in_bounded_memory(tmp_path):
    folder = _write_text(tmp_path, _bomb())
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(SchemeError) as e:
            load_scheme("kz-mining-fee", folder)
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "line 2: l0: anchors and aliases (&l0, *l0) are not allowed" in str(e.value)
    assert elapsed < 0.5 and peak < 5_000_000, (elapsed, peak)


def test_a_single_alias_is_refused_too(tmp_path):
    text = _fee_text("        reference:\n          title: Law 53-VII", "        reference: &law\n          title: Law")
    with pytest.raises(SchemeError, match=r"line \d+: reference: anchors and aliases \(&law"):
        load_scheme("kz-mining-fee", _write_text(tmp_path, text))


def test_directory_named_like_a_scheme_refused(tmp_path):
    (tmp_path / "kz-mining-fee.yaml").mkdir()
    with pytest.raises(SchemeError, match="kz-mining-fee.yaml: not a regular file"):
        load_scheme("kz-mining-fee", tmp_path)


# ---- scenarios -------------------------------------------------------------------------------------------------------

def _scenarios(tmp_path, text: str, name: str = "bad") -> tuple[Path, Path]:
    schemes = tmp_path / "schemes"
    shutil.copytree(SCHEMES_DIR, schemes)
    (schemes / "scenarios" / f"{name}.yaml").write_text(text)
    return schemes / "scenarios", schemes


BASE = "scenario_id: bad\nbase: kz-baseline\n"
REFORM = BASE + "reference: {title: test}\nreforms:\n  kz-mining-fee:\n    brackets:\n"
SCENARIO_BAD = {  # text -> (key the message names, rule)
    "unknown top-level key": (BASE + "reforms_: {}\n", "top level", "unknown key 'reforms_' (allowed: assumptions, "),
    "unknown assumption": (BASE + "assumptions: {pue_: 1.1}\n", "assumptions", "unknown assumptions ['pue_']"),
    "unknown key in pue": (BASE + "assumptions: {pue: {mid: 1.1}}\n", "assumptions.pue", "unknown key 'mid'"),
    "unknown key in behaviour": (BASE + "assumptions: {behaviour: {enable: true}}\n", "assumptions.behaviour",
                                 "unknown key 'enable' (allowed: enabled)"),
    "string boolean behaviour": (BASE + "assumptions: {behaviour: {enabled: 'yes'}}\n",
                                 "assumptions.behaviour.enabled", "must be true or false (unquoted), got 'yes'"),
    "string zero behaviour": (BASE + "assumptions: {behaviour: {enabled: '0'}}\n", "behaviour.enabled",
                              "got '0' (a string)"),
    "unknown key in an assumed share": (
        BASE + "assumptions:\n  hashrate_share:\n    country: Kazakhstan\n    assumed:\n"
               "      2024-01-01: {low: 0.1, central: 0.2, hihg: 0.3}\n",
        "assumptions.hashrate_share.assumed.2024-01-01", "unknown key 'hihg'"),
    "multiplier as string": (BASE + "assumptions: {btc_price_multiplier: '2'}\n", "btc_price_multiplier",
                             "got '2' (a string)"),
    "pue of 11": (BASE + "assumptions: {pue: {low: 1.01, central: 1.1, high: 11}}\n", "assumptions.pue",
                  "1 <= low <= central <= high <= 3"),
    "fx pair the wrong way": (BASE + "assumptions: {fx_pair: KZT/USD}\n", "fx_pair", "a pair to KZT"),
    "unknown scheme": (BASE + "schemes: [kz-mining-fe]\n", "schemes", "unknown scheme 'kz-mining-fe' (a string)"),
    "unknown base": (BASE.replace("kz-baseline", "kz-basline"), "base", "unknown scenario 'kz-basline'"),
    "reform datetime key": (REFORM + "      2024-01-01 00:00:00: [{rate: 10}]\n",
                            "reforms.kz-mining-fee.brackets", "is a date and time: use a date YYYY-MM-DD"),
    "reform duplicate key": (REFORM + "      2024-01-01: [{rate: 10}]\n      2024-01-01: [{rate: 5}]\n",
                             "reforms.kz-mining-fee.brackets", "duplicate key '2024-01-01' (lines 7 and 8)"),
    "reform string date key": (REFORM + "      '2024-01-01': [{rate: 10}]\n", "reforms.kz-mining-fee.brackets",
                               "'2024-01-01' is not a date"),
    "reform entry with unknown key": (REFORM + "      2024-01-01: {vaule: [{rate: 10}], status: proposed}\n",
                                      "reforms.kz-mining-fee.brackets.2024-01-01", "unknown key 'vaule'"),
    "reform string boolean": (REFORM + "      2024-01-01: [{up_to: 5, inclusive: 'no', rate: 3}, {rate: 1}]\n",
                              "inclusive", "must be true or false"),
    "reference unknown key": (REFORM.replace("{title: test}", "{title: test, link: x}") + "      2024-01-01: 3\n",
                              "reference", "unknown key 'link'"),
}


@pytest.mark.parametrize("name", list(SCENARIO_BAD))
def test_strict_scenario_refused(tmp_path, name):
    text, key, rule = SCENARIO_BAD[name]
    scenarios, schemes = _scenarios(tmp_path, text)
    with pytest.raises(SchemeError) as e:
        load_scenario("bad", scenarios, schemes)
    msg = str(e.value)
    assert msg.startswith("scenario refused: bad.yaml") and key in msg and rule in msg, msg


def test_every_shipped_policy_file_loads_strictly():
    from minetax.tax.policy_yaml import read_policy
    from minetax.tax.schemes import list_scenarios, list_schemes
    assert [load_scheme(s).scheme_id for s in list_schemes()] == list_schemes()
    assert [load_scenario(s).scenario_id for s in list_scenarios()] == list_scenarios()
    forecasts = sorted((SCHEMES_DIR / "forecasts").glob("*.yaml"))
    assert forecasts and all(read_policy(f, "forecast")[0]["forecast_id"] == f.stem for f in forecasts)
    golden = TESTS / "golden" / "families" / "schemes"
    assert len([load_scenario(s, golden / "scenarios", golden) for s in list_scenarios(golden / "scenarios")]) >= 8


def test_cli_prints_one_error_line(tmp_path):
    schemes = tmp_path / "schemes"
    shutil.copytree(SCHEMES_DIR, schemes)
    (schemes / "kz-mining-fee.yaml").write_text(_fee_text("{up_to: 24, inclusive: false,", "{up_to: 24, inclusive: "
                                                                                            "'false',"))
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "schemes", "--schemes-dir", str(schemes)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("error: scheme refused: kz-mining-fee.yaml: parameters.brackets.values.2023-01-01, "
                               "bracket 8: inclusive must be true or false"), r.stderr
