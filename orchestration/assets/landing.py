"""One load asset per landing feed: landing files → ``raw.<feed>`` (see crm.loading)."""

from datetime import date
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from crm.contract import FEEDS, Feed
from crm.loading.loader import FeedLoadReport, LandingError, load_feed
from crm.ownership import WarehouseOwnedElsewhere, claim_warehouse
from orchestration.freshness import (
    NIGHTLY_LOAD_FRESHNESS,
    data_freshness_result,
    data_freshness_spec,
)
from orchestration.resources import TRANSIENT_RETRY, WAREHOUSE_POOL, WarehouseResource


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
        "rows_loaded": dg.MetadataValue.int(report.rows_loaded),
        "rows_rejected": dg.MetadataValue.int(report.rows_rejected),
        "files": dg.MetadataValue.json(files),
        "ignored_files": dg.MetadataValue.json(report.ignored_files),
    }


def build_load_asset(feed: Feed) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["raw", feed.name]),
        name=None,
        group_name="landing",
        pool=WAREHOUSE_POOL,
        kinds={"duckdb", "python"},
        check_specs=[data_freshness_spec(feed)],
        freshness_policy=NIGHTLY_LOAD_FRESHNESS,
        retry_policy=TRANSIENT_RETRY,
        description=(
            f"Loads the `{feed.name}` landing files ({feed.description}) into `raw.{feed.name}`; "
            "bad rows go to `raw._rejects`, every file to `raw._load_ledger`."
            + (" Required feed." if feed.required else " Optional feed.")
        ),
    )
    def load(context: AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as conn:
            try:
                claim_warehouse(conn, warehouse.claim(), warehouse.build_path)  # one shop only
                report = load_feed(conn, Path(warehouse.landing_dir), feed.name)
            except (LandingError, WarehouseOwnedElsewhere) as exc:  # retrying will not help
                raise dg.Failure(str(exc), allow_retries=False) from exc
            freshness = data_freshness_result(conn, feed, date.fromisoformat(warehouse.as_of_date))
        for file in report.files:
            if file.status == "refused":
                context.log.warning(f"{file.source_file} refused: {file.message}")
            elif file.rows_rejected:
                context.log.warning(
                    f"{file.source_file}: {file.rows_rejected} of {file.rows_in_file} rows "
                    "rejected (see raw._rejects)"
                )
        if not report.present:
            context.log.info(f"no {feed.name} feed in {warehouse.landing_dir}: skipped")
        return dg.MaterializeResult(metadata=_metadata(report), check_results=[freshness])

    return load


load_assets: list[dg.AssetsDefinition] = [build_load_asset(feed) for feed in FEEDS.values()]
