"""The dbt project as Dagster sees it, and the manifest it is built from."""

from __future__ import annotations

import os
from pathlib import Path

from dagster_dbt import DbtProject

from crm.settings import PROJECT_DIR

#: dbt's own DBT_TARGET_PATH is honoured (dagster-dbt runs use it too), so several checkouts or
#: test sessions can parse the same project without sharing target/.
dbt_project = DbtProject(
    project_dir=PROJECT_DIR,
    profiles_dir=PROJECT_DIR,
    target_path=os.environ.get("DBT_TARGET_PATH") or "target",
)

_SOURCES = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for name in _SOURCES:
        path = project_dir / name
        candidates = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        for candidate in candidates:
            if candidate.is_file():
                newest = max(newest, candidate.stat().st_mtime)
    return newest


def ensure_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than any project file."""
    manifest = dbt_project.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(
        dbt_project.project_dir
    ):
        dbt_project.preparer.prepare(dbt_project)
    return manifest
