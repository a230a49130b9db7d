"""The four settings every run honours (see docs/landing-contract.md), read from the environment.

Run times are shop time (Asia/Tokyo): ``shop_now`` and ``today_in_tokyo`` are the one place a
run reads the clock, so tests can freeze it (patch ``crm.settings.datetime``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")

#: The repository root (this file is crm/settings.py).
PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_DIR / "data"
DEFAULT_LANDING_DIR = DATA_DIR / "demo_landing"
DEFAULT_WAREHOUSE_PATH = DATA_DIR / "warehouse.duckdb"
DEFAULT_EXPORT_DIR = DATA_DIR / "exports"


class SettingsError(ValueError):
    """A setting has a value the run cannot use."""


#: CRM_AS_OF_DATE: exactly YYYY-MM-DD (``date.fromisoformat`` would also take ``20250331``).
_AS_OF_FORM = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
#: The accepted values of a yes/no setting (CRM_ADOPT_LANDING); anything else is an error.
_YES, _NO = ("1", "true", "yes"), ("", "0", "false", "no")


def today_in_tokyo() -> date:
    return datetime.now(TOKYO).date()


def shop_now() -> datetime:
    """Now in shop time (Asia/Tokyo), naive: what a run stores in a TIMESTAMP column, the same
    clock as the business times (``ordered_at`` ...) it is compared with."""
    return datetime.now(TOKYO).replace(tzinfo=None)


def parse_as_of_date(text: str) -> date:
    stripped = text.strip()
    message = f"CRM_AS_OF_DATE must be a date in the form YYYY-MM-DD, got {text!r}"
    if not _AS_OF_FORM.fullmatch(stripped):
        raise SettingsError(message)
    try:
        return date.fromisoformat(stripped)
    except ValueError as exc:  # e.g. 2025-02-30
        raise SettingsError(f"{message} (no such date)") from exc


def _flag(env: dict[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value not in _YES + _NO:
        raise SettingsError(f"{name} must be 1 or 0, got {env[name]!r}")
    return value in _YES


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    #: CRM_WAREHOUSE_PATH: the finished warehouse BI tools read. The nightly run never writes
    #: it in place: it builds ``build_path`` and swaps a copy of the results in by rename.
    warehouse_path: Path
    export_dir: Path
    as_of_date: date
    #: True when CRM_LANDING_DIR was not set and the bundled demo shop is used.
    uses_demo_landing: bool
    #: CRM_BUILD_PATH: the DuckDB file the run loads and dbt builds (raw, staging, exports ...);
    #: default ``<warehouse>.build.duckdb`` beside the warehouse file (see ``build_file``).
    build_override: Path | None = None
    #: CRM_SHOP_ID: optional name of the shop; the warehouse records it with its landing root
    #: (see crm.ownership): with it, a moved landing folder of the same shop is accepted.
    shop_id: str | None = None
    #: CRM_ADOPT_LANDING=1: this landing root (and shop id) now feeds this warehouse, even if
    #: the warehouse was built from another one (recorded; see crm.ownership).
    adopt_landing: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        landing = env.get("CRM_LANDING_DIR", "").strip()
        as_of = env.get("CRM_AS_OF_DATE", "").strip()
        return cls(
            landing_dir=Path(landing).expanduser().resolve() if landing else DEFAULT_LANDING_DIR,
            warehouse_path=_path(env, "CRM_WAREHOUSE_PATH", DEFAULT_WAREHOUSE_PATH),
            export_dir=_path(env, "CRM_EXPORT_DIR", DEFAULT_EXPORT_DIR),
            as_of_date=parse_as_of_date(as_of) if as_of else today_in_tokyo(),
            uses_demo_landing=not landing,
            build_override=_path(env, "CRM_BUILD_PATH", None),  # type: ignore[arg-type]
            shop_id=env.get("CRM_SHOP_ID", "").strip() or None,
            adopt_landing=_flag(env, "CRM_ADOPT_LANDING"),
        )

    @property
    def build_path(self) -> Path:
        """CRM_BUILD_PATH, default ``<name>.build.duckdb`` beside the warehouse file."""
        return self.build_override or default_build_path(self.warehouse_path)

    def as_env(self) -> dict[str, str]:
        """The settings as environment variables, for child processes such as dbt."""
        env = {
            "CRM_LANDING_DIR": str(self.landing_dir),
            "CRM_WAREHOUSE_PATH": str(self.warehouse_path),
            "CRM_BUILD_PATH": str(self.build_path),
            "CRM_EXPORT_DIR": str(self.export_dir),
            "CRM_AS_OF_DATE": self.as_of_date.isoformat(),
        }
        if self.shop_id:
            env["CRM_SHOP_ID"] = self.shop_id
        if self.adopt_landing:
            env["CRM_ADOPT_LANDING"] = "1"
        return env


def default_build_path(warehouse_path: Path) -> Path:
    """``/srv/crm.duckdb`` → ``/srv/crm.build.duckdb``: the build database beside the warehouse."""
    suffix = warehouse_path.suffix or ".duckdb"
    return warehouse_path.with_name(f"{warehouse_path.stem}.build{suffix}")


def _path(env: dict[str, str], name: str, default: Path) -> Path:
    value = env.get(name, "").strip()
    return Path(value).expanduser().resolve() if value else default


def duckdb_temp_dir(warehouse_path: Path | None = None) -> Path | None:
    """Where DuckDB spills beyond its memory limit: ``CRM_DUCKDB_TEMP_DIR``, else
    ``<warehouse file>.tmp`` beside the warehouse file (DuckDB's own default, also used by dbt
    through profiles.yml), else ``None`` (DuckDB decides)."""
    value = os.environ.get("CRM_DUCKDB_TEMP_DIR", "").strip()
    if value:
        return Path(value).expanduser().resolve()
    if warehouse_path is not None:
        return warehouse_path.with_name(warehouse_path.name + ".tmp")
    return None


def duckdb_config(warehouse_path: Path | None = None) -> dict[str, str]:
    """Memory and temp-directory settings for every DuckDB connection that writes.

    ``CRM_DUCKDB_MEMORY_LIMIT`` (default 6GB) caps DuckDB's memory; beyond it DuckDB spills to
    ``CRM_DUCKDB_TEMP_DIR`` (default: ``<warehouse file>.tmp`` beside the warehouse file, see
    ``duckdb_temp_dir``). ``CRM_DUCKDB_THREADS`` (default 2) sets DuckDB's worker threads.
    """
    config = {
        "memory_limit": os.environ.get("CRM_DUCKDB_MEMORY_LIMIT", "6GB"),
        "threads": os.environ.get("CRM_DUCKDB_THREADS", "2"),
    }
    temp_dir = duckdb_temp_dir(warehouse_path)
    if temp_dir is not None:
        config["temp_directory"] = str(temp_dir)
    return config


#: Every file a run writes holds or may hold personal data: owner read/write, group read,
#: nobody else (files 0640, folders 0750 or tighter).
PRIVATE_UMASK = 0o027


def apply_private_umask() -> int:
    """Make the process umask at least ``PRIVATE_UMASK`` (bits already masked stay masked), so
    every file and folder the run creates (database, WAL, spill folder, exports, reports, logs)
    is 0640/0750 or tighter whatever the server's umask; returns the previous umask."""
    previous = os.umask(PRIVATE_UMASK)
    os.umask(previous | PRIVATE_UMASK)
    return previous
