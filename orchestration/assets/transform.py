"""The dbt project as Dagster assets: `dbt build` (seeds, models, data tests as asset checks).

The business date reaches dbt as CRM_AS_OF_DATE in the environment (macros/as_of_date.sql), not
as `--vars`: dbt parses the whole project again whenever `--vars` change, which a new date every
night would cost (about 15 s); with the date in the environment it parses only what changed.

The nightly build leaves out dbt's unit tests: they pin the SQL of the business rules against
fixed rows, so they change only when the project does, and they cost about 20 s a night. `make
test` runs them (tests/python/test_dbt_unit_tests.py), as does `dbt test --select
test_type:unit` by hand.
"""

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
    apply_dbt_environment(warehouse)  # CRM_AS_OF_DATE among the rest
    yield from dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context).stream()
