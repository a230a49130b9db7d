"""The dbt project as Dagster assets: `dbt build` (seeds, models, tests as asset checks)."""

import json
from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt_project import dbt_project, ensure_manifest
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource, apply_dbt_environment

ensure_manifest()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    pool=WAREHOUSE_POOL,
    name="crm_dbt_models",
)
def crm_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    apply_dbt_environment(warehouse)
    variables = json.dumps({"as_of_date": warehouse.as_of_date})
    yield from dbt.cli(["build", "--vars", variables], context=context).stream()
