"""The nightly schedule: the `nightly` job at 03:00 Asia/Tokyo (``CRM_NIGHTLY_CRON``).

Schedules and the landing sensor start STOPPED, so a development UI (`make ui`) never starts
nightly runs unasked; ``CRM_SCHEDULE_ENABLED=1`` makes them RUNNING by default (production).
Either way they can be switched on and off in the UI (Automation).
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date

import dagster as dg

from crm.settings import TOKYO, Settings, today_in_tokyo
from orchestration.jobs import nightly_job

DEFAULT_NIGHTLY_CRON = "0 3 * * *"
TIMEZONE = "Asia/Tokyo"


def nightly_cron(env: dict[str, str] | None = None) -> str:
    env = dict(os.environ if env is None else env)
    return env.get("CRM_NIGHTLY_CRON", "").strip() or DEFAULT_NIGHTLY_CRON


def automation_enabled(env: dict[str, str] | None = None) -> bool:
    env = dict(os.environ if env is None else env)
    return env.get("CRM_SCHEDULE_ENABLED", "").strip().lower() in {"1", "true", "yes", "on"}


def default_schedule_status() -> dg.DefaultScheduleStatus:
    return (
        dg.DefaultScheduleStatus.RUNNING
        if automation_enabled()
        else dg.DefaultScheduleStatus.STOPPED
    )


def default_sensor_status() -> dg.DefaultSensorStatus:
    return (
        dg.DefaultSensorStatus.RUNNING if automation_enabled() else dg.DefaultSensorStatus.STOPPED
    )


def nightly_run_config(as_of: date) -> dict:
    """Run config of a triggered run: the warehouse settings, as of ``as_of`` unless
    CRM_AS_OF_DATE pins the date.

    A long-running code server loads the definitions once; the date is therefore decided when
    the run is requested (and shown in its config, so a re-execution keeps it), not when the
    server started.
    """
    settings = Settings.from_env()
    if not os.environ.get("CRM_AS_OF_DATE", "").strip():
        settings = replace(settings, as_of_date=as_of)
    config = {
        "warehouse_path": str(settings.warehouse_path),
        "build_path": str(settings.build_path),
        "landing_dir": str(settings.landing_dir),
        "export_dir": str(settings.export_dir),
        "as_of_date": settings.as_of_date.isoformat(),
    }
    return {"resources": {"warehouse": {"config": config}}}


def _scheduled_run_config(context: dg.ScheduleEvaluationContext) -> dict:
    scheduled = context.scheduled_execution_time
    as_of = scheduled.astimezone(TOKYO).date() if scheduled else today_in_tokyo()
    return nightly_run_config(as_of)


nightly_schedule = dg.ScheduleDefinition(
    name="nightly_schedule",
    job=nightly_job,
    cron_schedule=nightly_cron(),
    execution_timezone=TIMEZONE,
    run_config_fn=_scheduled_run_config,
    tags={"crm/trigger": "schedule"},
    default_status=default_schedule_status(),
    description=(
        "The nightly job as of the day of the tick in Asia/Tokyo (cron from CRM_NIGHTLY_CRON, "
        "default 0 3 * * *). RUNNING by default only when CRM_SCHEDULE_ENABLED=1."
    ),
)
