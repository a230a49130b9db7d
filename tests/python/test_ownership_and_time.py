"""A warehouse belongs to one shop (crm.ownership), and run times are shop time (Asia/Tokyo).

Seen cases: a second shop run with another CRM_LANDING_DIR but the default warehouse was
merged silently into the first; ``_loaded_at`` was the machine's naive local time (UTC on a
server), so a back-dated run on the demo shop between 00:00 and 09:00 JST failed the
future-dated gate; ``CRM_AS_OF_DATE=20250331`` was accepted.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import crm.loading.loader
import crm.settings
from crm.contract import FEEDS
from crm.ownership import (
    OWNER_TABLE,
    Claim,
    WarehouseOwnedElsewhere,
    claim_warehouse,
    read_owner,
)
from crm.settings import TOKYO, Settings, SettingsError
from orchestration.resources import WarehouseResource
from tests.python.conftest import settings_for, write_feed_file

ORDERS = "order_id,customer_id,ordered_at,status,total_amount,updated_at\n"


def _orders(landing: Path, prefix: str) -> Path:
    rows = [
        f"{prefix}-{n},C{n},2025-06-2{n} 10:00:00,ordered,1200,2025-06-2{n} 10:00:00"
        for n in (1, 2, 3)
    ]
    return write_feed_file(landing, "orders", f"{prefix}.csv", ORDERS + "\n".join(rows) + "\n")


def _claim(build: Path, claim: Claim) -> str:
    with duckdb.connect(str(build)) as conn:
        return claim_warehouse(conn, claim, build)


def _owner(build: Path):
    with duckdb.connect(str(build), read_only=True) as conn:
        return read_owner(conn)


# --------------------------------------------------------------------------------------------
# Item 12: one warehouse, one shop


def test_the_first_run_claims_the_warehouse_and_the_same_root_stays_its_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    build = tmp_path / "w.build.duckdb"
    shop = tmp_path / "shop" / "landing"
    assert _claim(build, Claim(shop)) == "claimed"
    owner = _owner(build)
    assert owner.landing_dir == str(shop.resolve()) and owner.shop_id is None
    # the same root, written another way (relative, with ..), is the same owner
    monkeypatch.chdir(tmp_path)
    assert _claim(build, Claim(Path("shop/../shop/landing"))) == "owner"
    assert _owner(build) == owner


def test_an_existing_warehouse_without_an_owner_is_claimed_by_its_next_run(tmp_path: Path):
    build = tmp_path / "w.build.duckdb"
    with duckdb.connect(str(build)) as conn:
        conn.execute("create schema raw; create table raw.orders (order_id varchar)")
    assert _claim(build, Claim(tmp_path / "landing")) == "claimed"


def test_another_landing_root_is_refused_naming_both_and_the_ways_on(tmp_path: Path):
    build = tmp_path / "w.build.duckdb"
    real, demo = tmp_path / "real_shop", tmp_path / "demo_landing"
    _claim(build, Claim(real))
    with pytest.raises(WarehouseOwnedElsewhere) as refused:
        _claim(build, Claim(demo))
    message = str(refused.value)
    assert str(real) in message and str(demo) in message
    assert "CRM_WAREHOUSE_PATH" in message and "CRM_ADOPT_LANDING=1" in message
    assert "Nothing was loaded" in message
    assert _owner(build).landing_dir == str(real)  # unchanged


def test_adopting_records_the_new_root_and_then_refuses_the_old_one(tmp_path: Path):
    build = tmp_path / "w.build.duckdb"
    old, new = tmp_path / "old", tmp_path / "new"
    _claim(build, Claim(old, "shop-a"))
    assert _claim(build, Claim(new, "shop-b", adopt=True)) == "adopted"
    owner = _owner(build)
    assert (owner.landing_dir, owner.shop_id, owner.how) == (str(new), "shop-b", "adopted")
    assert _claim(build, Claim(new, "shop-b")) == "owner"
    with pytest.raises(WarehouseOwnedElsewhere):
        _claim(build, Claim(old))


def test_shop_ids(tmp_path: Path):
    build = tmp_path / "w.build.duckdb"
    first, moved = tmp_path / "first", tmp_path / "moved"
    _claim(build, Claim(first))
    # a shop id given later for the same root is recorded
    assert _claim(build, Claim(first, "shop-a")) == "named"
    # the same shop id: a moved landing folder is the same shop, its new root recorded
    assert _claim(build, Claim(moved, "shop-a")) == "moved"
    assert _owner(build).landing_dir == str(moved)
    # another shop id is refused, even from the same root, and both ids are named
    with pytest.raises(WarehouseOwnedElsewhere, match=r"CRM_SHOP_ID=shop-a.*CRM_SHOP_ID=shop-b"):
        _claim(build, Claim(moved, "shop-b"))
    # without a shop id the roots decide
    assert _claim(build, Claim(moved)) == "owner"
    with pytest.raises(WarehouseOwnedElsewhere):
        _claim(build, Claim(first))
    assert _owner(build).shop_id == "shop-a"


def test_settings_read_the_shop_id_and_the_adopt_flag():
    settings = Settings.from_env({"CRM_SHOP_ID": " shop-a ", "CRM_ADOPT_LANDING": "1"})
    assert (settings.shop_id, settings.adopt_landing) == ("shop-a", True)
    assert settings.as_env()["CRM_SHOP_ID"] == "shop-a"
    plain = Settings.from_env({})
    assert (plain.shop_id, plain.adopt_landing) == (None, False)
    with pytest.raises(SettingsError, match="CRM_ADOPT_LANDING must be 1 or 0"):
        Settings.from_env({"CRM_ADOPT_LANDING": "please"})
    resource = WarehouseResource.from_settings(settings)
    assert resource.to_settings().shop_id == "shop-a" and resource.claim().adopt


def _load_orders(settings: Settings) -> dg.ExecuteInProcessResult:
    """Only the orders load asset, through Dagster (no dbt)."""
    from orchestration.assets.landing import load_assets

    load = next(a for a in load_assets if dg.AssetKey(["raw", "orders"]) in a.keys)
    resource = WarehouseResource.from_settings(settings)
    return dg.materialize([load], resources={"warehouse": resource}, raise_on_error=False)


def _raw_orders(settings: Settings) -> set[str]:
    with duckdb.connect(str(settings.build_path), read_only=True) as conn:
        return {r[0] for r in conn.execute("select order_id from raw.orders").fetchall()}


@pytest.fixture
def two_shops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Settings]:
    """A real shop loaded into a warehouse, and a second shop pointed at the same warehouse."""
    monkeypatch.setenv("CRM_DOCS_SITE", "0")
    real, demo = tmp_path / "real", tmp_path / "demo"
    _orders(real, "REAL")
    _orders(demo, "DEMO")
    first = replace(settings_for(tmp_path, real), shop_id=None)
    assert _load_orders(first).success
    assert _raw_orders(first) == {"REAL-1", "REAL-2", "REAL-3"}
    return first, replace(first, landing_dir=demo.resolve())


def test_the_dagster_load_refuses_another_shop_before_loading_it(two_shops):
    first, second = two_shops
    result = _load_orders(second)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    text = str(failure.event_specific_data.error)
    assert str(first.landing_dir) in text and str(second.landing_dir) in text
    assert _raw_orders(first) == {"REAL-1", "REAL-2", "REAL-3"}  # nothing of the demo shop
    adopted = _load_orders(replace(second, adopt_landing=True))  # said explicitly: loads
    assert adopted.success and "DEMO-1" in _raw_orders(first)


def test_make_run_refuses_another_shop_early_with_exit_code_2(
    two_shops, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from orchestration.run import main, run_nightly

    first, second = two_shops
    with pytest.raises(WarehouseOwnedElsewhere):
        run_nightly(second)
    for name, value in second.as_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CRM_SHOP_ID", raising=False)
    monkeypatch.delenv("CRM_ADOPT_LANDING", raising=False)
    assert main([]) == 2
    error = capsys.readouterr().err
    assert "belongs to another shop" in error and str(second.landing_dir) in error
    assert _raw_orders(first) == {"REAL-1", "REAL-2", "REAL-3"}
    with duckdb.connect(str(first.build_path), read_only=True) as conn:
        ledger = conn.execute("select source_file from raw._load_ledger").fetchall()
    assert all("DEMO" not in row[0] for row in ledger)


# --------------------------------------------------------------------------------------------
# Item 13: shop time


@pytest.mark.parametrize("bad", ["20250331", "2025-3-31", "2025-03-31T00:00", "２０２５-03-31"])
def test_the_as_of_date_is_exactly_yyyy_mm_dd(bad: str):
    with pytest.raises(SettingsError, match="CRM_AS_OF_DATE must be a date in the form YYYY-MM-DD"):
        Settings.from_env({"CRM_AS_OF_DATE": bad})


def test_an_impossible_as_of_date_is_refused():
    with pytest.raises(SettingsError, match="no such date"):
        Settings.from_env({"CRM_AS_OF_DATE": "2025-02-30"})
    assert Settings.from_env({"CRM_AS_OF_DATE": " 2025-03-31 "}).as_of_date == date(2025, 3, 31)


def _freeze(monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    """Freeze the clock of a server whose local time is UTC at ``instant`` (aware)."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            moment = instant.astimezone(tz or UTC)
            return datetime(
                *moment.timetuple()[:6], moment.microsecond, moment.tzinfo if tz else None
            )

    monkeypatch.setattr(crm.settings, "datetime", Frozen)
    monkeypatch.setattr(crm.loading.loader, "datetime", Frozen)  # the loader's own clock, if any


@pytest.mark.parametrize("clock", ["00:30", "23:30"])
def test_a_back_dated_demo_run_passes_the_future_gate_at_any_hour_in_tokyo(
    clock: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from crm.demo import generate_shop
    from crm.loading.loader import load_feed
    from crm.quality.runner import GATED_LOADS, record_gated_load, run_suite
    from crm.quality.suites.raw import build_raw_suite

    tokyo_day = date(2025, 7, 1)
    hour, minute = map(int, clock.split(":"))
    instant = datetime(2025, 7, 1, hour, minute, tzinfo=TOKYO)
    _freeze(monkeypatch, instant)
    assert crm.settings.today_in_tokyo() == tokyo_day
    assert crm.settings.shop_now() == instant.replace(tzinfo=None)

    landing, build = tmp_path / "landing", tmp_path / "w.build.duckdb"
    generate_shop(landing, customers=60, days=30, end_date=tokyo_day, seed=5)
    as_of = tokyo_day - timedelta(days=1)  # back-dated one day
    with duckdb.connect(str(build)) as conn:
        report = load_feed(conn, landing, "orders")
        assert report.rows_loaded > 0
        loaded_at = {
            r[0] for r in conn.execute("select distinct _loaded_at from raw.orders").fetchall()
        }
        latest = conn.execute("select max(ordered_at) from raw.orders").fetchone()[0]
    assert loaded_at == {instant.replace(tzinfo=None)}  # Tokyo time, not the server's UTC
    assert latest.date() == tokyo_day  # the demo shop has orders on the Tokyo day itself

    result = run_suite(build, build_raw_suite(FEEDS["orders"]), as_of, full=True)
    assert [r.name for r in result.critical_failures] == []
    assert record_gated_load(build, result)
    with duckdb.connect(str(build), read_only=True) as conn:
        validated = conn.execute(f"select validated_at from {GATED_LOADS}").fetchone()[0]
    assert validated == instant.replace(tzinfo=None)


def test_the_owner_is_stamped_in_shop_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    instant = datetime(2025, 7, 1, 0, 30, tzinfo=TOKYO)
    _freeze(monkeypatch, instant)
    build = tmp_path / "w.build.duckdb"
    _claim(build, Claim(tmp_path / "landing"))
    with duckdb.connect(str(build), read_only=True) as conn:
        stamped = conn.execute(f"select claimed_at from {OWNER_TABLE}").fetchone()[0]
    assert stamped == datetime(2025, 7, 1, 0, 30)
