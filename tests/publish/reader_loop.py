"""A reader process for the publish-concurrency test: queries the published snapshot until told to stop.

Usage: reader_loop.py SNAPSHOT STOPFILE MODE (MODE = loop: a new session per query; hold: one session).
Prints one JSON line: {"seen": [[latest run id, estimates rows, scenarios], …], "errors": [messages…]}.
"""

import json
import sys
import time
from pathlib import Path

import duckdb

SQL = ("SELECT (SELECT max(run_id) FROM runs WHERE started_at = (SELECT max(started_at) FROM runs)), "
       "(SELECT count(*) FROM estimates), (SELECT count(DISTINCT scenario_id) FROM estimates)")


def main() -> None:
    snapshot, stop, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    seen, errors = [], []
    held = duckdb.connect(snapshot, read_only=True) if mode == "hold" else None
    deadline = time.time() + 120
    while not stop.exists() and time.time() < deadline:
        try:
            con = held or duckdb.connect(snapshot, read_only=True)
            seen.append(list(con.execute(SQL).fetchall()[0]))  # one snapshot's run id and its contents
            if held is None:
                con.close()
        except Exception as e:  # every failure is a finding
            errors.append(repr(e))
        time.sleep(0.02)
    print(json.dumps({"seen": seen, "errors": errors}))


if __name__ == "__main__":
    main()
