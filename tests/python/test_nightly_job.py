"""The whole nightly job end to end on a small generated shop: load, dbt build, checks, re-runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from orchestration.run import run_nightly
from tests.python.conftest import AS_OF, query, settings_for

pytestmark = pytest.mark.slow


def test_every_dbt_check_ran_and_passed(shop):
    _, result = shop
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) >= 50
    failed = [e.check_name for e in evaluations if not e.passed]
    assert failed == []


def test_every_landing_file_is_accounted_for(shop):
    settings, _ = shop
    landed = sorted(
        p.relative_to(settings.landing_dir).as_posix()
        for p in settings.landing_dir.rglob("*")
        if p.is_file()
    )
    ledger = query(
        settings,
        "select source_file, rows_in_file, rows_loaded, rows_rejected, status "
        "from raw._load_ledger order by source_file",
    )
    assert ledger["source_file"].tolist() == landed
    assert (ledger["status"] == "loaded").all()
    assert (ledger["rows_loaded"] + ledger["rows_rejected"] == ledger["rows_in_file"]).all()


def test_customer_facts_has_one_row_per_known_customer(shop):
    settings, _ = shop
    expected = query(
        settings,
        """
        select count(*) as n from (
            select customer_id from raw.orders
            where customer_id is not null and ordered_at < timestamp '2025-07-01'
            union
            select customer_id from raw.members where registered_at < timestamp '2025-07-01'
        ) as known
        """,
    )["n"][0]
    facts = query(settings, "select * from marts.customer_facts")
    assert len(facts) == expected
    assert facts["customer_id"].is_unique
    assert (facts["as_of_date"].dt.date == AS_OF).all()


def test_customer_facts_are_filled_from_every_feed(shop):
    settings, _ = shop
    facts = query(settings, "select * from marts.customer_facts")
    buyers = facts[facts["order_count"] > 0]
    assert len(buyers) > 100
    assert buyers["first_category"].notna().all()
    assert buyers["first_channel"].notna().all()
    assert (buyers["last_purchase_date"].dt.date <= AS_OF).all()
    assert (buyers["days_since_last_purchase"] >= 0).all()
    assert (buyers["net_sales"] <= buyers["gross_sales"]).all()
    repeaters = buyers[buyers["purchase_days"] >= 2]
    assert repeaters["median_purchase_interval_days"].notna().all()
    assert repeaters["is_overdue"].any() and not repeaters["is_overdue"].all()
    assert facts["visits"].notna().all()  # the shop has a sessions feed
    assert (facts["visits"] > 0).sum() > 100
    assert facts["last_viewed_sku"].notna().any()
    assert facts["is_member"].mean() > 0.9
    assert facts["age"].dropna().between(10, 110).all()
    assert facts["prefecture"].notna().any()
    assert (buyers["unshipped_order_share"].dropna() < 0.5).all()
    prospects = facts[(facts["order_count"] == 0) & facts["is_member"]]
    assert len(prospects) > 0


def test_no_personal_data_in_marts(shop):
    settings, _ = shop
    columns = set(query(settings, "select * from marts.customer_facts limit 0").columns)
    personal = {"email", "phone", "family_name", "given_name", "postal_code", "address_line1"}
    assert not columns & personal


def test_second_run_loads_nothing_new_and_gives_identical_facts(shop):
    settings, _ = shop
    before = query(settings, "select * from marts.customer_facts order by customer_id")
    ledger_before = query(settings, "select count(*) as n from raw._load_ledger")["n"][0]
    assert run_nightly(settings).success
    after = query(settings, "select * from marts.customer_facts order by customer_id")
    assert query(settings, "select count(*) as n from raw._load_ledger")["n"][0] == ledger_before
    pd.testing.assert_frame_equal(before, after)


def test_a_late_correction_flows_through_to_customer_facts(tmp_path: Path, shop):
    settings, _ = shop
    landing = tmp_path / "landing"
    shutil.copytree(settings.landing_dir, landing)
    late = settings_for(tmp_path, landing)
    assert run_nightly(late).success
    target = query(
        late,
        """
        select o.order_id, o.customer_id, o.ordered_at, o.total_amount, f.order_count
        from staging.stg_shop__orders as o
        join marts.customer_facts as f using (customer_id)
        where
            o.order_status = 'delivered'
            and f.order_count >= 2
            and o.updated_at < timestamp '2025-06-01'
        order by o.order_id limit 1
        """,
    ).iloc[0]
    correction = landing / "orders" / "zz_correction.csv"
    correction.write_text(
        "order_id,customer_id,ordered_at,status,total_amount,updated_at\n"
        f"{target.order_id},{target.customer_id},{target.ordered_at:%Y-%m-%d %H:%M:%S},"
        f"cancelled,{int(target.total_amount)},2025-06-30 12:00:00\n",
        encoding="utf-8",
    )
    assert run_nightly(late).success
    sql = "select order_count from marts.customer_facts where customer_id = '{}'"
    count = query(late, sql.format(target.customer_id))["order_count"][0]
    assert count == target.order_count - 1
