"""Run bad-input corpus cases through the loader (no dbt): the test module and the summary use it.

A run of one case starts from a warehouse holding the known-good baseline (one file per feed,
``_baseline/``, loaded once into a template database that each case copies) and a landing area
holding the same files. It snapshots every raw table, lands the case's file in its feed folder
and loads that feed again, then snapshots again, leaving out the rows of the case's file. The
two snapshots must be equal: a bad file may add its own rows, ledger entry and rejects, and
nothing else.

The corpus shows the row rules: its tiny files would mostly be refused as a whole for their
share of rejected rows (``landing_reject_share_critical``), so it loads with ``ROW_RULES_ONLY``
(the thresholds are tested in tests/python/test_landing_safety.py).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from crm.contract import FEEDS
from crm.loading.loader import FileLoadReport, load_feed
from crm.loading.parsing import quote_identifier, quote_literal
from crm.loading.raw_layer import copy_warehouse
from crm.loading.reject_share import ROW_RULES_ONLY
from crm.loading.tables import LEDGER_TABLE, REJECTS_TABLE, raw_table

CORPUS = Path(__file__).resolve().parent
BASELINE = CORPUS / "_baseline"
#: Rejected rows of the baseline files (one, so the rejects table has rows to leave alone).
BASELINE_REJECTS = {"order_lines": 1}

Snapshot = dict[str, list[str]]


@dataclass(frozen=True)
class Case:
    """A case folder and its ``expected.json`` (fixed by hand, never computed by the loader)."""

    name: str
    feed: str
    file: str
    description: str
    outcome: str  # loaded | refused
    rows_loaded: int
    rows_rejected: int
    reason: str = ""
    encoding: str = ""
    rejects: list[dict[str, Any]] = field(default_factory=list)
    loaded: list[dict[str, Any]] = field(default_factory=list)
    key_versions: dict[str, int] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return CORPUS / self.name / self.file

    @property
    def source_file(self) -> str:
        """The file's path in the ledger (relative to the landing folder)."""
        return f"{self.feed}/{self.file}"

    @classmethod
    def read(cls, folder: Path) -> Case:
        spec = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
        return cls(name=folder.name, **spec)


def cases() -> list[Case]:
    """Every case of the corpus, by name."""
    return [Case.read(p.parent) for p in sorted(CORPUS.glob("*/expected.json"))]


@dataclass(frozen=True)
class CaseRun:
    case: Case
    report: FileLoadReport
    before: Snapshot
    after: Snapshot


def baseline_landing(landing: Path) -> Path:
    """Fill an empty landing folder with the baseline files."""
    for folder in sorted(BASELINE.iterdir()):
        shutil.copytree(folder, landing / folder.name)
    return landing


def baseline_warehouse(path: Path, landing: Path) -> Path:
    """A warehouse file at ``path`` with every baseline file loaded (a template to copy)."""
    baseline_landing(landing)
    with duckdb.connect(str(path)) as conn:
        rejected = {
            feed: load_feed(conn, landing, feed, ROW_RULES_ONLY).rows_rejected for feed in FEEDS
        }
    assert rejected == {feed: BASELINE_REJECTS.get(feed, 0) for feed in FEEDS}
    return path


def warehouse_copy(template: Path, path: Path) -> duckdb.DuckDBPyConnection:
    """A connection to a fresh copy of the template warehouse (its file and raw folder)."""
    copy_warehouse(template, path)
    return duckdb.connect(str(path))


def snapshot(conn: duckdb.DuckDBPyConnection, leave_out: str) -> Snapshot:
    """Every row of the raw schema except those of the file ``leave_out``, as JSON by table
    (one query: it runs twice per case)."""
    tables = {raw_table(feed): "_source_file" for feed in FEEDS.values()}
    tables |= {LEDGER_TABLE: "source_file", REJECTS_TABLE: "source_file"}
    sql = " union all ".join(
        f"select {quote_literal(table)} as tbl, cast(to_json(t) as varchar) as row "
        f"from {table} as t where {column} <> $leave_out"
        for table, column in tables.items()
    )
    found: Snapshot = {table: [] for table in tables}
    for table, row in conn.execute(f"{sql} order by all", {"leave_out": leave_out}).fetchall():
        found[table].append(row)
    return found


def run_case(conn: duckdb.DuckDBPyConnection, landing: Path, case: Case) -> CaseRun:
    """Land the case's file beside the baseline files in the empty folder ``landing`` and load
    it into ``conn``, a copy of the baseline warehouse."""
    baseline_landing(landing)
    before = snapshot(conn, case.source_file)
    shutil.copyfile(case.path, landing / case.feed / case.file)
    reports = load_feed(conn, landing, case.feed, ROW_RULES_ONLY).files
    (report,) = [r for r in reports if r.source_file == case.source_file]
    return CaseRun(case, report, before, snapshot(conn, case.source_file))


def plain(value: Any) -> Any:
    """A loaded value as written in ``expected.json``: decimals and timestamps as text."""
    if isinstance(value, Decimal | datetime):
        return str(value)
    return value


def loaded_rows(conn: duckdb.DuckDBPyConnection, case: Case) -> list[dict[str, Any]]:
    """The case's rows in ``raw.<feed>`` in file order, each with the columns that
    ``expected.json`` names for the row in the same position."""
    columns = sorted({name for row in case.loaded for name in row})
    if not columns:
        return []
    selected = ", ".join(quote_identifier(c) for c in columns)
    found = conn.execute(
        f"select {selected} from {raw_table(FEEDS[case.feed])} "
        "where _source_file = ? order by _source_line",
        [case.source_file],
    ).fetchall()
    rows = [dict(zip(columns, map(plain, row), strict=True)) for row in found]
    return [
        {c: row[c] for c in wanted} if wanted is not None else row
        for row, wanted in zip(rows, [*case.loaded, *[None] * len(rows)], strict=False)
    ]
