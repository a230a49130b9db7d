"""Landing files fail closed (issue 20): only complete files load, symbolic links are refused
unread, messages never quote data, reject-share thresholds, the blocking landing gate, and
load times in Asia/Tokyo shop time."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crm.dbt_vars import dbt_float
from crm.loading import csv_stage
from crm.loading.landing_area import SYMLINK_MESSAGE, quiet_seconds
from crm.loading.landing_gate import blocked_files
from crm.loading.loader import NATIVE, load_feed
from crm.loading.reject_share import RejectShares
from crm.settings import TOKYO
from orchestration.assets.landing import gate_alert, share_alert
from orchestration.sensors import landing_snapshot
from tests.python.conftest import AS_OF, settings_for, write_feed_file

HEADER = "order_id,customer_id,ordered_at,total_amount\n"
SUPPRESSIONS_HEADER = "channel,address,suppressed_at,reason\n"
EMAIL = "taro.yamada@example.com"


def orders(n: int, start: int = 1) -> str:
    return "".join(f"O{i},C1,2025-01-01 10:00:00,{1000 + i}\n" for i in range(start, start + n))


def age(path: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def ledger(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return conn.execute(
        "select source_file, status, rows_in_file, rows_loaded, rows_rejected, "
        "coalesce(message, '') from raw._load_ledger order by load_id"
    ).fetchall()


def everything_logged(conn: duckdb.DuckDBPyConnection) -> str:
    """The ledger and the rejects' reasons as text (what logs and alerts are built from)."""
    rows = conn.execute(
        "select string_agg(coalesce(message, ''), ' ') from raw._load_ledger "
        "union all select string_agg(reason, ' ') from raw._rejects"
    ).fetchall()
    return " ".join(r[0] or "" for r in rows)


# --- only complete files load -------------------------------------------------------------


def test_a_file_changed_within_the_quiet_period_waits_and_loads_later(conn, landing, monkeypatch):
    monkeypatch.setenv("CRM_LANDING_QUIET_SECONDS", "300")
    assert quiet_seconds() == 300
    path = write_feed_file(landing, "orders", "o.csv", HEADER + orders(3))
    age(path, 12)
    [waiting] = load_feed(conn, landing, "orders").files
    assert waiting.status == "waiting"
    assert waiting.message == (
        "modified 12 s ago: waits for 300 s of quiet (CRM_LANDING_QUIET_SECONDS)"
    )
    assert ledger(conn) == []  # not recorded: it loads next time
    assert conn.execute("select count(*) from raw.orders").fetchone() == (0,)

    age(path, 301)
    [loaded] = load_feed(conn, landing, "orders").files
    assert (loaded.status, loaded.rows_loaded) == ("loaded", 3)


def test_done_markers_mark_files_complete_and_the_others_wait(conn, landing, monkeypatch):
    monkeypatch.setenv("CRM_LANDING_QUIET_SECONDS", "300")
    write_feed_file(landing, "orders", "a.csv", HEADER + orders(2))
    write_feed_file(landing, "orders", "a.csv.done", "")
    old = write_feed_file(landing, "orders", "b.csv", HEADER + orders(2, start=10))
    age(old, 3600)  # settled, but the folder uses markers and b.csv has none
    report = load_feed(conn, landing, "orders")
    by_file = {f.source_file: f for f in report.files}
    assert set(by_file) == {"orders/a.csv", "orders/b.csv"}  # the marker is no data file
    assert (by_file["orders/a.csv"].status, by_file["orders/a.csv"].rows_loaded) == ("loaded", 2)
    assert by_file["orders/b.csv"].status == "waiting"
    assert "waits for its .done marker" in by_file["orders/b.csv"].message
    assert report.ignored_files == []

    write_feed_file(landing, "orders", "b.csv.done", "")
    statuses = {f.source_file: f.status for f in load_feed(conn, landing, "orders").files}
    assert statuses == {"orders/a.csv": "already_loaded", "orders/b.csv": "loaded"}


def test_the_demo_shop_is_dated_back_past_the_quiet_period(tmp_path, monkeypatch):
    from orchestration import run

    monkeypatch.setenv("CRM_LANDING_QUIET_SECONDS", "300")
    monkeypatch.setattr(run, "DEMO_CUSTOMERS", 30)
    monkeypatch.setattr(run, "DEMO_DAYS", 30)
    settings = settings_for(tmp_path, tmp_path / "demo_landing")
    settings = type(settings)(**{**settings.__dict__, "uses_demo_landing": True})
    run.ensure_demo_landing(settings)
    files = [p for p in settings.landing_dir.rglob("*") if p.is_file()]
    assert files
    assert all(time.time() - p.stat().st_mtime > 300 for p in files)


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
@pytest.mark.parametrize("block_bytes", [csv_stage.BLOCK_BYTES, 64])
def test_a_last_line_cut_short_is_rejected(conn, landing, monkeypatch, line_end, block_bytes):
    # block_bytes 64: the file is read in many blocks, the cut line alone in the last one.
    monkeypatch.setattr(csv_stage, "BLOCK_BYTES", block_bytes)
    text = (HEADER + orders(8)).replace("\n", line_end) + "O9,C1,2025-01-01 10:00:00,12"
    write_feed_file(landing, "orders", "cut.csv", text)  # 123456 cut after "12"
    [file] = load_feed(conn, landing, "orders").files
    assert (file.status, file.rows_loaded, file.rows_rejected) == ("loaded", 8, 1)
    [(line, reason)] = conn.execute("select source_line, reason from raw._rejects").fetchall()
    assert line == 10
    assert "the last line has no line end" in reason
    loaded = conn.execute("select count(*) from raw.orders where order_id = 'O9'").fetchone()
    assert loaded == (0,)


def test_a_header_only_file_without_line_end_is_fine(conn, landing):
    write_feed_file(landing, "orders", "empty.csv", HEADER.rstrip("\n"))
    [file] = load_feed(conn, landing, "orders").files
    assert (file.status, file.rows_in_file, file.rows_rejected) == ("loaded", 0, 0)


# --- symbolic links -----------------------------------------------------------------------


def test_symbolic_links_are_refused_unread_and_recorded_once(conn, landing, tmp_path):
    write_feed_file(landing, "orders", "real.csv", HEADER + orders(1))
    (landing / "orders" / "x.csv").symlink_to("/etc/passwd")
    elsewhere = tmp_path / "elsewhere"
    write_feed_file(elsewhere, "more", "m.csv", HEADER + orders(1, start=50))
    (landing / "orders" / "linked").symlink_to(elsewhere / "more", target_is_directory=True)
    report = load_feed(conn, landing, "orders")
    by_file = {f.source_file: f for f in report.files}
    assert set(by_file) == {"orders/real.csv", "orders/x.csv", "orders/linked"}
    for link in ("orders/x.csv", "orders/linked"):
        assert (by_file[link].status, by_file[link].rows_in_file) == ("refused", 0)
        assert by_file[link].message == SYMLINK_MESSAGE
    assert conn.execute("select list(order_id) from raw.orders").fetchone() == (["O1"],)
    everything = conn.execute("select cast(to_json(r) as varchar) from raw._rejects r").fetchall()
    assert "root" not in str(everything)

    again = {f.source_file: f.status for f in load_feed(conn, landing, "orders").files}
    assert again["orders/x.csv"] == "already_loaded"
    assert [r[:2] for r in ledger(conn)].count(("orders/x.csv", "refused")) == 1


def test_a_feed_folder_that_is_a_link_is_refused(conn, landing, tmp_path):
    write_feed_file(
        tmp_path / "other", "members", "m.csv", "customer_id,registered_at\nc1,2025-01-01\n"
    )
    (landing / "members").symlink_to(tmp_path / "other" / "members", target_is_directory=True)
    [file] = load_feed(conn, landing, "members").files
    assert (file.source_file, file.status, file.message) == ("members", "refused", SYMLINK_MESSAGE)
    assert conn.execute("select count(*) from raw.members").fetchone() == (0,)


def test_the_sensor_does_not_follow_links(landing, tmp_path):
    write_feed_file(landing, "orders", "a.csv", HEADER)
    for n in range(3):
        write_feed_file(tmp_path / "big", "x", f"{n}.csv", HEADER)
    (landing / "orders" / "linked").symlink_to(tmp_path / "big" / "x", target_is_directory=True)
    assert landing_snapshot(landing).files == 2  # a.csv and the link itself, not its 3 files


# --- messages never quote data ------------------------------------------------------------


def test_a_file_without_header_is_refused_without_quoting_its_first_row(conn, landing):
    write_feed_file(
        landing,
        "suppressions",
        "s.csv",
        f"email,{EMAIL},2025-01-01 10:00:00,unsubscribe\nemail,b@example.com,2025-01-02,bounce\n",
    )
    [file] = load_feed(conn, landing, "suppressions").files
    assert file.status == "refused"
    assert EMAIL not in file.message
    assert "the first row does not look like a header (is the header row missing?)" in file.message
    assert "4 columns" in file.message
    assert EMAIL not in str(ledger(conn))
    assert EMAIL not in everything_logged(conn)


def test_a_repeated_name_in_a_first_row_of_data_is_not_quoted(conn, landing):
    write_feed_file(landing, "orders", "o.csv", f"O1,{EMAIL},{EMAIL},100\nO2,a,b,200\n")
    [file] = load_feed(conn, landing, "orders").files
    assert file.status == "refused"
    assert EMAIL not in file.message
    assert "header column 3 repeats an earlier name" in file.message
    assert EMAIL not in everything_logged(conn)


def test_a_header_of_column_names_is_still_named(conn, landing):
    write_feed_file(
        landing, "orders", "o.csv", "order_id,customer_id,ordered_at\nO1,C1,2025-01-01\n"
    )
    [file] = load_feed(conn, landing, "orders").files
    assert "the header has order_id, customer_id, ordered_at" in file.message


# --- reject-share thresholds --------------------------------------------------------------


def test_thresholds_come_from_dbt_project_yml():
    shares = RejectShares.from_dbt_project()
    assert shares == RejectShares(
        dbt_float("landing_reject_share_warning"), dbt_float("landing_reject_share_critical")
    )
    assert (shares.warning, shares.critical) == (0.01, 0.2)


def bad_orders(good: int, bad: int) -> str:
    return HEADER + orders(good) + "".join(f"B{i},C1,not a date,100\n" for i in range(bad))


def test_a_csv_above_the_critical_share_is_refused_as_a_whole(conn, landing):
    write_feed_file(landing, "orders", "o.csv", bad_orders(7, 3))
    [file] = load_feed(conn, landing, "orders").files
    assert (file.status, file.rows_loaded, file.rows_rejected) == ("refused", 0, 10)
    assert file.message == (
        "3 of 10 rows (30 %) rejected, above landing_reject_share_critical 20 %"
    )
    assert conn.execute("select count(*) from raw.orders").fetchone() == (0,)
    reasons = [r for (r,) in conn.execute("select reason from raw._rejects").fetchall()]
    assert len(reasons) == 10
    assert all(r.startswith(f"file refused: {file.message}") for r in reasons)
    [blocked] = blocked_files(conn, "orders")
    assert blocked.source_file == "orders/o.csv"
    assert [line for line, _ in blocked.lines][:3] == [9, 10, 11]  # the bad lines first
    assert "not a date" not in blocked.describe()


def test_a_parquet_file_above_the_critical_share_is_refused_natively(conn, landing):
    table = pa.table(
        {
            "order_id": ["P1", "P2", "P3", "P4"],
            "ordered_at": pa.array([datetime(2025, 1, 1)] * 4, pa.timestamp("s")),
            "total_amount": pa.array([100, None, None, 400], pa.int64()),
        }
    )
    (landing / "orders").mkdir()
    pq.write_table(table, landing / "orders" / "o.parquet")
    [file] = load_feed(conn, landing, "orders").files
    assert file.method == NATIVE
    assert (file.status, file.rows_loaded, file.rows_rejected) == ("refused", 0, 4)
    assert "2 of 4 rows (50 %) rejected" in file.message
    assert conn.execute("select count(*) from raw.orders").fetchone() == (0,)
    assert conn.execute("select count(*) from raw._rejects").fetchone() == (4,)


def test_above_the_warning_share_the_file_loads_and_an_alert_counts_it(conn, landing):
    write_feed_file(landing, "orders", "o.csv", bad_orders(19, 1) + f"O99,C1,{EMAIL},1\n")
    report = load_feed(conn, landing, "orders")
    [file] = report.files
    assert (file.status, file.rows_loaded, file.rows_rejected) == ("loaded", 19, 2)
    from crm.contract import FEEDS

    alert = share_alert(FEEDS["orders"], report, RejectShares.from_dbt_project(), "run")
    assert "orders/o.csv: 2 of 21 rows (9.5 %) rejected" in alert.what_failed
    assert EMAIL not in alert.render()
    assert blocked_files(conn, "orders") == []  # below the critical share: no block


# --- the landing gate ---------------------------------------------------------------------


def test_the_gate_blocks_on_suppressions_until_a_corrected_file_lands(conn, landing):
    from crm.contract import FEEDS

    bad_row = f"email,{EMAIL},{EMAIL},unsubscribe\n"  # the date column holds the address
    text = SUPPRESSIONS_HEADER + "".join(
        f"email,a{n}@example.com,2025-01-02,unsubscribe\n" for n in range(9)
    )
    path = write_feed_file(landing, "suppressions", "s.csv", text + bad_row)
    load_feed(conn, landing, "suppressions")
    [blocked] = blocked_files(conn, "suppressions")
    assert blocked.lines == [(11, "suppressed_at: value unreadable")]
    alert = gate_alert(FEEDS["suppressions"], blocked_files(conn, "suppressions"), "x", "run")
    assert "suppressions/s.csv" in alert.what_failed and "11" in alert.what_failed
    assert EMAIL not in alert.render()

    path.write_text(text + f"email,{EMAIL},2025-01-03,unsubscribe\n", encoding="utf-8")
    load_feed(conn, landing, "suppressions")
    assert blocked_files(conn, "suppressions") == []


def test_the_gate_blocks_on_a_refused_members_file_not_on_a_refused_orders_file(conn, landing):
    write_feed_file(landing, "members", "m.csv", "customer_id\nc1\n")  # no registered_at
    write_feed_file(landing, "orders", "o.csv", "order_id\nO1\n")
    load_feed(conn, landing, "members")
    load_feed(conn, landing, "orders")
    assert [b.source_file for b in blocked_files(conn, "members")] == ["members/m.csv"]
    assert blocked_files(conn, "orders") == []


# --- load times -----------------------------------------------------------------------------


def test_load_times_are_tokyo_time(conn, landing):
    write_feed_file(landing, "orders", "o.csv", HEADER + orders(1) + "B1,C1,never,1\n")
    from crm.loading.reject_share import ROW_RULES_ONLY

    load_feed(conn, landing, "orders", ROW_RULES_ONLY)
    tokyo_now = datetime.now(TOKYO).replace(tzinfo=None)
    times = conn.execute(
        "select (select _loaded_at from raw.orders), (select loaded_at from raw._load_ledger), "
        "(select rejected_at from raw._rejects)"
    ).fetchone()
    assert all(abs(t - tokyo_now) < timedelta(minutes=1) for t in times)


# --- the nightly run stops --------------------------------------------------------------------


@pytest.mark.slow
def test_a_suppressions_file_without_header_stops_the_night(tmp_path):
    from crm.demo import generate_shop
    from orchestration.alerts import alert_log_path
    from orchestration.run import run_nightly

    landing = tmp_path / "landing"
    generate_shop(landing, customers=60, days=120, end_date=AS_OF, seed=5)
    for old in (landing / "suppressions").glob("*"):
        old.unlink()
    write_feed_file(
        landing,
        "suppressions",
        "suppressions.csv",
        f"email,{EMAIL},2025-06-01 10:00:00,unsubscribe\n",
    )
    settings = settings_for(tmp_path, landing)
    result = run_nightly(settings)
    assert not result.success
    failed = [
        (e.asset_key.to_user_string(), e.check_name)
        for e in result.get_asset_check_evaluations()
        if not e.passed
    ]
    assert failed == [("raw/suppressions", "landing_files_accepted")]
    materialized = {
        e.asset_key.path[0]
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert materialized == {"raw"}  # no dbt model, export or publication ran
    assert not (settings.export_dir / AS_OF.isoformat()).exists()
    log = alert_log_path(settings).read_text(encoding="utf-8")
    assert "Landing gate failed on raw/suppressions" in log
    assert "suppressions/suppressions.csv" in log
    assert EMAIL not in log
