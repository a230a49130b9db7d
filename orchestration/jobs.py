"""The nightly job: load every feed, then build and test the dbt project."""

from __future__ import annotations

import dagster as dg

nightly_job = dg.define_asset_job(
    name="nightly",
    selection=dg.AssetSelection.all(),
    description=(
        "The nightly refresh: load the landing files into raw, then `dbt build` (staging, "
        "intermediate and marts models with their tests) as of CRM_AS_OF_DATE."
    ),
)
