"""Quality gates: expectations on small frames, then a failing night end to end.

Night 1 is the session's generated shop (every gate passes, exports and the published file are
written). Night 2 lands a broken orders file that loads but must fail a critical gate: the shop
system's export wrote 0 in ``total_amount`` on every row (a column-mapping change upstream). The
gate fails, dbt, the exports and the publication are skipped, yesterday's files stay
byte-identical, and the alert names the failing check.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from crm.contract import FEEDS
from crm.loading.tables import ensure_raw_schema
from crm.quality.runner import quality_dir_for, read_frames, validate_frame, validate_frames
from crm.quality.suites import ALL_SUITES
from crm.quality.suites.marts import CUSTOMER_RFM
from crm.quality.suites.raw import build_raw_suite
from orchestration.run import run_nightly
from tests.python.conftest import AS_OF, query, settings_for

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
