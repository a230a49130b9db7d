"""Operating the nightly run: schedule, landing sensor, failure alerts, freshness, dbt docs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from crm.contract import FEEDS
from crm.loading.raw_layer import append_load
from crm.settings import TOKYO
from orchestration.definitions import build_definitions, defs
from orchestration.docs_site import (
    docs_key,
    docs_key_path,
    docs_site_path,
    prune_dbt_run_folders,
    record_docs_key,
    regeneration_reason,
)
from orchestration.freshness import DATA_FRESHNESS_CHECK, data_freshness_result
from orchestration.resources import WarehouseResource
from orchestration.schedules import nightly_cron, nightly_run_config, nightly_schedule
from orchestration.sensors import landing_files_sensor, run_failure_alert
from tests.python.conftest import REPO, settings_for, write_feed_file

# --- schedule -----------------------------------------------------------------------------


def test_nightly_schedule_runs_at_3_in_tokyo(monkeypatch):
    monkeypatch.delenv("CRM_AS_OF_DATE", raising=False)
    assert nightly_schedule.cron_schedule == "0 3 * * *"
    assert nightly_schedule.execution_timezone == "Asia/Tokyo"
    assert nightly_schedule.job_name == "nightly"
    assert nightly_cron({"CRM_NIGHTLY_CRON": "30 2 * * *"}) == "30 2 * * *"
    # The run is as of the tick's day in Tokyo (03:00 JST on 1 July is 18:00 UTC on 30 June).
    tick = datetime(2025, 7, 1, 3, 0, tzinfo=TOKYO)
    with dg.build_schedule_context(scheduled_execution_time=tick) as context:
        data = nightly_schedule.evaluate_tick(context)
    [request] = data.run_requests or []
    assert request.run_config["resources"]["warehouse"]["config"]["as_of_date"] == "2025-07-01"


def test_triggered_run_config_is_valid_for_the_nightly_job():
    job = defs.resolve_job_def("nightly")
    dg.validate_run_config(job, nightly_run_config(date(2025, 7, 1)))


# --- landing sensor -----------------------------------------------------------------------


def _age(paths: list[Path], seconds: float) -> None:
    stamp = time.time() - seconds
    for path in paths:
        os.utime(path, (stamp, stamp))


def _tick(landing: Path, tmp_path: Path, cursor: str | None) -> dg.SensorExecutionData:
    warehouse = WarehouseResource(
        warehouse_path=str(tmp_path / "warehouse.duckdb"),
        build_path=str(tmp_path / "warehouse.build.duckdb"),
        landing_dir=str(landing),
        export_dir=str(tmp_path / "exports"),
        as_of_date="2025-06-30",
    )
    context = dg.build_sensor_context(cursor=cursor, resources={"warehouse": warehouse})
    return landing_files_sensor.evaluate_tick(context)


def test_landing_sensor_waits_for_a_settled_batch_then_requests_one_run(
    landing, tmp_path, monkeypatch
):
    monkeypatch.setenv("CRM_LANDING_QUIET_SECONDS", "300")
    monkeypatch.delenv("CRM_AS_OF_DATE", raising=False)
    old = write_feed_file(landing, "orders", "2025-06-29.csv", "order_id\n1\n")
    _age([old], 86_400)
    first = _tick(landing, tmp_path, None)  # first look: records what is there, no run
    assert not first.run_requests
    cursor = first.cursor
    assert cursor

    nothing_new = _tick(landing, tmp_path, cursor)
    assert not nothing_new.run_requests

    # A batch arriving: two files, the last one written just now -> wait.
    batch = [
        write_feed_file(landing, "orders", "2025-06-30.csv", "order_id\n2\n"),
        write_feed_file(landing, "members", "2025-06-30.csv", "customer_id\nc1\n"),
    ]
    _age(batch[:1], 400)
    changing = _tick(landing, tmp_path, cursor)
    assert not changing.run_requests
    assert "still changing" in (changing.skip_message or "")
    assert changing.cursor == cursor

    # Quiet for longer than CRM_LANDING_QUIET_SECONDS -> exactly one run for the batch.
    _age(batch, 301)
    settled = _tick(landing, tmp_path, cursor)
    [request] = settled.run_requests or []
    assert request.run_key == settled.cursor != cursor
    assert request.job_name in (None, "nightly")
    assert request.tags["crm/trigger"] == "landing_files"

    again = _tick(landing, tmp_path, settled.cursor)
    assert not again.run_requests


def test_hidden_upload_in_progress_keeps_the_sensor_waiting(landing, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_LANDING_QUIET_SECONDS", "300")
    done = write_feed_file(landing, "orders", "a.csv", "order_id\n1\n")
    _age([done], 3600)
    cursor = _tick(landing, tmp_path, None).cursor
    fresh = write_feed_file(landing, "orders", "b.csv", "order_id\n2\n")
    _age([fresh], 3600)
    write_feed_file(landing, "orders", ".c.csv.part", "order_id\n3\n")  # still uploading
    assert not _tick(landing, tmp_path, cursor).run_requests


# --- failure alert ------------------------------------------------------------------------


def test_failed_run_writes_an_alert_naming_the_failed_step(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    (landing / "members").mkdir(parents=True)  # no orders feed: the required feed is missing
    settings = settings_for(tmp_path, landing)
    alert_log = tmp_path / "alerts.log"
    monkeypatch.setenv("CRM_ALERT_LOG", str(alert_log))
    monkeypatch.delenv("CRM_ALERT_WEBHOOK_URL", raising=False)
    job = build_definitions(settings).resolve_job_def("nightly")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        [failure] = [
            e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE
        ]
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert",
            dagster_event=failure,
            dagster_instance=instance,
            dagster_run=result.dagster_run,
        ).for_run_failure()
        run_failure_alert(context)
    text = alert_log.read_text(encoding="utf-8")
    assert "nightly run failed" in text
    assert "step raw__orders failed" in text
    assert "the required feed 'orders' is missing" in text
    assert result.run_id in text
    assert "make run" in text
    assert "From failure" in text


# --- definitions --------------------------------------------------------------------------


@pytest.mark.slow
def test_dagster_definitions_validate():
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-m",
            "orchestration.definitions",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]


def test_schedule_and_sensors_are_registered():
    assert {s.name for s in defs.schedules or []} >= {"nightly_schedule"}
    names = {s.name for s in defs.sensors or []}
    assert {"landing_files_sensor", "run_failure_alert"} <= names


# --- freshness ----------------------------------------------------------------------------


def test_every_raw_feed_has_freshness_expectations():
    graph = defs.resolve_asset_graph()
    checks = set(graph.asset_check_keys)
    for feed in FEEDS:
        key = dg.AssetKey(["raw", feed])
        assert dg.AssetCheckKey(key, DATA_FRESHNESS_CHECK) in checks, feed
        assert graph.get(key).freshness_policy is not None, feed


def test_data_freshness_is_about_the_latest_event_date(tmp_path: Path):
    as_of = date(2025, 6, 30)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        append_load(
            conn,
            "orders",
            "select * from (values ('1', timestamp '2025-06-27 10:00'), "
            "('2', timestamp '2025-07-05 10:00')) as t(order_id, ordered_at)",
            "orders/o.csv",
        )
        append_load(
            conn, "order_lines", "select '1' as order_id, 1 as line_number", "order_lines/l.csv"
        )
        orders = data_freshness_result(conn, FEEDS["orders"], as_of)
        lines = data_freshness_result(conn, FEEDS["order_lines"], as_of)
        returns = data_freshness_result(conn, FEEDS["returns"], as_of)  # not delivered
    # Rows after the as-of date do not count: the latest order is 3 days old (> 2 allowed).
    assert not orders.passed
    assert orders.metadata["lag_days"].value == 3
    assert orders.severity == dg.AssetCheckSeverity.WARN
    assert not lines.passed
    assert returns.passed


@pytest.mark.slow
def test_nightly_run_reports_fresh_data_for_the_shop(shop):
    _, result = shop
    fresh = {
        e.asset_key.path[-1]: e.passed
        for e in result.get_asset_check_evaluations()
        if e.check_name == DATA_FRESHNESS_CHECK
    }
    assert fresh == dict.fromkeys(FEEDS, True)


# --- dbt docs -----------------------------------------------------------------------------


@pytest.mark.slow
def test_nightly_run_writes_an_offline_dbt_docs_page(shop):
    settings, _ = shop
    page = docs_site_path(settings.build_path)
    html = page.read_text(encoding="utf-8")
    assert docs_key_path(page).is_file()  # the key it was generated for, beside it
    assert "customer_facts" in html
    assert "stable_segments" in html
    external = re.findall(r"<(?:script|link)\b[^>]*(?:src|href)=[\"']?(?:https?:)?//", html)
    assert external == []


def test_old_dbt_run_folders_are_pruned(tmp_path):
    target = tmp_path / "target"
    keep_always = [target / "compiled", target / "run"]
    runs = [target / f"crm_dbt_models-abc{i:04x}-{i:07x}" for i in range(8)]
    for n, folder in enumerate(keep_always + runs):
        folder.mkdir(parents=True)
        os.utime(folder, (1_000_000 + n, 1_000_000 + n))
    removed = prune_dbt_run_folders(target, keep=5)
    assert sorted(removed) == sorted(runs[:3])
    assert all(p.exists() for p in keep_always + runs[3:])


def test_the_docs_site_is_regenerated_only_when_the_project_or_catalog_changes(tmp_path):
    project = tmp_path / "project"
    for name in ("dbt_project.yml", "models/marts/facts.sql", "models/marts/_marts.yml"):
        write_feed_file(project, str(Path(name).parent), Path(name).name, f"-- {name}\n")
    model = project / "models" / "marts" / "facts.sql"
    conn = duckdb.connect()
    conn.execute("create schema marts")
    conn.execute("create table marts.facts (customer_id varchar, net_sales decimal(18, 2))")
    page = tmp_path / "docs" / "index.html"

    key = docs_key(conn, project)
    assert regeneration_reason(page, key) == "no page yet"
    page.parent.mkdir()
    page.write_text("<html>the docs</html>", encoding="utf-8")
    assert regeneration_reason(page, key) == "no key recorded beside the page"
    record_docs_key(page, key, "2025-06-30")
    assert docs_key_path(page).name == "index.html.key"

    # Key unchanged: keep the page, whatever the night (the as-of date is not in the key) and
    # whatever happens outside the dbt project (Python tests, rows of the tables).
    write_feed_file(project, "tests/python", "test_more.py", "def test(): pass\n")
    conn.execute("insert into marts.facts values ('C1', 1200)")
    assert regeneration_reason(page, docs_key(conn, project)) is None

    # A model file changed: regenerate; changed back: the key matches again.
    model.write_text("-- facts, edited\n", encoding="utf-8")
    assert regeneration_reason(page, docs_key(conn, project)) == "project changed"
    model.write_text("-- models/marts/facts.sql\n", encoding="utf-8")
    assert regeneration_reason(page, docs_key(conn, project)) is None

    # A relation's columns changed in the warehouse (the catalog): regenerate.
    conn.execute("alter table marts.facts add column rfm_group varchar")
    assert regeneration_reason(page, docs_key(conn, project)) == "catalog changed"
    conn.close()
