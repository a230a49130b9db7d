"""RFM groups, scores, lifecycle stages and the month-end history on a generated shop."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from crm.loading.raw_layer import copy_warehouse
from crm.settings import PROJECT_DIR
from orchestration.run import run_nightly
from tests.python.conftest import AS_OF, query, run_dbt, settings_for

pytestmark = pytest.mark.slow

DBT_PROJECT_FILES = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def test_every_purchasing_customer_has_one_group_one_stage_and_scores(shop):
    settings, _ = shop
    facts = query(settings, "select customer_id, order_count from marts.customer_facts")
    rfm = query(settings, "select * from marts.customer_rfm")
    lifecycle = query(settings, "select * from marts.customer_lifecycle")
    buyers = set(facts.loc[facts["order_count"] > 0, "customer_id"])
    assert set(rfm["customer_id"]) == buyers and rfm["customer_id"].is_unique
    assert rfm["rfm_group"].notna().all()
    for column in ["r_score", "f_score", "m_score", "r_quintile_score", "m_quintile_score"]:
        assert rfm[column].between(1, 5).all(), column
    assert rfm["rfm_score"].between(3, 15).all()
    assert (rfm["rfm_score"] == rfm["r_score"] + rfm["f_score"] + rfm["m_score"]).all()
    assert set(lifecycle["customer_id"]) == set(facts["customer_id"])
    assert lifecycle["lifecycle_stage"].notna().all()
    stages = set(lifecycle["lifecycle_stage"])
    assert {"new", "repeat", "loyal", "dormant", "churned", "prospect"} <= stages
    assert len(set(rfm["rfm_group"])) >= 6


def _copy_dbt_project(target: Path) -> Path:
    for name in DBT_PROJECT_FILES:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            shutil.copy2(source, target / name)
    return target


def _set_band(seed: Path, band_code: str, column: str, value: str) -> None:
    with seed.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fieldnames = list(rows[0])
    for row in rows:
        if row["band_code"] == band_code:
            row[column] = value
    with seed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)


def test_editing_a_band_in_the_seed_csv_changes_the_groups(shop, tmp_path: Path):
    """ "Loyal = 8+ orders" instead of 6+: edit one CSV, re-run dbt, the groups follow."""
    settings, _ = shop
    warehouse = tmp_path / "warehouse.duckdb"
    copy_warehouse(settings.build_path, warehouse)
    project = _copy_dbt_project(tmp_path / "project")
    seed = project / "seeds" / "rfm" / "rfm_frequency_bands.csv"
    _set_band(seed, "f3_5", "upper_bound", "8")
    _set_band(seed, "f6_plus", "lower_bound", "8")

    before = query(settings, "select customer_id, frequency, rfm_group from marts.customer_rfm")
    completed = run_dbt(
        project,
        tmp_path,
        {**settings.as_env(), "CRM_BUILD_PATH": str(warehouse)},
        "build",
        "--vars",
        json.dumps({"as_of_date": AS_OF.isoformat()}),
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        after = conn.execute(
            "select customer_id, frequency, rfm_group from marts.customer_rfm"
        ).df()

    merged = before.merge(after, on=["customer_id", "frequency"], suffixes=("_before", "_after"))
    assert len(merged) == len(before)
    moved = merged[merged["rfm_group_before"] != merged["rfm_group_after"]]
    assert len(moved) > 0, "no customer with 6 or 7 orders in the test shop"
    assert set(moved["frequency"]) <= {6, 7}
    assert set(zip(moved["rfm_group_before"], moved["rfm_group_after"], strict=True)) <= {
        ("loyal", "stable"),
        ("at_risk_loyal", "at_risk_loyal"),
        ("lapsed_loyal", "lapsed_loyal"),
    }
    unchanged = merged[~merged["frequency"].isin([6, 7])]
    assert (unchanged["rfm_group_before"] == unchanged["rfm_group_after"]).all()


def test_month_end_history_is_written_once_and_only_grows(shop, tmp_path: Path):
    settings, _ = shop
    root = tmp_path / "run"
    root.mkdir()
    copy_warehouse(settings.build_path, root / "warehouse.build.duckdb")
    later = settings_for(root, settings.landing_dir, as_of=date(2025, 8, 15))
    snapshots = "intermediate.int_customer_months_snapshotted"

    first = query(later, f"select * from {snapshots} order by snapshot_date, customer_id")
    assert first["snapshot_date"].max().date() == date(2025, 5, 31)  # complete months only
    months = first["snapshot_date"].dt.date.nunique()
    assert months >= 13

    # Mark one written row: a recomputed month would lose the mark.
    marked = first.iloc[0]
    with duckdb.connect(str(later.build_path)) as conn:
        conn.execute(
            f"update {snapshots} set net_sales = -1 where snapshot_date = ? and customer_id = ?",
            [marked.snapshot_date.date(), marked.customer_id],
        )
    assert run_nightly(later).success
    second = query(later, f"select * from {snapshots} order by snapshot_date, customer_id")
    new_months = sorted(set(second["snapshot_date"].dt.date) - set(first["snapshot_date"].dt.date))
    assert new_months == [date(2025, 6, 30), date(2025, 7, 31)]
    kept = second[second["snapshot_date"].dt.date <= date(2025, 5, 31)]
    assert len(kept) == len(first)
    mark = kept[
        (kept["snapshot_date"] == marked.snapshot_date)
        & (kept["customer_id"] == marked.customer_id)
    ]
    assert mark["net_sales"].iloc[0] == -1

    history = query(
        later, "select snapshot_date, count(*) as n from marts.customer_rfm_history group by 1"
    )
    assert date(2025, 8, 15) in set(history["snapshot_date"].dt.date)

    rows_before_rerun = len(second)
    assert run_nightly(later).success  # same night again: nothing new to write
    assert len(query(later, f"select customer_id from {snapshots}")) == rows_before_rerun
