"""One load asset per landing feed: landing files → ``raw.<feed>`` (see crm.loading).

Each load asset carries two checks: the data freshness check and ``landing_files_accepted``, a
BLOCKING check (see ``crm.loading.landing_gate``): a refused suppressions or members file, a
rejected suppressions row, or a file of any feed refused for too many rejected rows fails it,
so the dbt models, exports and publication downstream are skipped (yesterday's files stay) and
an alert names the files and lines, never their content.
"""

from datetime import date
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from crm.contract import FEEDS, Feed
from crm.loading.landing_gate import BlockedFile, blocked_files
from crm.loading.loader import FeedLoadReport, LandingError, load_feed
from crm.loading.reject_share import RejectShares
from crm.ownership import WarehouseOwnedElsewhere, claim_warehouse
from crm.settings import Settings
from orchestration.alerts import Alert, send_alert
from orchestration.freshness import (
    NIGHTLY_LOAD_FRESHNESS,
    data_freshness_result,
    data_freshness_spec,
)
from orchestration.resources import TRANSIENT_RETRY, WAREHOUSE_POOL, WarehouseResource

GATE_CHECK = "landing_files_accepted"
GATE_REMEDY = (
    "land a corrected file under the same name in the feed folder (its ledger entry then "
    "replaces the refused one), then `make run` or re-execute the nightly job from the Dagster "
    "UI; the rejected rows are in raw._rejects (file, line, column, reason)"
)


def _metadata(report: FeedLoadReport) -> dict[str, dg.MetadataValue]:
    files = [
        {
            "file": f.source_file,
            "status": f.status,
            "rows": f.rows_in_file,
            "loaded": f.rows_loaded,
            "rejected": f.rows_rejected,
            "encoding": f.encoding,
            "message": f.message,
        }
        for f in report.files
    ]
    return {
        "folder": dg.MetadataValue.path(report.folder),
        "feed_present": dg.MetadataValue.bool(report.present),
        "files_loaded": dg.MetadataValue.int(report.count("loaded")),
        "files_refused": dg.MetadataValue.int(report.count("refused")),
        "files_already_loaded": dg.MetadataValue.int(report.count("already_loaded")),
        "files_waiting": dg.MetadataValue.int(report.count("waiting")),
        "rows_loaded": dg.MetadataValue.int(report.rows_loaded),
        "rows_rejected": dg.MetadataValue.int(report.rows_rejected),
        "files": dg.MetadataValue.json(files),
        "ignored_files": dg.MetadataValue.json(report.ignored_files),
    }


def gate_spec(feed: Feed) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        GATE_CHECK,
        asset=dg.AssetKey(["raw", feed.name]),
        blocking=True,
        description=(
            "Blocking: no latest file of the feed was refused for too many rejected rows "
            "(landing_reject_share_critical); for suppressions and members no latest file was "
            "refused, and for suppressions none has a rejected row."
        ),
    )


def gate_alert(feed: Feed, blocked: list[BlockedFile], as_of: str, run_id: str) -> Alert:
    return Alert(
        title=f"Landing gate failed on raw/{feed.name} as of {as_of}: models, exports and "
        "publication skipped, yesterday's files kept",
        what_failed="; ".join(b.describe() for b in blocked),
        how_to_rerun=GATE_REMEDY,
        asset=f"raw/{feed.name}",
        check=GATE_CHECK,
        run_id=run_id,
    )


def share_alert(feed: Feed, report: FeedLoadReport, shares: RejectShares, run_id: str) -> Alert:
    """Files that loaded with more rejected rows than the warning share (counts only)."""
    noisy = [
        f"{f.source_file}: {shares.warning_text(f.rows_rejected, f.rows_in_file)}"
        for f in report.files
        if f.status == "loaded" and shares.above_warning(f.rows_rejected, f.rows_in_file)
    ]
    return Alert(
        title=f"Many rejected rows in raw/{feed.name} (loaded; see raw._rejects)",
        what_failed="; ".join(noisy),
        how_to_rerun=(
            "ask the shop to correct the rows (raw._rejects has file, line and reason) and land "
            "a corrected file; a later version of the same keys replaces them"
        ),
        asset=f"raw/{feed.name}",
        run_id=run_id,
    )


def build_load_asset(feed: Feed) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["raw", feed.name]),
        name=None,
        group_name="landing",
        pool=WAREHOUSE_POOL,
        kinds={"duckdb", "python"},
        check_specs=[data_freshness_spec(feed), gate_spec(feed)],
        freshness_policy=NIGHTLY_LOAD_FRESHNESS,
        retry_policy=TRANSIENT_RETRY,
        description=(
            f"Loads the `{feed.name}` landing files ({feed.description}) into `raw.{feed.name}`; "
            "bad rows go to `raw._rejects`, every file to `raw._load_ledger`."
            + (" Required feed." if feed.required else " Optional feed.")
        ),
    )
    def load(context: AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        shares = RejectShares.from_dbt_project()
        with warehouse.connect() as conn:
            try:
                claim_warehouse(conn, warehouse.claim(), warehouse.build_path)  # one shop only
                report = load_feed(conn, Path(warehouse.landing_dir), feed.name, shares)
            except (LandingError, WarehouseOwnedElsewhere) as exc:  # retrying will not help
                raise dg.Failure(str(exc), allow_retries=False) from exc
            freshness = data_freshness_result(conn, feed, date.fromisoformat(warehouse.as_of_date))
            blocked = blocked_files(conn, feed.name)
        settings: Settings = warehouse.to_settings()
        for file in report.files:
            if file.status in ("refused", "waiting"):
                context.log.warning(f"{file.source_file} {file.status}: {file.message}")
            elif file.rows_rejected:
                context.log.warning(
                    f"{file.source_file}: {file.rows_rejected} of {file.rows_in_file} rows "
                    "rejected (see raw._rejects)"
                )
        if not report.present:
            context.log.info(f"no {feed.name} feed in {warehouse.landing_dir}: skipped")
        noisy = share_alert(feed, report, shares, context.run.run_id)
        if noisy.what_failed:
            log = send_alert(noisy, settings)
            context.log.warning(f"{noisy.render()}\n(alert written to {log})")
        if blocked:
            alert = gate_alert(feed, blocked, warehouse.as_of_date, context.run.run_id)
            log = send_alert(alert, settings)
            context.log.error(f"{alert.render()}\n(alert written to {log})")
        gate = dg.AssetCheckResult(
            check_name=GATE_CHECK,
            passed=not blocked,
            severity=dg.AssetCheckSeverity.ERROR,
            description=(
                "; ".join(b.describe() for b in blocked) if blocked else "no blocking file"
            ),
            metadata={
                "blocked_files": dg.MetadataValue.json([b.source_file for b in blocked]),
            },
        )
        return dg.MaterializeResult(metadata=_metadata(report), check_results=[freshness, gate])

    return load


load_assets: list[dg.AssetsDefinition] = [build_load_asset(feed) for feed in FEEDS.values()]
