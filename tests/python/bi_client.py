"""A BI client in its own process, reading the published warehouse read-only.

``python -m tests.python.bi_client PATH hold``: opens one connection and keeps it; every line
on stdin asks for a snapshot of what that connection sees (one JSON line on stdout).
``python -m tests.python.bi_client PATH poll``: opens a fresh connection every half second and
prints a snapshot (or ``{"error": ...}``) per connection until stdin closes.

A snapshot is the publication's date and, per watched table, rows and an order-independent
content hash. (DuckDB shares one database instance per file within a process, so a second
connection in the test process itself would not be a fresh look at the file.)
"""

from __future__ import annotations

import json
import sys
import threading

import duckdb

WATCHED = ("marts.customer_facts", "marts.customer_rfm", "marts.stable_segments")


def snapshot(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    as_of = conn.execute("select as_of_date from main._publication").fetchone()[0]
    tables = {}
    for table in WATCHED:
        rows, digest = conn.execute(
            f"select count(*), coalesce(sum(hash(t)), 0) from {table} t"
        ).fetchone()
        tables[table] = [int(rows), int(digest)]
    return {"as_of": as_of.isoformat(), "tables": tables}


def _emit(payload: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def hold(path: str) -> None:
    conn = duckdb.connect(path, read_only=True)
    _emit({"ready": True})
    for _ in sys.stdin:
        try:
            _emit(snapshot(conn))
        except Exception as error:
            _emit({"error": f"{type(error).__name__}: {error}"})


def poll(path: str) -> None:
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    while not stop.is_set():
        try:
            with duckdb.connect(path, read_only=True) as conn:
                _emit(snapshot(conn))
        except Exception as error:
            _emit({"error": f"{type(error).__name__}: {error}"})
        stop.wait(0.5)


if __name__ == "__main__":
    {"hold": hold, "poll": poll}[sys.argv[2]](sys.argv[1])
