#!/usr/bin/env bash
# The package as users install it: build the wheel, install it into a fresh virtual environment outside the
# checkout (dependencies pinned to uv.lock), and run minetax from there on a fresh MINETAX_HOME, in a folder
# outside the checkout. Checks exit codes and output of --version, schemes, run, sql, runs, export and report;
# then `uv tool install` of the same wheel, and that a wheel built from the sdist carries the same files.
# Called by .ci/run after the tests; run it alone with `scripts/check_wheel.sh` (about a minute or two).
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKOUT=$PWD
UV=(${UV:-uv})

WORK=$(mktemp -d "${TMPDIR:-/tmp}/minetax-wheel.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "check_wheel: $*" >&2; exit 1; }
step() { echo "check_wheel: $*"; }

step "build the wheel (and an sdist, for the last check)"
"${UV[@]}" build --wheel --out-dir "$WORK/dist" --quiet
"${UV[@]}" build --sdist --out-dir "$WORK/sdist" --quiet
WHEEL=$(ls "$WORK"/dist/minetax-*.whl)
names() { python3 -c 'import sys, zipfile; print("\n".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))' "$1"; }
LISTING=$(names "$WHEEL")
for f in minetax/_resources/sql/tax/rate_in_force.sql minetax/_resources/schemes/scenarios/kz-baseline.yaml \
         minetax/_resources/expectations/input.farms.json minetax/_resources/data/sample/farms.csv \
         minetax/_resources/data/reference/network_daily.csv flows/pipeline.py minetax/cli/app.py; do
  grep -qx "$f" <<<"$LISTING" || fail "$f is not in $WHEEL"
done

COMMIT=""
if git -C "$CHECKOUT" rev-parse --show-toplevel 2>/dev/null | grep -qx "$CHECKOUT"; then
  COMMIT=$(git -C "$CHECKOUT" rev-parse --short=12 HEAD)
fi

step "install it into a fresh virtual environment outside the checkout"
"${UV[@]}" export --locked --no-dev --no-emit-project --no-hashes --format requirements-txt --quiet \
  >"$WORK/constraints.txt"
"${UV[@]}" venv --quiet --python 3.11 "$WORK/venv"
"${UV[@]}" pip install --quiet --python "$WORK/venv/bin/python" --constraints "$WORK/constraints.txt" "$WHEEL"

mkdir -p "$WORK/elsewhere"
cd "$WORK/elsewhere"  # nothing of the checkout in the working folder or on the path
export MINETAX_HOME="$WORK/home"
MINETAX="$WORK/venv/bin/minetax"

# run NAME EXPECTED_TEXT ARGS…: exit code 0, no traceback, EXPECTED_TEXT in the output
run() {
  local expect=$1; shift
  local out rc=0
  out=$("$MINETAX" "$@" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ] || grep -q "Traceback" <<<"$out" || ! grep -qF -- "$expect" <<<"$out"; then
    echo "$out" >&2
    fail "minetax $* exited $rc or did not print '$expect'"
  fi
  printf '%s\n' "$out"
}

step "minetax --version"
out=$(run "installed package" --version)
printf '%s\n' "$out"
grep -q "^minetax 0\.[0-9]" <<<"$out" || grep -q "^minetax [0-9]" <<<"$out" || fail "no version in: $out"
grep -qF "$WORK/venv/" <<<"$out" || fail "resources not read from the installed package: $out"
if [ -n "$COMMIT" ]; then
  grep -q "^commit $COMMIT" <<<"$out" || fail "--version does not name the commit $COMMIT: $out"
fi

step "minetax schemes"
run "kz-baseline" schemes >/dev/null
run "kz-mining-fee" schemes >/dev/null

step "minetax run"
run "published snapshot" run | tail -n 5

step "minetax sql"
out=$(run "count" sql "select count(*) from estimates" --format csv)
n=$(tail -n 1 <<<"$out" | tr -d '\r ')
[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] || fail "no estimates published: $out"
echo "estimates rows: $n"
out=$(run "0." sql "select code_version from runs" --format csv)
if [ -n "$COMMIT" ]; then
  grep -q "+g$COMMIT" <<<"$out" || fail "the run's code_version does not name the commit $COMMIT: $out"
fi

step "minetax runs"
run "succeeded" runs >/dev/null

step "minetax export"
run "" export --out "$WORK/out" | tail -n 3
ls "$WORK"/out/*.xlsx >/dev/null 2>&1 || fail "no workbook in $WORK/out"
run "" export --out "$WORK/csv" --format csv >/dev/null
ls "$WORK"/csv/*.csv >/dev/null 2>&1 || fail "no CSV files in $WORK/csv"

step "minetax report --format html"
run "" report --out "$WORK/report" --format html | tail -n 1
ls "$WORK"/report/*.html >/dev/null 2>&1 || fail "no HTML report in $WORK/report"

cd "$CHECKOUT"
step "uv tool install of the wheel"
UV_TOOL_DIR="$WORK/tools" UV_TOOL_BIN_DIR="$WORK/bin" \
  "${UV[@]}" tool install --quiet --python 3.11 --constraints "$WORK/constraints.txt" "$WHEEL"
MINETAX="$WORK/bin/minetax"
cd "$WORK/elsewhere"
run "$WORK/tools/" --version
run "kz-baseline" schemes >/dev/null
cd "$CHECKOUT"

step "a wheel built from the sdist carries the same files"
"${UV[@]}" build --wheel --out-dir "$WORK/from-sdist" --quiet "$(ls "$WORK"/sdist/minetax-*.tar.gz)"
diff <(names "$WHEEL") <(names "$(ls "$WORK"/from-sdist/minetax-*.whl)") || fail "the wheels differ"
if [ -n "$COMMIT" ]; then
  python3 -c 'import json, sys, zipfile; print(json.loads(zipfile.ZipFile(sys.argv[1]).read("minetax/_build.json")))' \
    "$(ls "$WORK"/from-sdist/minetax-*.whl)" | grep -q "$COMMIT" || fail "the wheel from the sdist lost the commit"
fi

step "ok"
