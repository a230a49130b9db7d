"""One export asset per audience × channel (``exports/<audience>/<channel>``), from the manifest.

The audiences are read from the dbt manifest when the definitions load: a new audience model
with ``meta.audience`` in its yml gets its export assets without any Python change.
"""

from datetime import date
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import get_asset_key_for_model

from crm.exports import Audience, ExportResult, discover_audiences, export_audience
from crm.exports.audiences import CONTACTS_MODEL, contacts_relation, load_manifest
from orchestration.assets.quality import GATED_MART_KEYS
from orchestration.assets.transform import crm_dbt_models
from orchestration.dbt_project import dbt_project
from orchestration.resources import TRANSIENT_RETRY, WAREHOUSE_POOL, WarehouseResource

EXPORTS_GROUP = "exports"


def export_metadata(result: ExportResult) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {
        "rows_exported": dg.MetadataValue.int(result.exported),
        "rows_held_out": dg.MetadataValue.int(result.held_out),
    }
    for step, rows in result.funnel:
        metadata[f"rows_{step}"] = dg.MetadataValue.int(rows)
    metadata["rows_consent_uncertain"] = dg.MetadataValue.int(len(result.consent_uncertain))
    metadata["rows_held_back_too_long"] = dg.MetadataValue.int(len(result.too_long))
    metadata["replaced_characters"] = dg.MetadataValue.int(result.replaced_characters)
    metadata["neutralised_cells"] = dg.MetadataValue.int(result.neutralised_cells)
    metadata["path"] = dg.MetadataValue.path(str(result.folder / f"{result.channel}.csv"))
    metadata["manifest"] = dg.MetadataValue.path(str(result.manifest_path))
    return metadata


def build_export_asset(
    audience: Audience, channel: str, contacts: str, deps: list[dg.AssetKey]
) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey([EXPORTS_GROUP, audience.name, channel]),
        name=None,
        group_name=EXPORTS_GROUP,
        pool=WAREHOUSE_POOL,
        retry_policy=TRANSIENT_RETRY,
        deps=deps,
        kinds={"python", "duckdb", "csv"},
        tags={"audience": audience.name, "channel": channel},
        description=(
            f"{channel} export of the audience `{audience.name}`"
            + (f": {audience.description}" if audience.description else "")
            + (f" (owner: {audience.owner})" if audience.owner else "")
            + f". Holdout share {audience.holdout_share:g}; files in "
            f"CRM_EXPORT_DIR/<as-of date>/{audience.name}/{channel}.*"
        ),
    )
    def export(
        context: AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        with warehouse.connect() as conn:
            result = export_audience(
                conn,
                audience,
                channel,
                contacts_relation=contacts,
                export_dir=Path(warehouse.export_dir),
                as_of_date=date.fromisoformat(warehouse.as_of_date),
            )
        funnel = " → ".join(f"{step} {rows:,}" for step, rows in result.funnel)
        context.log.info(
            f"{audience.name}/{channel}: {funnel}; exported {result.exported:,}, "
            f"held out {result.held_out:,} → {result.folder}"
        )
        if result.consent_uncertain:
            context.log.warning(
                f"{audience.name}/{channel}: {len(result.consent_uncertain)} customer(s) held "
                "back: a rejected members or suppressions row names them (customer ids in "
                f"the manifest and intermediate.int_consent_rows_rejected)"
            )
        if result.too_long:
            context.log.warning(
                f"{audience.name}/{channel}: {len(result.too_long)} row(s) held back: a value "
                "is longer than its limit in the seed export_field_limits (see the manifest)"
            )
        if result.replaced_characters:
            context.log.warning(
                f"{audience.name}/{channel}: {result.replaced_characters} characters could "
                "not be encoded in CP932 and were replaced by 〓 (see the manifest)"
            )
        return dg.MaterializeResult(metadata=export_metadata(result))

    return export


def build_export_assets(
    manifest_path: Path, dbt_assets: dg.AssetsDefinition
) -> list[dg.AssetsDefinition]:
    manifest = load_manifest(manifest_path)
    audiences = discover_audiences(manifest)
    if not audiences:
        return []
    contacts = contacts_relation(manifest)
    contacts_key = get_asset_key_for_model([dbt_assets], CONTACTS_MODEL)
    return [
        build_export_asset(
            audience,
            channel,
            contacts,
            # The gated marts too: a failed critical quality check on them skips the exports.
            [get_asset_key_for_model([dbt_assets], audience.name), contacts_key, *GATED_MART_KEYS],
        )
        for audience in audiences
        for channel in audience.channels
    ]


export_assets: list[dg.AssetsDefinition] = build_export_assets(
    dbt_project.manifest_path, crm_dbt_models
)
