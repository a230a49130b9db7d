"""Vars a shop edits are checked or quoted before they reach SQL (no injection, clear errors)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from crm.settings import PROJECT_DIR
from tests.python.conftest import run_dbt


def _compile(
    tmp_path: Path, select: str, variables: dict[str, object]
) -> subprocess.CompletedProcess[str]:
    return run_dbt(
        PROJECT_DIR,
        tmp_path,
        {"CRM_BUILD_PATH": str(tmp_path / "warehouse.duckdb")},
        "compile",
        "--no-partial-parse",
        "--select",
        select,
        "--vars",
        json.dumps({"as_of_date": "2025-06-30", **variables}),
    )


def _compiled_sql(tmp_path: Path, folder: str, model: str) -> str:
    matches = list((tmp_path / "target" / "compiled").rglob(f"{folder}/{model}.sql"))
    assert len(matches) == 1, matches
    return matches[0].read_text(encoding="utf-8")


def test_a_quote_in_a_text_var_is_escaped_not_run(tmp_path: Path) -> None:
    hostile = "GOLD') or 1=1 --"
    completed = _compile(tmp_path, "gold_early_access", {"audience_early_access_min_rank": hostile})
    assert completed.returncode == 0, completed.stdout[-3000:]
    sql = _compiled_sql(tmp_path, "audiences", "gold_early_access")
    assert "upper('GOLD'') or 1=1 --')" in sql


def test_a_threshold_that_is_not_a_number_is_refused_by_name(tmp_path: Path) -> None:
    completed = _compile(
        tmp_path,
        "win_back_lapsed_visitors",
        {"audience_win_back_visit_days": "30 or true"},
    )
    assert completed.returncode != 0
    assert "var audience_win_back_visit_days must be a non-negative number" in completed.stdout


def test_whole_number_thresholds_stay_whole_in_sql(tmp_path: Path) -> None:
    completed = _compile(tmp_path, "win_back_lapsed_visitors", {"audience_win_back_visit_days": 45})
    assert completed.returncode == 0, completed.stdout[-3000:]
    sql = _compiled_sql(tmp_path, "audiences", "win_back_lapsed_visitors")
    assert "days_since_last_visit < 45\n" in sql
