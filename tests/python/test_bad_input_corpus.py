"""The bad-input corpus (issue 7): every hostile file either loads its good rows and quarantines
the bad ones, or is refused with a clear message; counts add up; nothing else changes.

Each case is a folder of ``tests/corpus/`` with one landing file and ``expected.json`` (the fixed
expected outcome). See ``docs/bad-input-corpus.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from crm.contract import FEEDS
from crm.loading.tables import LEDGER_TABLE, REJECTS_TABLE, raw_table
from tests.corpus import build_corpus, summary
from tests.corpus.runner import (
    CORPUS,
    Case,
    baseline_warehouse,
    cases,
    loaded_rows,
    run_case,
    warehouse_copy,
)

CASES = cases()
FILE_REFUSED = "file refused: "

#: The hostile inputs issue 7 asks for, each covered by at least one case.
REQUIRED_CASES = {
    "cp932_file",
    "latin1_file",
    "utf16_file",
    "mixed_encodings",
    "header_only",
    "empty_file",
    "missing_required_column",
    "renamed_required_column",
    "extra_columns",
    "reordered_columns",
    "unparseable_dates",
    "unparseable_yen",
    "negative_quantities",
    "duplicate_keys_with_updated_at",
    "duplicate_keys_without_updated_at",
    "orders_unknown_customers",
    "returns_unknown_orders",
    "returns_exceeding_order",
    "future_dates",
    "absurd_amounts",
    "embedded_newlines_quotes",
    "nul_bytes",
    "truncated_gzip",
    "parquet_wrong_types",
    "parquet_not_parquet",
    "bom",
    "crlf_line_endings",
    "field_count",
}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse file with the baseline loaded, copied by every case."""
    root = tmp_path_factory.mktemp("corpus_baseline")
    return baseline_warehouse(root / "baseline.duckdb", root / "landing")


@pytest.fixture
def warehouse(baseline: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with warehouse_copy(baseline, tmp_path / "warehouse.duckdb") as connection:
        yield connection


def one(conn: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> object:
    return conn.execute(sql, params).fetchone()[0]  # type: ignore[index]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(warehouse: duckdb.DuckDBPyConnection, landing: Path, case: Case) -> None:
    conn = warehouse
    run = run_case(conn, landing, case)
    report = run.report

    # The outcome and the counts of expected.json; loaded + rejected = rows in the file.
    assert report.status == case.outcome, report.message
    assert (report.rows_loaded, report.rows_rejected) == (case.rows_loaded, case.rows_rejected)
    assert report.rows_in_file == report.rows_loaded + report.rows_rejected
    if case.encoding:
        assert report.encoding == case.encoding

    # The ledger says the same, and the raw and rejects tables hold exactly those rows.
    ledger = conn.execute(
        f"select status, rows_in_file, rows_loaded, rows_rejected, coalesce(message, '') "
        f"from {LEDGER_TABLE} where source_file = ?",
        [case.source_file],
    ).fetchall()
    assert ledger == [
        (case.outcome, report.rows_in_file, case.rows_loaded, case.rows_rejected, report.message)
    ]
    raw_rows = f"select count(*) from {raw_table(FEEDS[case.feed])} where _source_file = ?"
    assert one(conn, raw_rows, [case.source_file]) == case.rows_loaded
    rejects = conn.execute(
        f"select source_line, column_name, reason from {REJECTS_TABLE} "
        "where source_file = ? order by source_line",
        [case.source_file],
    ).fetchall()
    row_rejects = [r for r in rejects if r[0] is not None]
    assert len(row_rejects) == case.rows_rejected

    if case.outcome == "refused":
        assert case.reason in report.message
        assert rejects, "a refused file leaves at least one row in the rejects table"
        assert all(reason == FILE_REFUSED + report.message for _, _, reason in rejects)
    elif case.rows_rejected:
        assert any(case.reason in reason for _, _, reason in rejects)
        assert [(line, column) for line, column, _ in rejects] == [
            (r["line"], r["column"]) for r in case.rejects
        ]
        for (_, _, reason), wanted in zip(rejects, case.rejects, strict=True):
            assert wanted["reason"] in reason

    # The loaded values (decoding, quoting, line numbers) and every version of a key kept.
    assert loaded_rows(conn, case) == case.loaded
    (key,) = FEEDS[case.feed].key if case.key_versions else ("",)
    for value, versions in case.key_versions.items():
        sql = f"select count(*) from {raw_table(FEEDS[case.feed])} where {key} = ?"
        assert one(conn, sql, [value]) == versions

    # Nothing else in the warehouse changed: baseline rows, other feeds, ledger, rejects.
    assert run.after == run.before


def test_corpus_covers_the_issue_checklist() -> None:
    assert {c.name for c in CASES} >= REQUIRED_CASES


def test_every_case_is_tiny_and_its_expectations_are_complete() -> None:
    for case in CASES:
        assert case.feed in FEEDS, case.name
        assert case.outcome in ("loaded", "refused"), case.name
        assert case.path.stat().st_size < 5_000, case.name
        if case.outcome == "refused" or case.rows_rejected:
            assert case.reason, f"{case.name}: say what the message or a reject must contain"
        if case.outcome == "loaded" and case.rows_rejected:
            assert len(case.rejects) == case.rows_rejected, case.name
        if case.loaded:
            assert len(case.loaded) == case.rows_loaded, case.name


def test_committed_files_are_what_the_builder_writes(tmp_path: Path) -> None:
    """The builder and its committed output agree (Parquet bytes depend on the pyarrow version,
    so only the other files are compared byte for byte)."""
    for path in build_corpus.build(tmp_path):
        if path.suffix != ".parquet":
            relative = path.relative_to(tmp_path)
            assert (CORPUS / relative).read_bytes() == path.read_bytes(), relative


def test_docs_summary_table_is_current() -> None:
    """docs/bad-input-corpus.md quotes the table of a corpus run (``python -m
    tests.corpus.summary``); the cases above prove each run equals its expectations."""
    table = summary.markdown_table([summary.expected_result(c) for c in CASES])
    print(table)
    assert summary.table_in_docs() == table, "run: python -m tests.corpus.summary"
