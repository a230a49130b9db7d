"""Quality gates: expectations on small frames, gate marks over several nights of one raw feed,
then a failing night end to end.

The gate-mark nights run only ``raw/orders`` and its suite through Dagster (no dbt): each night
validates the keys touched by the files the gate has not passed yet, a failed night's file is
checked again the next night, and a re-run of the same night leaves ``quality.gated_loads`` as
it was.

Night 1 of the end-to-end test is the session's generated shop (every gate passes, exports and
the published file are written). Night 2 lands a broken orders file that loads but must fail a
critical gate: the shop system's export wrote 0 in ``total_amount`` on every row (a
column-mapping change upstream). The gate fails, dbt, the exports and the publication are
skipped, yesterday's files stay byte-identical, and the alert names the failing check.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from crm.contract import FEEDS
from crm.loading.tables import ensure_raw_schema
from crm.quality.report import write_night_report
from crm.quality.runner import (
    GATED_LOADS,
    ExpectationResult,
    chunk_rows_setting,
    combine_results,
    quality_dir_for,
    read_frames,
    run_suite,
    suite_digest,
    validate_frame,
    validate_frames,
    write_result,
)
from crm.quality.suites import ALL_SUITES
from crm.quality.suites.marts import CUSTOMER_RFM
from crm.quality.suites.raw import build_raw_suite
from crm.quality.suites.spec import CRITICAL, Expectation
from orchestration.resources import WarehouseResource
from orchestration.run import run_nightly
from tests.python.conftest import AS_OF, query, settings_for, write_feed_file

ORDERS = build_raw_suite(FEEDS["orders"])


def _expectation(suite, name):
    return next(e for e in suite.expectations if e.name == name)


# --------------------------------------------------------------------------------------------
# Expectations on small frames (each can fail)


def test_positive_totals_in_the_latest_file():
    spec = _expectation(ORDERS, "total_amount_positive_in_latest_load")
    assert spec.critical
    good = pd.DataFrame({"total_amount": [1200.0] * 19 + [0.0]})
    broken = pd.DataFrame({"total_amount": [0.0] * 20})
    assert validate_frame(good, [spec])[0].success
    result = validate_frame(broken, [spec])[0]
    assert not result.success
    assert result.statistics["unexpected_count"] == 20
    assert result.statistics["unexpected_percent"] == 100.0


def test_a_duplicate_key_in_one_file_fails_but_a_later_version_does_not():
    spec = _expectation(ORDERS, "key_unique_per_version")
    later = pd.DataFrame(
        {"order_id": ["A", "A"], "_version": ["2025-01-01", "2025-01-01"], "_load_id": [1, 2]}
    )
    same_file = later.assign(_load_id=[1, 1])
    assert validate_frame(later, [spec])[0].success
    assert not validate_frame(same_file, [spec])[0].success


def test_status_must_be_a_contract_value():
    spec = _expectation(ORDERS, "status_in_contract_set")
    assert validate_frame(pd.DataFrame({"status": ["shipped", None]}), [spec])[0].success
    result = validate_frame(pd.DataFrame({"status": ["shipped", "lost"]}), [spec])[0]
    assert not result.success and result.statistics["partial_unexpected_list"] == ["lost"]


def test_every_purchaser_needs_exactly_one_rfm_group():
    spec = _expectation(CUSTOMER_RFM, "every_purchaser_has_a_group")
    frame = pd.DataFrame({"customer_id": ["a", "b", "c"], "rfm_groups": [1, 1, 0]})
    assert not validate_frame(frame, [spec])[0].success
    assert validate_frame(frame.iloc[:2], [spec])[0].success


def test_rfm_share_jumps_are_a_warning():
    spec = _expectation(CUSTOMER_RFM, "group_shares_steady")
    assert not spec.critical
    steady = pd.DataFrame({"share_change": [0.01, 0.05, None]})
    assert validate_frame(steady, [spec])[0].success
    assert not validate_frame(pd.DataFrame({"share_change": [0.01, 0.25]}), [spec])[0].success


def test_future_and_ancient_dates_fail_on_the_raw_table():
    conn = duckdb.connect()
    ensure_raw_schema(conn)
    loaded = datetime(2025, 6, 30, 3, 0)
    conn.execute(
        "insert into raw._load_ledger values (1, 'orders', 'orders/a.csv', 'x', 1, 'utf-8', 3, 3, "
        "0, 'loaded', null, ?)",
        [loaded],
    )
    rows = [
        ("O1", "2025-06-29 10:00:00"),
        ("O2", "2031-01-01 10:00:00"),  # years after the as-of date and the load
        ("O3", "1900-01-01 00:00:00"),  # a parsing accident
    ]
    for line, (order_id, ordered_at) in enumerate(rows, start=1):
        conn.execute(
            "insert into raw.orders (order_id, ordered_at, total_amount, _load_id, _source_file, "
            "_source_line, _loaded_at) values (?, ?, 1000, 1, 'orders/a.csv', ?, ?)",
            [order_id, ordered_at, line, loaded],
        )
    results = {r.name: r for r in validate_frames(ORDERS, read_frames(conn, ORDERS, AS_OF))}
    assert not results["ordered_at_not_in_future"].success
    assert results["ordered_at_not_in_future"].statistics["unexpected_count"] == 1
    assert not results["ordered_at_after_min_date"].success
    assert results["order_id_not_null"].success and results["key_unique_per_version"].success
    conn.close()


def test_every_suite_has_critical_expectations_and_unique_names():
    assert {s.name for s in ALL_SUITES} >= {f"raw_{feed}" for feed in FEEDS}
    for suite in ALL_SUITES:
        names = [e.name for e in suite.expectations]
        assert len(names) == len(set(names)), suite.name
        assert any(e.critical for e in suite.expectations), suite.name


# --------------------------------------------------------------------------------------------
# Large frames are validated in chunks of whole keys, with the same results as in one piece


def _comparable(result: ExpectationResult) -> tuple:
    """Success, statistics (the sample as a sorted list: chunks see rows in another order) and
    exception of a result."""
    stats = dict(result.statistics)
    if "partial_unexpected_list" in stats:
        sample = stats["partial_unexpected_list"]
        stats["partial_unexpected_list"] = sorted(json.dumps(v, sort_keys=True) for v in sample)
    return result.success, stats, result.exception


def _load(conn: duckdb.DuckDBPyConnection, load_id: int, loaded: datetime, rows: list) -> None:
    conn.execute(
        "insert into raw._load_ledger values (?, 'orders', ?, ?, 1, 'utf-8', ?, ?, 0, 'loaded', "
        "null, ?)",
        [load_id, f"orders/{load_id}.csv", f"sha{load_id}", len(rows), len(rows), loaded],
    )
    for line, (order_id, ordered_at, status, total, updated_at) in enumerate(rows, start=1):
        conn.execute(
            "insert into raw.orders (order_id, customer_id, ordered_at, status, total_amount, "
            "updated_at, _load_id, _source_file, _source_line, _loaded_at) "
            "values (?, 'C1', ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                order_id,
                ordered_at,
                status,
                total,
                updated_at,
                load_id,
                f"orders/{load_id}.csv",
                line,
                loaded,
            ],
        )


def _orders_with_problems(path: Path, marked: bool) -> Path:
    """raw.orders with two loads; the second has a newer version of O1 with a negative amount,
    an older version of O3 (the first load's stays in force), a duplicate key (O9 twice in the
    file), a date in 2031, a status outside the contract and an empty key. ``marked``: the
    first load passed the gate."""
    conn = duckdb.connect(str(path))
    ensure_raw_schema(conn)
    day = "2025-06-28 10:00:00"
    _load(
        conn,
        1,
        datetime(2025, 6, 29, 3, 0),
        [(f"O{n}", day, "ordered", 1000, day) for n in range(1, 9)],
    )
    later, earlier = "2025-06-30 09:00:00", "2025-06-27 09:00:00"
    _load(
        conn,
        2,
        datetime(2025, 6, 30, 3, 0),
        [
            ("O1", day, "shipped", -500, later),
            ("O3", day, "cancelled", 1000, earlier),
            ("O9", day, "ordered", 1000, later),
            ("O9", day, "ordered", 1000, later),
            ("O10", "2031-01-01 10:00:00", "ordered", 1000, later),
            ("O11", day, "lost", 1000, later),
            ("O12", day, None, 1000, later),
            (None, day, "ordered", 1000, later),
        ],
    )
    if marked:
        conn.execute("create schema quality")
        conn.execute(
            f"create table {GATED_LOADS} as select 'orders' as feed, 1::bigint as load_id, "
            "'sha1' as file_sha256, ?::date as as_of_date, ? as suite_digest, "
            "now()::timestamp as validated_at",
            [AS_OF, suite_digest(ORDERS)],
        )
    conn.close()
    return path


@pytest.mark.parametrize(("marked", "in_force"), [(False, 14), (True, 8)])
def test_a_feed_validates_the_same_in_chunks_as_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, marked: bool, in_force: int
):
    monkeypatch.delenv("CRM_QUALITY_FULL", raising=False)
    monkeypatch.delenv("CRM_QUALITY_CHUNK_ROWS", raising=False)
    build = _orders_with_problems(tmp_path / "build.duckdb", marked)
    whole = run_suite(build, ORDERS, AS_OF)
    monkeypatch.setenv("CRM_QUALITY_CHUNK_ROWS", "3")
    chunked = run_suite(build, ORDERS, AS_OF)

    assert whole.scope is not None and whole.scope.full is not marked
    assert whole.frame_chunks["in_force"] == 1 and chunked.frame_chunks["in_force"] > 1
    assert {k: v for k, v in chunked.frame_chunks.items() if k != "in_force"} == dict.fromkeys(
        ("schema", "table", "latest_load", "ledger"), 1
    )
    assert chunked.frame_rows == whole.frame_rows and whole.frame_rows["in_force"] == in_force
    assert {r.name: _comparable(r) for r in chunked.results} == {
        r.name: _comparable(r) for r in whole.results
    }
    failed = {r.name for r in chunked.results if not r.success}
    assert failed >= {
        "order_id_not_null",
        "key_unique_per_version",
        "total_amount_not_negative",
        "ordered_at_not_in_future",
        "status_in_contract_set",
    }
    path = write_result(chunked, tmp_path / "quality")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["frame_chunks"]["in_force"] == chunked.frame_chunks["in_force"] > 1
    assert data["frame_rows"]["in_force"] == in_force
    html = write_night_report(tmp_path / "quality", AS_OF.isoformat()).read_text(encoding="utf-8")
    assert f"in_force {in_force} rows in {data['frame_chunks']['in_force']} chunks" in html


def test_a_mostly_share_is_judged_over_every_chunk_not_each():
    spec = _expectation(ORDERS, "total_amount_not_negative")
    assert spec.kwargs["mostly"] == 0.99

    def frame(negative: int, positive: int, missing: int = 0) -> pd.DataFrame:
        return pd.DataFrame(
            {"total_amount": [-1.0] * negative + [1.0] * positive + [None] * missing}
        )

    cases = [
        # One chunk fails alone (1 negative in 10), the frame passes (1 in 1000).
        ([frame(1, 9, 2), frame(0, 990, 3)], [False, True], True),
        # One chunk passes alone (1 in 100), the other fails, so does the frame (2 in 110).
        ([frame(1, 99, 5), frame(1, 9)], [True, False], False),
        # Each passes, so does the frame: its share is a weighted mean of the chunks'.
        ([frame(1, 99, 50), frame(1, 199), frame(0, 0, 4)], [True, True, True], True),
    ]
    for chunks, alone, together in cases:
        parts = [validate_frame(chunk, [spec])[0] for chunk in chunks]
        assert [p.success for p in parts] == alone
        combined = combine_results(spec, parts)
        whole = validate_frame(pd.concat(chunks, ignore_index=True), [spec])[0]
        assert combined.success is together
        assert _comparable(combined) == _comparable(whole)
        stats = combined.statistics
        considered = stats["element_count"] - stats["missing_count"]
        assert stats["unexpected_percent"] == stats["unexpected_count"] / considered * 100


def test_row_checks_add_up_over_chunks_with_gx_percentages():
    specs = [
        _expectation(ORDERS, "order_id_not_null"),
        _expectation(ORDERS, "status_in_contract_set"),
        _expectation(ORDERS, "ordered_at_not_in_future"),
    ]
    day, future = pd.Timestamp("2025-06-28"), pd.Timestamp("2031-01-01")
    limit = pd.Timestamp("2025-07-01")
    chunks = [
        pd.DataFrame(
            {
                "order_id": ["A", None, "B"],
                "status": ["ordered", "lost", None],
                "ordered_at": [day, future, None],
                "_future_limit": [limit] * 3,
            }
        ),
        pd.DataFrame(
            {
                "order_id": ["C", "D"],
                "status": [None, None],
                "ordered_at": [day, day],
                "_future_limit": [limit] * 2,
            }
        ),
        pd.DataFrame({"order_id": [], "status": [], "ordered_at": [], "_future_limit": []}).astype(
            {
                "order_id": object,
                "status": object,
                "ordered_at": "datetime64[ns]",
                "_future_limit": "datetime64[ns]",
            }
        ),
    ]
    per_chunk = [validate_frame(chunk, specs) for chunk in chunks]
    whole = validate_frame(pd.concat(chunks[:2], ignore_index=True), specs)
    for position, spec in enumerate(specs):
        combined = combine_results(spec, [results[position] for results in per_chunk])
        assert _comparable(combined) == _comparable(whole[position]), spec.name
    # One unexpected status among 2 present in 5 rows: the percent is of non-missing values.
    status = whole[1].statistics
    assert (status["element_count"], status["missing_count"]) == (5, 3)
    assert status["unexpected_percent"] == 50.0


def test_a_suite_refuses_what_cannot_be_combined_over_chunks():
    row_count = Expectation(
        "in_force_rows",
        "ExpectTableRowCountToBeBetween",
        {"min_value": 1},
        "in_force",
        CRITICAL,
        "rows",
    )
    with pytest.raises(
        ValueError,
        match=r"in_force_rows .*Supported on a chunked frame: .*"
        r"ExpectColumnValuesToBeBetween",
    ):
        dataclasses.replace(ORDERS, expectations=(*ORDERS.expectations, row_count))
    unique_customer = Expectation(
        "customer_unique",
        "ExpectColumnValuesToBeUnique",
        {"column": "customer_id"},
        "in_force",
        CRITICAL,
        "one order per customer",
    )
    with pytest.raises(ValueError, match="does not include the chunk key order_id"):
        dataclasses.replace(ORDERS, expectations=(*ORDERS.expectations, unique_customer))
    # The same expectation on a frame read whole is fine.
    dataclasses.replace(
        ORDERS, expectations=(*ORDERS.expectations, dataclasses.replace(row_count, frame="table"))
    )
    parts = validate_frame(pd.DataFrame({"a": [1]}), [row_count]) * 2
    with pytest.raises(ValueError, match="cannot be combined"):
        combine_results(row_count, parts)


def test_chunk_rows_setting():
    assert chunk_rows_setting({}) == 2_000_000
    assert chunk_rows_setting({"CRM_QUALITY_CHUNK_ROWS": "500_000"}) == 500_000
    for bad in ("0", "-3", "many"):
        with pytest.raises(ValueError, match="CRM_QUALITY_CHUNK_ROWS"):
            chunk_rows_setting({"CRM_QUALITY_CHUNK_ROWS": bad})


# --------------------------------------------------------------------------------------------
# Gate marks: each night validates only the keys touched by loads the gate has not passed

ORDERS_HEADER = "order_id,customer_id,ordered_at,status,total_amount,updated_at"


def _order(n: int, ordered_at: str, updated_at: str, total: int = 1200) -> str:
    return f"O{n},C{n},{ordered_at},ordered,{total},{updated_at}"


def _orders_night(
    root: Path, night: date, file_name: str | None = None, rows: tuple[str, ...] = ()
) -> tuple[dg.ExecuteInProcessResult, dict]:
    """Land one orders file (none: a re-run) and run raw/orders with its quality gate as of
    ``night``; return the run and the suite's JSON result."""
    from orchestration.assets.landing import load_assets
    from orchestration.assets.quality import quality_checks

    landing = root / "landing"
    if file_name:
        write_feed_file(landing, "orders", file_name, "\n".join([ORDERS_HEADER, *rows]) + "\n")
    warehouse = WarehouseResource(
        warehouse_path=str(root / "warehouse.duckdb"),
        build_path=str(root / "warehouse.build.duckdb"),
        landing_dir=str(landing),
        export_dir=str(root / "exports"),
        as_of_date=night.isoformat(),
    )
    load = next(a for a in load_assets if dg.AssetKey(["raw", "orders"]) in a.keys)
    gate = next(c for c in quality_checks if c.node_def.name == "quality_raw_orders")
    result = dg.materialize([load, gate], resources={"warehouse": warehouse}, raise_on_error=False)
    report = (
        quality_dir_for(root / "warehouse.build.duckdb") / night.isoformat() / "raw_orders.json"
    )
    return result, json.loads(report.read_text(encoding="utf-8"))


def _gated_orders(root: Path) -> tuple:
    with duckdb.connect(str(root / "warehouse.build.duckdb"), read_only=True) as conn:
        return conn.execute(f"select * from {GATED_LOADS} where feed = 'orders'").fetchone()


def _latest_orders_load(root: Path) -> int:
    with duckdb.connect(str(root / "warehouse.build.duckdb"), read_only=True) as conn:
        sql = "select max(load_id) from raw._load_ledger where feed = 'orders'"
        return conn.execute(sql).fetchone()[0]  # type: ignore[index]


def test_each_night_validates_only_the_keys_its_new_files_touch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("CRM_ALERT_LOG", raising=False)
    monkeypatch.delenv("CRM_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("CRM_QUALITY_FULL", raising=False)

    # Night 1: no mark yet, every key is validated; the file's load becomes the mark.
    night_1 = tuple(_order(n, "2025-07-01 10:00:00", "2025-07-01 10:00:00") for n in range(1, 6))
    result, report = _orders_night(tmp_path, date(2025, 7, 1), "orders_1.csv", night_1)
    assert result.success
    assert report["frame_rows"]["in_force"] == 5
    assert report["scope"]["since_load_id"] == 0
    first_mark = _gated_orders(tmp_path)
    assert first_mark[1] == _latest_orders_load(tmp_path)

    # Night 2: two new orders and a newer version of O1: three keys, not the table's seven.
    night_2 = (
        _order(6, "2025-07-02 10:00:00", "2025-07-02 10:00:00"),
        _order(7, "2025-07-02 11:00:00", "2025-07-02 11:00:00"),
        _order(1, "2025-07-01 10:00:00", "2025-07-02 12:00:00", total=900),
    )
    result, report = _orders_night(tmp_path, date(2025, 7, 2), "orders_2.csv", night_2)
    assert result.success
    assert report["frame_rows"]["in_force"] == len(night_2)
    assert report["scope"]["since_load_id"] == first_mark[1]
    second_mark = _gated_orders(tmp_path)
    assert second_mark[1] == _latest_orders_load(tmp_path) > first_mark[1]

    # Night 3: O9 typed as 2099 fails a critical expectation; the mark does not move.
    night_3 = (
        _order(8, "2025-07-03 10:00:00", "2025-07-03 10:00:00"),
        _order(9, "2099-07-03 10:00:00", "2025-07-03 10:00:00"),
    )
    result, report = _orders_night(tmp_path, date(2025, 7, 3), "orders_3.csv", night_3)
    assert not result.success
    assert report["critical_failures"] == ["ordered_at_not_in_future"]
    assert report["frame_rows"]["in_force"] == 2
    assert _gated_orders(tmp_path) == second_mark

    # Night 4: a correction of O9 (newer updated_at) and a new O10. The failed file is checked
    # again (O8 and O9) with the new one (O10); the correction supersedes O9's bad row.
    night_4 = (
        _order(9, "2025-07-03 10:00:00", "2025-07-04 09:00:00"),
        _order(10, "2025-07-04 10:00:00", "2025-07-04 10:00:00"),
    )
    result, report = _orders_night(tmp_path, date(2025, 7, 4), "orders_4.csv", night_4)
    assert result.success
    assert report["scope"]["since_load_id"] == second_mark[1]
    assert report["frame_rows"]["in_force"] == 3
    fourth_mark = _gated_orders(tmp_path)
    assert fourth_mark[1] == _latest_orders_load(tmp_path)

    # The same night again: nothing new to validate, the mark row (validated_at too) unchanged.
    result, report = _orders_night(tmp_path, date(2025, 7, 4))
    assert result.success
    assert report["frame_rows"]["in_force"] == 0
    assert report["frame_rows"]["table"] == 1  # has_rows reads the whole table's count
    assert _gated_orders(tmp_path) == fourth_mark

    # CRM_QUALITY_FULL=1 validates every key in force again.
    monkeypatch.setenv("CRM_QUALITY_FULL", "1")
    result, report = _orders_night(tmp_path, date(2025, 7, 4))
    assert result.success
    assert report["frame_rows"]["in_force"] == 10
    assert report["scope"]["since_load_id"] == 0


# --------------------------------------------------------------------------------------------
# End to end: night 1 passes and publishes, night 2 is broken and gated


def _hashes(paths: list[Path]) -> dict[str, str]:
    found = {}
    for path in paths:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            found[str(file)] = hashlib.sha256(file.read_bytes()).hexdigest()
    return found


def _materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {
        e.asset_key for e in result.get_asset_materialization_events() if e.asset_key is not None
    }


@pytest.mark.slow
def test_night_one_passes_every_gate_and_publishes(shop):
    settings, result = shop
    gx = [e for e in result.get_asset_check_evaluations() if e.check_name.startswith("gx_")]
    assert len(gx) == sum(len(s.expectations) for s in ALL_SUITES)
    assert [e.check_name for e in gx if not e.passed] == []
    assert dg.AssetKey(["publish", "warehouse"]) in _materialized(result)
    night = quality_dir_for(settings.build_path) / AS_OF.isoformat()
    assert (night / "raw_orders.json").is_file() and (night / "marts_customer_rfm.json").is_file()
    html = (night / "index.html").read_text(encoding="utf-8")
    assert "gx_one_row_per_customer" in html and "<link" not in html and "src=" not in html
    assert (night.parent / "index.html").is_file()
    published = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        tags = published.execute(
            "select tags from duckdb_databases() where database_name = current_database()"
        ).fetchone()[0]
        assert tags["storage_version"].startswith("v1.4.0")
        schemas = {
            s
            for (s,) in published.execute(
                "select distinct table_schema from information_schema.tables"
            ).fetchall()
        }
        assert "marts" in schemas and "exports" not in schemas and "raw" not in schemas
        columns = {
            c
            for (c,) in published.execute(
                "select column_name from information_schema.columns"
            ).fetchall()
        }
        assert not columns & {"email", "phone", "family_name", "address_line1", "postal_code"}
        facts = published.execute("select count(*) from marts.customer_facts").fetchone()[0]
    finally:
        published.close()
    assert facts == len(query(settings, "select customer_id from marts.customer_facts"))
    # The build database holds personal data: not world-readable.
    assert settings.build_path.stat().st_mode & 0o777 == 0o640


@pytest.mark.slow
def test_a_broken_orders_file_fails_the_gate_and_keeps_yesterdays_files(
    shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("CRM_ALERT_LOG", raising=False)
    monkeypatch.delenv("CRM_ALERT_WEBHOOK_URL", raising=False)
    settings, _ = shop
    root = tmp_path / "shop"
    shutil.copytree(settings.build_path.parent, root)
    yesterday = settings_for(root, root / "landing")
    assert yesterday.warehouse_path.is_file() and any(yesterday.export_dir.rglob("*.csv"))
    kept = [yesterday.export_dir, yesterday.warehouse_path]
    before = _hashes(kept)

    # Night 2: the shop's export wrote 0 in total_amount on every order of the day.
    customers = query(yesterday, "select customer_id from marts.customer_facts limit 40")
    lines = ["order_id,customer_id,ordered_at,status,total_amount,updated_at"]
    lines += [
        f"N2-{n:04d},{cid},2025-07-01 10:{n % 60:02d}:00,ordered,0,2025-07-01 10:{n % 60:02d}:00"
        for n, cid in enumerate(customers["customer_id"])
    ]
    (root / "landing" / "orders" / "orders_2025-07-01.csv").write_text(
        "\n".join(lines) + "\n", encoding="utf-8"
    )
    tonight = settings_for(root, root / "landing", as_of=date(2025, 7, 1))
    result = run_nightly(tonight)

    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    gate = [e for e in failed if e.check_name == "gx_total_amount_positive_in_latest_load"]
    assert len(gate) == 1
    assert gate[0].asset_key == dg.AssetKey(["raw", "orders"])
    assert gate[0].severity == dg.AssetCheckSeverity.ERROR
    assert gate[0].metadata["unexpected_count"].value == 40
    materialized = _materialized(result)
    assert dg.AssetKey(["raw", "orders"]) in materialized  # the file did load
    assert dg.AssetKey(["publish", "warehouse"]) not in materialized
    assert not any(key.path[0] in ("exports", "marts") for key in materialized)
    # The gate's step failed; dbt, the exports and the publication never started (abandoned).
    steps = {
        kind: {e.step_key for e in result.all_events if e.event_type_value == kind}
        for kind in ("STEP_START", "STEP_FAILURE")
    }
    assert "quality_raw_orders" in steps["STEP_FAILURE"]
    assert "raw__orders" in steps["STEP_START"]
    assert not any(
        step.startswith(("exports__", "publish__", "crm_dbt")) for step in steps["STEP_START"]
    )

    assert _hashes(kept) == before
    assert not (tonight.export_dir / "2025-07-01").exists()
    alert = (root / "alerts.log").read_text(encoding="utf-8")
    assert "gx_total_amount_positive_in_latest_load" in alert
    assert "raw/orders" in alert and "make run" in alert
    report = quality_dir_for(tonight.build_path) / "2025-07-01" / "raw_orders.json"
    assert '"success": false' in report.read_text(encoding="utf-8")
    # Only the keys of tonight's file were validated, and the gate's mark stayed on night 1.
    assert json.loads(report.read_text(encoding="utf-8"))["frame_rows"]["in_force"] == 40
    marks = query(
        tonight,
        f"select g.load_id, max(l.load_id) as latest from {GATED_LOADS} as g "
        "join raw._load_ledger as l using (feed) where feed = 'orders' group by g.load_id",
    )
    assert (marks["load_id"] < marks["latest"]).all() and len(marks) == 1
