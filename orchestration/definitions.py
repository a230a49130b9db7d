"""The one Dagster `Definitions` of the project (`dagster dev -m orchestration.definitions`)."""

from __future__ import annotations

import dagster as dg

from crm.settings import Settings, apply_private_umask
from orchestration.assets.consent import consent_held_back
from orchestration.assets.exports import export_assets
from orchestration.assets.landing import load_assets
from orchestration.assets.publish import publish_warehouse_asset
from orchestration.assets.quality import quality_checks
from orchestration.assets.transform import crm_dbt_models
from orchestration.docs_site import dbt_docs_site
from orchestration.jobs import exports_job, nightly_job
from orchestration.resources import WarehouseResource, dbt_resource
from orchestration.schedules import nightly_schedule
from orchestration.sensors import landing_files_sensor, run_failure_alert


def build_definitions(settings: Settings) -> dg.Definitions:
    apply_private_umask()  # `make ui`, the daemon and their step processes write run files too
    return dg.Definitions(
        assets=[
            *load_assets,
            crm_dbt_models,
            *export_assets,
            dbt_docs_site,
            publish_warehouse_asset,
        ],
        asset_checks=[*quality_checks, consent_held_back],
        jobs=[nightly_job, exports_job],
        schedules=[nightly_schedule],
        sensors=[landing_files_sensor, run_failure_alert],
        resources={
            "warehouse": WarehouseResource.from_settings(settings),
            "dbt": dbt_resource(),
        },
    )


defs = build_definitions(Settings.from_env())
