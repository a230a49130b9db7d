"""Quality gates: raw expectations counted in SQL over landed files (rows reach raw only through
``load_feed``), mart expectations on small frames, gate marks over several nights of one raw
feed, then a failing night end to end.

The gate-mark nights run only ``raw/orders`` and its suite through Dagster (no dbt): each night
validates the rows of the files the gate has not passed yet, a failed night's file is
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
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from crm.contract import FEEDS
from crm.dbt_vars import dbt_float, dbt_var
from crm.loading.loader import load_feed
from crm.quality.report import write_night_report
from crm.quality.runner import (
    GATED_LOADS,
    SuiteResult,
    quality_dir_for,
    read_frames,
    record_gated_load,
    run_suite,
    validate_frame,
    write_result,
)
from crm.quality.sql_gate import observe_frame
from crm.quality.suites import ALL_SUITES
from crm.quality.suites.marts import CUSTOMER_RFM
from crm.quality.suites.raw import TOLERANCE_VARS, build_raw_suite, tolerances
from crm.quality.suites.spec import CRITICAL, WARNING, Expectation
from orchestration.resources import WarehouseResource
from orchestration.run import run_nightly
from tests.python.conftest import AS_OF, query, settings_for, write_feed_file

ORDERS = build_raw_suite(FEEDS["orders"])
ORDERS_HEADER = "order_id,customer_id,ordered_at,status,total_amount,updated_at"


def _expectation(suite, name):
    return next(e for e in suite.expectations if e.name == name)


def _order(n: int | str, ordered_at: str, updated_at: str, total: int = 1200) -> str:
    return f"O{n},C{n},{ordered_at},ordered,{total},{updated_at}"


def _land_orders(root: Path, name: str, rows: list[str]) -> Path:
    """Land one orders file and load it into ``root/build.duckdb`` (the loader's own path)."""
    write_feed_file(root / "landing", "orders", name, "\n".join([ORDERS_HEADER, *rows]) + "\n")
    build = root / "build.duckdb"
    with duckdb.connect(str(build)) as conn:
        report = load_feed(conn, root / "landing", "orders")
    [loaded] = [f for f in report.files if f.source_file.endswith(name)]
    assert (loaded.status, loaded.rows_rejected) == ("loaded", 0), loaded
    return build


def _results(result: SuiteResult) -> dict:
    return {r.name: r for r in result.results}


# --------------------------------------------------------------------------------------------
# Raw expectations, counted in the warehouse and judged by Great Expectations


def test_positive_totals_in_the_latest_file(tmp_path: Path):
    spec = _expectation(ORDERS, "total_amount_positive_in_latest_load")
    assert spec.critical
    day = "2025-06-28 10:00:00"
    good = [_order(n, day, day, total=0 if n == 0 else 1200) for n in range(20)]
    build = _land_orders(tmp_path, "orders_1.csv", good)
    assert _results(run_suite(build, ORDERS, AS_OF, full=True))[spec.name].success
    _land_orders(tmp_path, "orders_2.csv", [_order(f"Z{n}", day, day, total=0) for n in range(20)])
    result = _results(run_suite(build, ORDERS, AS_OF, full=True))[spec.name]
    assert not result.success
    assert result.statistics["element_count"] == 20
    assert result.statistics["unexpected_count"] == 20
    assert result.statistics["unexpected_percent"] == 100.0
    assert result.statistics["partial_unexpected_list"] == [0.0] * 10


def test_a_duplicate_key_in_one_file_fails_but_a_later_version_does_not(tmp_path: Path):
    day = "2025-06-28 10:00:00"
    build = _land_orders(tmp_path, "orders_1.csv", [_order(1, day, day), _order(2, day, day)])
    _land_orders(tmp_path, "orders_2.csv", [_order(1, day, day)])  # same version, later file
    assert _results(run_suite(build, ORDERS, AS_OF, full=True))["key_unique_per_version"].success
    _land_orders(tmp_path, "orders_3.csv", [_order(5, day, day), _order(5, day, day)])
    result = _results(run_suite(build, ORDERS, AS_OF, full=True))["key_unique_per_version"]
    assert not result.success
    assert result.statistics["unexpected_count"] == 2
    [duplicate] = result.statistics["partial_unexpected_list"]
    assert duplicate["order_id"] == "O5" and duplicate["_version"].startswith("2025-06-28")


def test_future_and_ancient_dates_fail_on_the_raw_table(tmp_path: Path):
    rows = [
        _order(1, "2025-06-29 10:00:00", "2025-06-29 10:00:00"),
        _order(2, "2031-01-01 10:00:00", "2025-06-29 10:00:00"),  # years after as-of and load
        _order(3, "1900-01-01 00:00:00", "2025-06-29 10:00:00"),  # a parsing accident
    ]
    build = _land_orders(tmp_path, "orders_1.csv", rows)
    results = _results(run_suite(build, ORDERS, AS_OF, full=True))
    future = results["ordered_at_not_in_future"]
    assert not future.success
    assert future.statistics["unexpected_count"] == 1
    assert future.statistics["partial_unexpected_list"][0][1].startswith("2031-01-01")
    assert not results["ordered_at_after_min_date"].success
    assert results["key_unique_per_version"].success and results["has_rows"].success


def test_negative_amounts_are_judged_as_a_share_of_the_new_rows(tmp_path: Path):
    spec = _expectation(ORDERS, "total_amount_not_negative")
    assert spec.kwargs["mostly"] == dbt_float("raw_gate_amount_not_negative_share") == 0.99
    day = "2025-06-28 10:00:00"
    build = _land_orders(
        tmp_path,
        "orders_1.csv",
        [_order(n, day, day, total=-5 if n == 0 else 10) for n in range(100)],
    )
    result = _results(run_suite(build, ORDERS, AS_OF, full=True))[spec.name]
    assert result.success and result.statistics["unexpected_count"] == 1  # 1 in 100
    _land_orders(tmp_path, "orders_2.csv", [_order(100, day, day, total=-5)])
    result = _results(run_suite(build, ORDERS, AS_OF, full=True))[spec.name]
    assert not result.success and result.statistics["unexpected_count"] == 2  # 2 in 101
    assert result.statistics["unexpected_percent"] == 2 / 101 * 100


SAMPLE = pd.DataFrame(
    {
        "k": ["a", "a", "b", "c", "c", "c", None, "d"],
        "v": [1, 1, 2, 3, 3, 4, None, 5],
        "x": [1.0, -2.0, None, 50.0, 7.0, 0.0, 3.0, -1.0],
        "s": ["p", "q", None, "p", "zz", "p", "q", "p"],
        "t": pd.to_datetime(["2025-01-01", "2025-03-01", None, "2031-01-01"] * 2),
        "lim": pd.to_datetime(["2025-02-01"] * 7 + [None]),
    }
)
SAMPLE_SPECS = [
    Expectation("k_nn", "ExpectColumnValuesToNotBeNull", {"column": "k"}, "f", CRITICAL, ""),
    Expectation(
        "s_set",
        "ExpectColumnValuesToBeInSet",
        {"column": "s", "value_set": ["p", "q"]},
        "f",
        CRITICAL,
        "",
    ),
    Expectation(
        "x_min",
        "ExpectColumnValuesToBeBetween",
        {"column": "x", "min_value": 0, "mostly": 0.6},
        "f",
        CRITICAL,
        "",
    ),
    Expectation(
        "x_strict",
        "ExpectColumnValuesToBeBetween",
        {"column": "x", "min_value": 0, "max_value": 50, "strict_min": True, "strict_max": True},
        "f",
        WARNING,
        "",
    ),
    Expectation(
        "t_pair",
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {
            "column_A": "lim",
            "column_B": "t",
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
        "f",
        CRITICAL,
        "",
    ),
    Expectation(
        "kv_unique",
        "ExpectCompoundColumnsToBeUnique",
        {"column_list": ["k", "v"]},
        "f",
        CRITICAL,
        "",
    ),
]


@pytest.mark.parametrize("spec", SAMPLE_SPECS, ids=lambda s: s.name)
def test_sql_counts_are_those_great_expectations_counts_on_pandas(spec: Expectation):
    expected = validate_frame(SAMPLE, [spec])[0]
    conn = duckdb.connect()
    conn.register("sample_frame", SAMPLE)
    rows, found = observe_frame(conn, "select * from sample_frame", [spec])
    observed = found[spec.name].statistics()
    assert rows == len(SAMPLE)
    for key in ("element_count", "missing_count", "unexpected_count", "unexpected_percent"):
        if key in expected.statistics and key in observed:
            assert observed[key] == pytest.approx(expected.statistics[key]), key
    assert observed["unexpected_count"] == expected.statistics["unexpected_count"]
    if spec.type != "ExpectCompoundColumnsToBeUnique":
        assert len(observed["partial_unexpected_list"]) == len(
            expected.statistics["partial_unexpected_list"]
        )
    conn.close()


def test_great_expectations_judges_the_counts_of_the_mostly_share(tmp_path: Path):
    """x_min: 2 negatives in 7 values (mostly 0.6 passes); the same at 0.8 fails."""
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    conn.execute("create table f as select * from SAMPLE")
    conn.close()
    from crm.quality.runner import judge_observations
    from crm.quality.suites.spec import Suite

    strict = dataclasses.replace(
        SAMPLE_SPECS[2], name="x_min_80", kwargs={**SAMPLE_SPECS[2].kwargs, "mostly": 0.8}
    )
    suite = Suite(
        "s", ("raw", "f"), {"f": "select * from f"}, (SAMPLE_SPECS[2], strict), gated_feed="f"
    )
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        _, found = observe_frame(conn, "select * from f", list(suite.expectations))
    results = judge_observations(suite, found)
    assert [r.success for r in results] == [True, False]
    assert results[1].type == "ExpectColumnValuesToBeBetween"
    assert results[1].kwargs["mostly"] == 0.8
    assert results[1].statistics["unexpected_count"] == 2


def test_a_raw_suite_is_never_read_into_pandas(tmp_path: Path):
    day = "2025-06-28 10:00:00"
    build = _land_orders(tmp_path, "orders_1.csv", [_order(1, day, day)])
    with duckdb.connect(str(build), read_only=True) as conn, pytest.raises(ValueError, match="SQL"):
        read_frames(conn, ORDERS, AS_OF)


def test_no_raw_expectation_repeats_a_loader_rule():
    for suite in ALL_SUITES:
        if suite.target[0] != "raw":
            continue
        feed = FEEDS[suite.target[1]]
        for spec in suite.expectations:
            assert spec.name != "required_columns_present", suite.name
            assert not spec.name.endswith(("_in_contract_set", "_in_contract_range")), spec.name
            if spec.type == "ExpectColumnValuesToNotBeNull":
                assert not feed.column(spec.kwargs["column"]).required, spec.name
    suppressions = build_raw_suite(FEEDS["suppressions"])
    assert "channel_not_null" in {e.name for e in suppressions.expectations}


def test_raw_thresholds_are_the_dbt_vars():
    found = tolerances()
    assert set(found) == set(TOLERANCE_VARS)
    for name, var in TOLERANCE_VARS.items():
        assert str(found[name]) == str(dbt_var(var)) or found[name] == dbt_float(var), name
    assert found["future_days"] == dbt_float("future_event_tolerance_days")
    assert found["max_amount"] == dbt_float("plausible_order_total_max_yen")
    # A threshold changed in the vars changes the suite, its expectations and its digest.
    moved = build_raw_suite(FEEDS["orders"], {**found, "amount_not_negative_mostly": 0.5})
    assert _expectation(moved, "total_amount_not_negative").kwargs["mostly"] == 0.5


# --------------------------------------------------------------------------------------------
# Mart expectations on small frames (each can fail)


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


def test_every_suite_has_critical_expectations_and_unique_names():
    assert {s.name for s in ALL_SUITES} >= {f"raw_{feed}" for feed in FEEDS}
    for suite in ALL_SUITES:
        names = [e.name for e in suite.expectations]
        assert len(names) == len(set(names)), suite.name
        assert any(e.critical for e in suite.expectations), suite.name


# --------------------------------------------------------------------------------------------
# The gate reads the new loads only; a correction supersedes a failed file's rows


def test_a_mark_limits_the_gate_to_the_new_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CRM_QUALITY_FULL", raising=False)
    day = "2025-06-28 10:00:00"
    build = _land_orders(tmp_path, "orders_1.csv", [_order(n, day, day) for n in range(1, 9)])
    first = run_suite(build, ORDERS, AS_OF)
    assert first.success and first.scope is not None and first.scope.full
    assert first.frame_rows["new_rows"] == 8
    assert record_gated_load(build, first)

    later, earlier = "2025-06-30 09:00:00", "2025-06-27 09:00:00"
    _land_orders(
        tmp_path,
        "orders_2.csv",
        [
            _order(1, day, later, total=-500),
            _order(3, day, earlier),  # an older version: judged with the new rows
            _order(9, day, later),
            _order(9, day, later),  # a duplicate key in one file
            _order(10, "2031-01-01 10:00:00", later),
        ],
    )
    second = run_suite(build, ORDERS, AS_OF)
    assert second.scope is not None and second.scope.since_load_id == first.scope.through_load_id
    assert second.frame_rows["new_rows"] == 5  # the second file only
    failed = {r.name for r in second.results if not r.success}
    assert failed == {
        "key_unique_per_version",
        "total_amount_not_negative",
        "ordered_at_not_in_future",
        "total_amount_positive_in_latest_load",  # 1 of the file's 5 totals is not positive
    }
    assert not record_gated_load(build, second)
    # Every row again without the mark: the same failures over the two files' versions in force.
    full = run_suite(build, ORDERS, AS_OF, full=True)
    assert full.frame_rows["new_rows"] == 11  # O1..O10 in force, O9 twice (a tie)
    assert {r.name for r in full.results if not r.success} == failed
    path = write_result(second, tmp_path / "quality")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["frame_rows"]["new_rows"] == 5 and "frame_chunks" not in data
    html = write_night_report(tmp_path / "quality", AS_OF.isoformat()).read_text(encoding="utf-8")
    assert "new_rows 5 rows" in html and "gx_key_unique_per_version" in html


# --------------------------------------------------------------------------------------------
# Gate marks: each night validates only the rows of loads the gate has not passed


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


def test_each_night_validates_only_the_rows_of_its_new_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("CRM_ALERT_LOG", raising=False)
    monkeypatch.delenv("CRM_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("CRM_QUALITY_FULL", raising=False)

    # Night 1: no mark yet, every row is validated; the file's load becomes the mark.
    night_1 = tuple(_order(n, "2025-07-01 10:00:00", "2025-07-01 10:00:00") for n in range(1, 6))
    result, report = _orders_night(tmp_path, date(2025, 7, 1), "orders_1.csv", night_1)
    assert result.success
    assert report["frame_rows"]["new_rows"] == 5
    assert report["scope"]["since_load_id"] == 0
    first_mark = _gated_orders(tmp_path)
    assert first_mark[1] == _latest_orders_load(tmp_path)

    # Night 2: two new orders and a newer version of O1: three rows, not the table's eight.
    night_2 = (
        _order(6, "2025-07-02 10:00:00", "2025-07-02 10:00:00"),
        _order(7, "2025-07-02 11:00:00", "2025-07-02 11:00:00"),
        _order(1, "2025-07-01 10:00:00", "2025-07-02 12:00:00", total=900),
    )
    result, report = _orders_night(tmp_path, date(2025, 7, 2), "orders_2.csv", night_2)
    assert result.success
    assert report["frame_rows"]["new_rows"] == len(night_2)
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
    assert report["frame_rows"]["new_rows"] == 2
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
    assert report["frame_rows"]["new_rows"] == 3
    fourth_mark = _gated_orders(tmp_path)
    assert fourth_mark[1] == _latest_orders_load(tmp_path)

    # The same night again: nothing new to validate, the mark row (validated_at too) unchanged.
    result, report = _orders_night(tmp_path, date(2025, 7, 4))
    assert result.success
    assert report["frame_rows"]["new_rows"] == 0
    assert report["frame_rows"]["table"] == 1  # has_rows reads the whole table's count
    assert _gated_orders(tmp_path) == fourth_mark

    # CRM_QUALITY_FULL=1 validates every row again (the superseded bad O9 left out).
    monkeypatch.setenv("CRM_QUALITY_FULL", "1")
    result, report = _orders_night(tmp_path, date(2025, 7, 4))
    assert result.success
    assert report["frame_rows"]["new_rows"] == 10
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
    # Only the rows of tonight's file were validated, and the gate's mark stayed on night 1.
    assert json.loads(report.read_text(encoding="utf-8"))["frame_rows"]["new_rows"] == 40
    marks = query(
        tonight,
        f"select g.load_id, max(l.load_id) as latest from {GATED_LOADS} as g "
        "join raw._load_ledger as l using (feed) where feed = 'orders' group by g.load_id",
    )
    assert (marks["load_id"] < marks["latest"]).all() and len(marks) == 1
