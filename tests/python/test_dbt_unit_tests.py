"""dbt's unit tests (the business rules on fixed rows): the nightly build leaves them out, so the
test suite runs every one of them here, against the shared shop's build database."""

from __future__ import annotations

import json
from pathlib import Path

from crm.settings import PROJECT_DIR
from tests.python.conftest import run_dbt


def test_every_dbt_unit_test_passes(shop, tmp_path: Path) -> None:
    settings, _ = shop
    completed = run_dbt(
        PROJECT_DIR,
        tmp_path,
        settings.as_env(),
        "test",
        "--select",
        "test_type:unit",
        "--vars",
        json.dumps({"as_of_date": settings.as_of_date.isoformat()}),
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text(encoding="utf-8"))
    unit_tests = [r for r in results["results"] if r["unique_id"].startswith("unit_test.")]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text(encoding="utf-8"))
    assert len(unit_tests) == len(manifest["unit_tests"]) > 40
    assert {r["status"] for r in unit_tests} == {"pass"}
