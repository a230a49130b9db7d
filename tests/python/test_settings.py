"""The four settings: defaults, overrides and a clear error for a bad date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crm.settings import (
    DEFAULT_EXPORT_DIR,
    DEFAULT_LANDING_DIR,
    DEFAULT_WAREHOUSE_PATH,
    Settings,
    SettingsError,
    today_in_tokyo,
)


def test_defaults_use_the_demo_shop_and_today_in_tokyo():
    settings = Settings.from_env({})
    assert settings.uses_demo_landing
    assert settings.landing_dir == DEFAULT_LANDING_DIR
    assert settings.warehouse_path == DEFAULT_WAREHOUSE_PATH
    assert settings.build_path == DEFAULT_WAREHOUSE_PATH.with_name("warehouse.build.duckdb")
    assert settings.export_dir == DEFAULT_EXPORT_DIR
    assert settings.as_of_date == today_in_tokyo()


def test_every_setting_can_be_overridden(tmp_path: Path):
    settings = Settings.from_env(
        {
            "CRM_LANDING_DIR": str(tmp_path / "in"),
            "CRM_WAREHOUSE_PATH": str(tmp_path / "w.duckdb"),
            "CRM_EXPORT_DIR": str(tmp_path / "out"),
            "CRM_AS_OF_DATE": "1998-06-30",
        }
    )
    assert not settings.uses_demo_landing
    assert settings.landing_dir == tmp_path / "in"
    assert settings.warehouse_path == tmp_path / "w.duckdb"
    assert settings.build_path == tmp_path / "w.build.duckdb"
    assert settings.as_env()["CRM_BUILD_PATH"] == str(tmp_path / "w.build.duckdb")
    assert settings.export_dir == tmp_path / "out"
    assert settings.as_of_date == date(1998, 6, 30)
    assert settings.as_env()["CRM_AS_OF_DATE"] == "1998-06-30"


@pytest.mark.parametrize("bad", ["1998/06/30", "30-06-1998", "yesterday", "1998-02-30"])
def test_a_bad_as_of_date_is_a_clear_error(bad: str):
    with pytest.raises(SettingsError, match="CRM_AS_OF_DATE must be a date in the form YYYY-MM-DD"):
        Settings.from_env({"CRM_AS_OF_DATE": bad})


def test_duckdb_spills_beside_the_warehouse_or_into_crm_duckdb_temp_dir(tmp_path, monkeypatch):
    import duckdb

    from crm.settings import duckdb_config

    warehouse = tmp_path / "w.duckdb"
    monkeypatch.delenv("CRM_DUCKDB_TEMP_DIR", raising=False)
    monkeypatch.setenv("CRM_DUCKDB_MEMORY_LIMIT", "1GB")
    assert duckdb_config(warehouse)["temp_directory"] == str(tmp_path / "w.duckdb.tmp")
    monkeypatch.setenv("CRM_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    config = duckdb_config(warehouse)
    assert config["temp_directory"] == str(tmp_path / "spill")
    with duckdb.connect(str(warehouse), config=config) as conn:
        setting = conn.execute("select current_setting('temp_directory')").fetchone()[0]
        limit = conn.execute("select current_setting('memory_limit')").fetchone()[0]
    assert setting == str(tmp_path / "spill")
    assert limit.startswith(("953", "1.0"))  # 1GB, shown in GiB or MiB
