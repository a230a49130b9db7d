"""Shared fixtures: a fresh DuckDB connection, landing-area helpers, and `dbt` on PATH."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from crm.settings import PROJECT_DIR, Settings

# dagster-dbt starts `dbt` as a child process: use the one installed beside this Python.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
# The dbt docs site step (~35 s) runs only in the session's shared shop, which tests it.
os.environ["CRM_DOCS_SITE"] = "0"
# Tests generate landing files and load them at once: no quiet period (tests of it set their own).
os.environ["CRM_LANDING_QUIET_SECONDS"] = "0"

REPO = Path(__file__).resolve().parents[2]
TEST_DATA = REPO / "tests" / "data"


def run_dbt(
    project: Path, tmp_path: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    """`dbt <args>` on ``project`` in a child process with ``env`` on top of this process's
    environment; target and log folders under ``tmp_path``. The caller checks the return code."""
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *args,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def dbt_on_build(build: Path, tmp_path: Path, *args: str) -> None:
    """`dbt <args>` on this project and the warehouse file ``build``; must succeed."""
    completed = run_dbt(PROJECT_DIR, tmp_path, {"CRM_BUILD_PATH": str(build)}, *args)
    assert completed.returncode == 0, completed.stdout[-3000:]


def table_contents(build: Path, tables: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Rows and an order-independent hash of each table of ``build`` but the columns its value
    names (run metadata, e.g. ``"_staged_as_of, _load_id"``; empty for none): to compare an
    incremental table with a full rebuild."""
    with duckdb.connect(str(build), read_only=True) as connection:
        return {
            table: connection.execute(
                f"select count(*), sum(hash(columns(* exclude ({metadata})))) from {table}"
                if metadata
                else f"select count(*), sum(hash(columns(*))) from {table}"
            ).fetchone()
            for table, metadata in tables.items()
        }


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root


def write_feed_file(
    landing: Path, feed: str, name: str, text: str, encoding: str = "utf-8"
) -> Path:
    folder = landing / feed
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


#: The business date of the shared generated shop.
AS_OF = date(2025, 6, 30)


#: The shop id of every test shop: tests copy a shop's build database and landing area to new
#: folders (the same shop, moved), which a warehouse accepts only from the same CRM_SHOP_ID.
TEST_SHOP_ID = "test-shop"


def settings_for(root: Path, landing: Path, as_of: date = AS_OF) -> Settings:

    return Settings.from_env(
        {
            "CRM_SHOP_ID": TEST_SHOP_ID,
            "CRM_LANDING_DIR": str(landing),
            "CRM_WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
            "CRM_EXPORT_DIR": str(root / "exports"),
            "CRM_AS_OF_DATE": as_of.isoformat(),
        }
    )


def query(settings: Settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.build_path), read_only=True) as conn:
        return conn.execute(sql).df()


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dg.ExecuteInProcessResult]:
    """A small generated shop (400 customers, 400 days up to AS_OF) after one nightly run."""
    from crm.demo import generate_shop
    from orchestration.run import run_nightly

    root = tmp_path_factory.mktemp("shop")
    landing = root / "landing"
    generate_shop(landing, customers=400, days=400, end_date=AS_OF, seed=11)
    settings = settings_for(root, landing)
    os.environ["CRM_DOCS_SITE"] = "1"
    try:
        result = run_nightly(settings)
    finally:
        os.environ["CRM_DOCS_SITE"] = "0"
    assert result.success
    return settings, result


#: CDNOW's business date: the day after its last purchase month.
CDNOW_AS_OF = date(1998, 6, 30)


@pytest.fixture(scope="session")
def cdnow_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real CDNOW purchase history after one nightly run as of ``CDNOW_AS_OF`` (built once
    per test session; tests read it only)."""
    from crm.cdnow import convert
    from orchestration.run import run_nightly

    root = tmp_path_factory.mktemp("cdnow")
    landing = root / "landing"
    convert(TEST_DATA / "cdnow" / "CDNOW_master.txt", landing)
    settings = Settings.from_env(
        {
            "CRM_LANDING_DIR": str(landing),
            "CRM_WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
            "CRM_EXPORT_DIR": str(root / "exports"),
            "CRM_AS_OF_DATE": CDNOW_AS_OF.isoformat(),
        }
    )
    assert run_nightly(settings).success, "the nightly job failed on CDNOW"
    return settings.build_path
