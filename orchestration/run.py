"""`make run`: the nightly job, once, in-process, honouring the four CRM_* settings.

When CRM_LANDING_DIR is not set, the bundled demo shop is generated on first run under
data/demo_landing (a few thousand customers, two years up to CRM_AS_OF_DATE).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from contextlib import nullcontext

import dagster as dg

from crm.loading.landing_area import quiet_seconds
from crm.ownership import Claim, check_build_file
from crm.settings import Settings, SettingsError, apply_private_umask

DEMO_CUSTOMERS = 3000
DEMO_DAYS = 730


def ensure_demo_landing(settings: Settings) -> None:
    """Generate the bundled demo shop once; written aside and renamed into place, so an
    interrupted generation never leaves a half landing area behind. Its files are complete when
    renamed into place: they are dated back past the loader's quiet period
    (CRM_LANDING_QUIET_SECONDS), so this run loads them at once."""
    if not settings.uses_demo_landing or (settings.landing_dir / "orders").is_dir():
        return
    from crm.demo import generate_shop

    print(f"Generating the demo shop in {settings.landing_dir} ...", flush=True)
    partial = settings.landing_dir.with_name(settings.landing_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    summary = generate_shop(
        partial,
        customers=DEMO_CUSTOMERS,
        days=DEMO_DAYS,
        end_date=settings.as_of_date,
    )
    settled = time.time() - quiet_seconds() - 1
    for path in partial.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, (settled, settled))
    shutil.rmtree(settings.landing_dir, ignore_errors=True)
    partial.rename(settings.landing_dir)
    counts = ", ".join(f"{feed} {n:,}" for feed, n in summary.rows.items())
    print(f"  {len(summary.files)} files ({counts}) in {summary.seconds:.1f} s", flush=True)


def run_nightly(
    settings: Settings,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "INFO",
) -> dg.ExecuteInProcessResult:
    """Run the nightly job in-process and return its result (``.success``, events, checks).

    A given ``instance`` is left open for the caller (e.g. to read the run's event log).
    Raises ``crm.ownership.WarehouseOwnedElsewhere`` before anything runs when the warehouse
    was built from another shop's landing area.
    """
    apply_private_umask()  # every file the run writes: 0640, every folder 0750 (or tighter)
    check_ownership(settings)
    from orchestration.definitions import build_definitions
    from orchestration.docs_site import DOCS_GROUP
    from orchestration.resources import WarehouseResource, apply_dbt_environment

    warehouse = WarehouseResource.from_settings(settings)
    apply_dbt_environment(warehouse)
    definitions = build_definitions(settings)
    job = definitions.resolve_job_def("nightly")
    selection = None
    if os.environ.get("CRM_DOCS_SITE", "1").strip() == "0":  # e.g. the test suite's many runs
        selection = [
            key for key in job.asset_layer.executable_asset_keys if key.path[0] != DOCS_GROUP
        ]
    # A caller's instance stays open (its event log can be read afterwards); ours is disposed.
    with nullcontext(instance) if instance else dg.DagsterInstance.ephemeral() as active:
        result = job.execute_in_process(
            instance=active,
            raise_on_error=False,
            asset_selection=selection,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        )
        if not result.success:  # the same alert the UI's run_failure_alert sensor writes
            from orchestration.alerts import send_alert
            from orchestration.sensors import failure_alert

            send_alert(failure_alert(active, result.dagster_run, in_process=True), settings)
        return result


def check_ownership(settings: Settings) -> None:
    """Refuse early a warehouse built from another landing root or shop (see crm.ownership);
    the load steps check again, and claim a warehouse nobody claimed yet."""
    claim = Claim(settings.landing_dir, settings.shop_id, settings.adopt_landing)
    check_build_file(settings.build_path, claim)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="Dagster's console log level (default INFO)",
    )
    args = parser.parse_args(argv)
    apply_private_umask()  # the demo shop generated below holds (fake) personal data too
    try:
        settings = Settings.from_env()
        check_ownership(settings)
    except SettingsError as exc:  # also WarehouseOwnedElsewhere: nothing is loaded
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    print(
        f"Nightly run as of {settings.as_of_date} (Asia/Tokyo)\n"
        f"  landing:   {settings.landing_dir}"
        f"{' (demo shop)' if settings.uses_demo_landing else ''}\n"
        f"  warehouse: {settings.warehouse_path} (built in {settings.build_path.name})\n"
        f"  exports:   {settings.export_dir}",
        flush=True,
    )
    ensure_demo_landing(settings)
    if not (settings.landing_dir / "orders").is_dir():
        print(
            f"error: no orders feed in CRM_LANDING_DIR={settings.landing_dir} "
            "(expected a folder orders/ with one or more files)",
            file=sys.stderr,
        )
        return 2
    ok = run_nightly(settings, log_level=args.log_level).success
    elapsed = time.monotonic() - started
    if not ok:
        print(f"Nightly run FAILED after {elapsed:.0f} s; see the log above.", file=sys.stderr)
        print(f"Quality report: {_quality_report(settings)}", file=sys.stderr)
        return 1
    from orchestration.summary import summarize

    print(summarize(settings.build_path).render())
    print(f"  quality report: {_quality_report(settings)}")
    print(f"  warehouse for BI (published): {settings.warehouse_path}")
    from orchestration.docs_site import docs_site_path

    if os.environ.get("CRM_DOCS_SITE", "1").strip() != "0":
        print(f"  dbt docs: {docs_site_path(settings.build_path)}")
    print(f"Nightly run finished in {elapsed:.0f} s.")
    return 0


def _quality_report(settings: Settings) -> str:
    from crm.quality.runner import quality_dir_for

    page = quality_dir_for(settings.build_path) / settings.as_of_date.isoformat() / "index.html"
    return str(page) if page.exists() else "none written"


if __name__ == "__main__":
    raise SystemExit(main())
