"""Dagster resources: the warehouse (DuckDB file, landing area, business date) and dbt."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from crm.file_modes import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, restrict, restrict_tree
from crm.loading.raw_layer import raw_folder_of
from crm.ownership import Claim
from crm.settings import Settings, apply_private_umask, duckdb_config, duckdb_temp_dir
from orchestration.dbt_project import dbt_project

#: Every asset, check and dbt step that writes the warehouse runs in this pool. DuckDB allows one
#: writing process per file, so `dagster.yaml` limits the pool to one step at a time.
WAREHOUSE_POOL = "warehouse"
#: The build database holds personal data: owner read/write, group read, nobody else.
BUILD_FILE_MODE = PRIVATE_FILE_MODE

#: Retries for the load and export steps: transient trouble (the warehouse file locked by
#: another writer, a landing file still being replaced, a full temp disk) often clears within
#: a minute. Deterministic failures raise ``dg.Failure(allow_retries=False)`` and are not
#: retried; the dbt step is never retried (its test failures are deterministic).
TRANSIENT_RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL)


class WarehouseResource(dg.ConfigurableResource):
    """The build database and published warehouse of a run, its landing area and business date."""

    #: CRM_WAREHOUSE_PATH: the finished warehouse BI tools read (only ever replaced by rename).
    warehouse_path: str
    #: CRM_BUILD_PATH: the DuckDB file this run loads, builds and exports from.
    build_path: str
    landing_dir: str
    export_dir: str
    as_of_date: str
    #: CRM_SHOP_ID (empty: not set) and CRM_ADOPT_LANDING: who may load into this warehouse
    #: (see crm.ownership).
    shop_id: str = ""
    adopt_landing: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseResource:
        return cls(
            warehouse_path=str(settings.warehouse_path),
            build_path=str(settings.build_path),
            landing_dir=str(settings.landing_dir),
            export_dir=str(settings.export_dir),
            as_of_date=settings.as_of_date.isoformat(),
            shop_id=settings.shop_id or "",
            adopt_landing=settings.adopt_landing,
        )

    def to_settings(self) -> Settings:
        """The run's settings (for alerts and the publication)."""
        return Settings(
            landing_dir=Path(self.landing_dir),
            warehouse_path=Path(self.warehouse_path),
            export_dir=Path(self.export_dir),
            as_of_date=date.fromisoformat(self.as_of_date),
            uses_demo_landing=False,
            build_override=Path(self.build_path),
            shop_id=self.shop_id or None,
            adopt_landing=self.adopt_landing,
        )

    def claim(self) -> Claim:
        """This run's claim on the warehouse (checked before loading, see crm.ownership)."""
        return Claim(Path(self.landing_dir), self.shop_id or None, self.adopt_landing)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        path = Path(self.build_path)
        if not read_only:
            apply_private_umask()  # the WAL and spill files DuckDB creates: 0640, folders 0750
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = duckdb.connect(str(path), read_only=read_only, config=duckdb_config(path))
        if not read_only:
            restrict_build_files(path)  # they hold personal data (raw members, export contacts)
        conn.execute("set enable_progress_bar = false")
        try:
            yield conn
        finally:
            conn.close()

    def dbt_environment(self) -> dict[str, str]:
        """Environment for dbt: profiles.yml reads the build database's path from it."""
        return {
            "CRM_BUILD_PATH": self.build_path,
            "CRM_WAREHOUSE_PATH": self.warehouse_path,
            "CRM_LANDING_DIR": self.landing_dir,
            "CRM_EXPORT_DIR": self.export_dir,
            "CRM_AS_OF_DATE": self.as_of_date,
        }


def restrict_build_files(build_path: Path) -> None:
    """The build database, its WAL, its raw folder and its default spill folder (``<build>.tmp``,
    not a folder named by CRM_DUCKDB_TEMP_DIR, which may be shared) as a looser umask may have
    left them."""
    restrict(build_path, BUILD_FILE_MODE)
    restrict(build_path.with_name(build_path.name + ".wal"), BUILD_FILE_MODE)
    restrict_tree(raw_folder_of(build_path))  # the raw rows (crm/loading/raw_layer.py)
    spill = duckdb_temp_dir(build_path)
    if spill == build_path.with_name(build_path.name + ".tmp"):
        restrict(spill, PRIVATE_DIR_MODE)


def dbt_resource() -> DbtCliResource:
    """dbt from the same environment as this Python (so `dbt` need not be on PATH)."""
    executable = Path(sys.executable).parent / "dbt"
    return DbtCliResource(
        project_dir=dbt_project,
        dbt_executable=str(executable) if executable.exists() else "dbt",
        profiles_dir=str(dbt_project.profiles_dir),
    )


def apply_dbt_environment(warehouse: WarehouseResource) -> None:
    """dbt runs as a child process and inherits os.environ: point it at this run's warehouse."""
    os.environ.update(warehouse.dbt_environment())
