"""The one Dagster `Definitions` of the project (`dagster dev -m orchestration.definitions`)."""

from __future__ import annotations

import dagster as dg

from crm.settings import Settings
from orchestration.assets.exports import export_assets
from orchestration.assets.landing import load_assets
from orchestration.assets.transform import crm_dbt_models
from orchestration.jobs import exports_job, nightly_job
from orchestration.resources import WarehouseResource, dbt_resource


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[*load_assets, crm_dbt_models, *export_assets],
        jobs=[nightly_job, exports_job],
        resources={
            "warehouse": WarehouseResource.from_settings(settings),
            "dbt": dbt_resource(),
        },
    )


defs = build_definitions(Settings.from_env())
