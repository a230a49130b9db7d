"""Sensors: a nightly run when new landing files have settled, and an alert for a failed run.

``landing_files_sensor`` fingerprints the files under the feed folders of CRM_LANDING_DIR
(relative path, size, mtime). When the fingerprint differs from the one of its last run (the
cursor) and no file has changed for ``CRM_LANDING_QUIET_SECONDS`` (default 300), it requests
one nightly run with the fingerprint as run key: a batch of files dropped over a few minutes
starts one run, not one per file. Its first evaluation only records the current files (no run
for what is already there; the schedule covers it). Default status as the schedule's
(``CRM_SCHEDULE_ENABLED``).

``run_failure_alert`` (RUNNING by default: it only writes alerts) sends every failed run of
this code location through ``orchestration.alerts.send_alert``: the job, the run, each failed
step with its error, and how to run it again.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from crm.contract import FEED_NAMES
from crm.loading.landing_area import entries, quiet_seconds
from crm.settings import Settings, today_in_tokyo
from orchestration.alerts import Alert, send_alert
from orchestration.jobs import nightly_job
from orchestration.resources import WarehouseResource
from orchestration.schedules import default_sensor_status, nightly_run_config

#: How often the daemon looks at the landing area.
LANDING_SENSOR_INTERVAL_SECONDS = 60
MAX_ERROR_CHARS = 800


@dataclass(frozen=True)
class LandingSnapshot:
    fingerprint: str
    files: int
    newest_mtime: float | None


def landing_snapshot(landing_dir: Path) -> LandingSnapshot:
    """Fingerprint of every file in the feed folders (hidden files such as .part excluded).
    Symbolic links are not followed: a link counts as itself (the loader refuses it)."""
    digest = hashlib.sha256()
    count = 0
    newest: float | None = None
    for feed in FEED_NAMES:
        folder = landing_dir / feed
        if not (folder.is_symlink() or folder.is_dir()):
            continue
        for path, stat in entries(folder):
            # A hidden file still being written counts for "still changing", not for the set.
            newest = stat.st_mtime if newest is None else max(newest, stat.st_mtime)
            if path.name.startswith("."):
                continue
            relative = path.relative_to(landing_dir).as_posix()
            digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
            count += 1
    return LandingSnapshot(digest.hexdigest()[:16], count, newest)


@dg.sensor(
    name="landing_files_sensor",
    job=nightly_job,
    minimum_interval_seconds=LANDING_SENSOR_INTERVAL_SECONDS,
    default_status=default_sensor_status(),
    description=(
        "Starts one nightly run when the set of landing files changed and nothing has changed "
        "for CRM_LANDING_QUIET_SECONDS (default 300)."
    ),
)
def landing_files_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.RunRequest | dg.SkipReason:
    landing_dir = Path(warehouse.landing_dir)
    snapshot = landing_snapshot(landing_dir)
    if context.cursor is None:
        context.update_cursor(snapshot.fingerprint)
        return dg.SkipReason(f"first look: {snapshot.files} landing files recorded")
    if snapshot.files == 0:
        return dg.SkipReason(f"no landing files in {landing_dir}")
    if snapshot.fingerprint == context.cursor:
        return dg.SkipReason("no new or changed landing files")
    quiet = quiet_seconds()
    settled_for = time.time() - (snapshot.newest_mtime or 0.0)
    if settled_for < quiet:
        return dg.SkipReason(
            f"landing files still changing (last change {settled_for:.0f} s ago, "
            f"waiting for {quiet} s of quiet)"
        )
    context.update_cursor(snapshot.fingerprint)
    return dg.RunRequest(
        run_key=snapshot.fingerprint,
        run_config=nightly_run_config(today_in_tokyo()),
        tags={"crm/trigger": "landing_files", "crm/landing_files": str(snapshot.files)},
    )


def _first_lines(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failed_steps(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    """(step key, error message) of every failed step of a run."""
    steps: list[tuple[str, str]] = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        if event is None:
            continue
        data = event.step_failure_data
        message = ""
        if data.user_failure_data and data.user_failure_data.description:
            message = data.user_failure_data.description
        elif data.error:
            error = data.error
            while error.cause is not None and error.cls_name in {
                "DagsterExecutionStepExecutionError",
                "DagsterUserCodeExecutionError",
            }:
                error = error.cause
            message = f"{error.cls_name}: {error.message}" if error.cls_name else error.message
        steps.append((event.step_key or "?", _first_lines(message)))
    return steps


def failure_alert(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    failure_message: str | None = None,
    in_process: bool = False,
) -> Alert:
    """The alert for a failed run; ``in_process`` for `make run` (no run in the UI to reuse)."""
    steps = failed_steps(instance, run.run_id)
    if steps:
        what = "; ".join(f"step {key} failed: {message}" for key, message in steps)
    else:
        what = failure_message or "the run failed before any step ran"
    first_step = steps[0][0] if steps else None
    return Alert(
        title=f"{run.job_name} run failed",
        what_failed=what,
        asset=first_step.replace("__", "/") if first_step else None,
        run_id=run.run_id,
        how_to_rerun=(
            "fix the cause, then `make run` again (the whole nightly job, in-process)"
            if in_process
            else "fix the cause, then `make run` (the whole nightly job, in-process), or in the "
            f"Dagster UI (`make ui`) open Runs → {run.run_id[:8]} → Re-execute → From failure"
            + (f" (starts again at {first_step})" if first_step else "")
        ),
    )


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Writes an alert (CRM_ALERT_LOG, default alerts.log beside the warehouse; and "
        "CRM_ALERT_WEBHOOK_URL if set) for every failed run: job, failed steps, how to rerun."
    ),
)
def run_failure_alert(context: dg.RunFailureSensorContext) -> None:
    alert = failure_alert(context.instance, context.dagster_run, context.failure_event.message)
    path = send_alert(alert, Settings.from_env())
    context.log.info(f"alert for run {context.dagster_run.run_id} written to {path}")
