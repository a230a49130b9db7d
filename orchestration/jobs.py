"""The nightly job (load → dbt build → exports) and the exports alone, for a re-run."""

from __future__ import annotations

import dagster as dg

nightly_job = dg.define_asset_job(
    name="nightly",
    selection=dg.AssetSelection.all(),
    description=(
        "The nightly refresh: load the landing files into raw, then `dbt build` (staging, "
        "intermediate, marts, audience and export-contact models with their tests) as of "
        "CRM_AS_OF_DATE, then one export per audience × channel into CRM_EXPORT_DIR, then the "
        "publication for BI readers (publish/warehouse). Critical quality gates (gx_* asset "
        "checks) skip everything downstream of a failure."
    ),
)

exports_job = dg.define_asset_job(
    name="exports",
    selection=dg.AssetSelection.groups("exports"),
    description=(
        "Only the audience exports, from the audiences and contacts already built: re-running "
        "a night rewrites the same files and replaces that night's export history."
    ),
)
