"""``publish/warehouse``: the night's marts, audiences and reference tables for BI readers.

Downstream of every published dbt model and every export, so it runs only when the whole night
(quality gates included) succeeded; otherwise yesterday's published file stays as it was. Only
columns documented as non-personal are published (see :mod:`crm.quality.publish`); the others are
withheld, listed in the asset's metadata, a warning and an alert.
"""

from datetime import date
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from crm.exports.audiences import load_manifest
from crm.quality.publish import PUBLISHED_SCHEMAS, STORAGE_VERSION, publish_warehouse
from orchestration.alerts import Alert, send_alert
from orchestration.assets.exports import export_assets
from orchestration.assets.transform import crm_dbt_models
from orchestration.dbt_project import ensure_manifest
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource

PUBLISH_KEY = dg.AssetKey(["publish", "warehouse"])
RERUN_WITHHELD = (
    "if a withheld column holds no personal data, document it in its model's yml (the model with "
    "meta contains_personal_data: false); otherwise remove it from the model. Then `make run`"
)


def _by_table_and_reason(withheld: dict[str, str]) -> dict[tuple[str, str], list[str]]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for name, why in sorted(withheld.items()):
        table, _, column = name.rpartition(".")
        grouped.setdefault((table, why), []).append(column)
    return grouped


def withheld_alert(withheld: dict[str, str], as_of_date: str, run_id: str) -> Alert:
    """Names the withheld columns and why, never a value."""
    return Alert(
        title=f"Publication as of {as_of_date}: {len(withheld)} column(s) withheld from the BI "
        "file (the rest was published)",
        what_failed="; ".join(
            f"{table}: {', '.join(columns)} ({why})"
            for (table, why), columns in _by_table_and_reason(withheld).items()
        ),
        how_to_rerun=RERUN_WITHHELD,
        asset=PUBLISH_KEY.to_user_string(),
        run_id=run_id,
    )


def _published_model_keys() -> list[dg.AssetKey]:
    return sorted(
        (key for key in crm_dbt_models.keys if key.path[0] in PUBLISHED_SCHEMAS),
        key=lambda key: key.to_user_string(),
    )


@dg.asset(
    key=PUBLISH_KEY,
    group_name="publish",
    pool=WAREHOUSE_POOL,
    deps=[*_published_model_keys(), *(key for a in export_assets for key in a.keys)],
    kinds={"duckdb"},
    description=(
        "Copies the marts, audiences and reference tables (the columns documented as "
        "non-personal; others withheld) to "
        "CRM_WAREHOUSE_PATH, the file BI tools read (the run builds CRM_BUILD_PATH), in "
        "DuckDB storage "
        f"{STORAGE_VERSION}, written aside and swapped in atomically."
    ),
)
def publish_warehouse_asset(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    settings = warehouse.to_settings()
    publication = publish_warehouse(
        Path(warehouse.build_path),
        settings.warehouse_path,
        date.fromisoformat(warehouse.as_of_date),
        load_manifest(ensure_manifest()),
    )
    if publication.withheld:
        alert = withheld_alert(publication.withheld, warehouse.as_of_date, context.run.run_id)
        log = send_alert(alert, settings)
        context.log.warning(f"{alert.render()}\n(alert written to {log})")
    how = (
        "from yesterday's file, partitions copied again: "
        + (", ".join(f"{t} {n}" for t, n in publication.partitions_copied.items()) or "none")
        if publication.incremental
        else "written afresh"
    )
    context.log.info(
        f"published {len(publication.tables)} tables to {publication.path} "
        f"({publication.bytes:,} bytes; {how})"
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(publication.path)),
            "as_of_date": dg.MetadataValue.text(warehouse.as_of_date),
            "storage_version": dg.MetadataValue.text(STORAGE_VERSION),
            "tables": dg.MetadataValue.int(len(publication.tables)),
            "rows": dg.MetadataValue.json(publication.tables),
            "bytes": dg.MetadataValue.int(publication.bytes),
            "incremental": dg.MetadataValue.bool(publication.incremental),
            "partitions_copied": dg.MetadataValue.json(publication.partitions_copied),
            "withheld_columns": dg.MetadataValue.json(publication.withheld),
        }
    )
