"""Data tests scoped to the rows a run wrote (tests/generic/unique_keys_written.sql and the
`__written_this_run__` placeholder of macros/utils/written_this_run.sql): a nightly run checks
its new keys against the whole table, and the child rows it wrote against the whole parent
table, instead of every row of the history; a run that wrote every row checks every row."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb

from crm.loading.raw_layer import copy_warehouse
from crm.settings import PROJECT_DIR
from tests.python.conftest import run_dbt

SESSIONS = "staging.stg_shop__sessions"
PAGE_VIEWS = "staging.stg_shop__page_views"
KINDS = ("unique_keys_written", "relationships")
#: The row-level rules scoped to the rows a run wrote (where: __written_this_run__): the page
#: views' not-null columns (page_url among them), accepted values and ranges, in one test.
PAGE_VIEWS_NOT_NULL = "row_rules:stg_shop__page_views"


def _test_statuses(build: Path, tmp_path: Path, as_of: str) -> dict[str, str]:
    """Run the data tests of the staged sessions and page views; status per test kind and
    model (`unique_keys_written:stg_shop__sessions`, `relationships:stg_shop__page_views`)."""
    run_dbt(
        PROJECT_DIR,
        tmp_path,
        {"CRM_BUILD_PATH": str(build)},
        "test",
        "--select",
        "stg_shop__sessions",
        "stg_shop__page_views",
        "--exclude",
        "test_type:unit",
        "--vars",
        json.dumps({"as_of_date": as_of}),
    )
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    nodes = json.loads((tmp_path / "target" / "manifest.json").read_text())["nodes"]
    statuses: dict[str, str] = {}
    for result in results["results"]:
        node = nodes[result["unique_id"]]
        kind = (node.get("test_metadata") or {}).get("name")
        model = node["attached_node"].split(".")[-1] if node.get("attached_node") else ""
        if kind in KINDS:
            statuses[f"{kind}:{model}"] = result["status"]
        elif kind == "row_rules" and node["config"].get("where"):
            statuses[f"row_rules:{model}"] = result["status"]
    return statuses


def found_results(tmp_path: Path) -> list[dict]:
    """The results of the data tests run in ``tmp_path`` (run_results.json)."""
    return json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]


def _of_kinds(statuses: dict[str, str]) -> dict[str, str]:
    return {key: status for key, status in statuses.items() if key.split(":")[0] in KINDS}


def test_scoped_tests_check_what_the_run_wrote(shop, tmp_path: Path) -> None:
    settings, _ = shop
    as_of = settings.as_of_date.isoformat()
    yesterday = (settings.as_of_date - timedelta(days=1)).isoformat()
    build = tmp_path / "scoped.duckdb"
    copy_warehouse(settings.build_path, build)

    def statuses(name: str) -> dict[str, str]:
        return _of_kinds(all_statuses(name))

    def all_statuses(name: str) -> dict[str, str]:
        return _test_statuses(build, tmp_path / name, as_of)

    def sql(*statements: str) -> None:
        with duckdb.connect(str(build)) as conn:
            for statement in statements:
                conn.execute(statement)

    every_test = {
        f"{kind}:{model}"
        for kind in KINDS
        for model in ("stg_shop__sessions", "stg_shop__page_views")
    }
    assert statuses("clean") == dict.fromkeys(every_test, "pass")

    # every row but the newest day's was written by an earlier run
    sql(
        *(
            f"update {table} set _staged_as_of = date '{yesterday}' where {column} < '{as_of}'"
            for table, column in ((SESSIONS, "started_at"), (PAGE_VIEWS, "viewed_at"))
        )
    )
    with duckdb.connect(str(build), read_only=True) as conn:
        kept_session, kept_view = (
            conn.execute(f"select count(*) from {t} where _staged_as_of < '{as_of}'").fetchone()[0]
            for t in (SESSIONS, PAGE_VIEWS)
        )
    assert kept_session > 0 and kept_view > 0
    assert statuses("kept") == dict.fromkeys(every_test, "pass")

    # tonight's run writes a key that a kept row already has: found
    # (rows added by this test have load id -1)
    kept = f"_staged_as_of < date '{as_of}'"

    def duplicate_session(stamp: str) -> str:
        return (
            f"insert into {SESSIONS} select * replace (date '{stamp}' as _staged_as_of, "
            f"-1 as _load_id) from {SESSIONS} "
            f"where session_id = (select min(session_id) from {SESSIONS} where {kept})"
        )

    sql(duplicate_session(as_of))
    found = statuses("written_duplicate")
    assert found["unique_keys_written:stg_shop__sessions"] == "fail"
    sql(f"delete from {SESSIONS} where _load_id = -1")

    # the same for a key of several columns (session, time, page)
    sql(
        f"insert into {PAGE_VIEWS} select * replace (date '{as_of}' as _staged_as_of, "
        f"-1 as _load_id) from {PAGE_VIEWS} where {kept} limit 1"
    )
    found = statuses("written_duplicate_views")
    assert found["unique_keys_written:stg_shop__page_views"] == "fail"

    # a page view written tonight whose session is in no run: a warning
    sql(
        f"delete from {PAGE_VIEWS} where _load_id = -1",
        f"insert into {PAGE_VIEWS} select * replace ('no-such-session' as session_id, "
        f"date '{as_of}' as _staged_as_of, -1 as _load_id) from {PAGE_VIEWS} limit 1",
    )
    found = statuses("written_orphan")
    assert found["relationships:stg_shop__page_views"] == "warn"
    assert found["unique_keys_written:stg_shop__page_views"] == "pass"

    # rows kept from earlier runs were checked when written and are not re-checked nightly
    # (the cost the scoping saves), but a run that wrote every row checks all of them
    # (a kept page view without its URL and of an unknown page type included: the row-level
    # rules are scoped too)
    sql(
        f"update {PAGE_VIEWS} set _staged_as_of = date '{yesterday}', page_url = null, "
        "page_type = 'no-such-type' where _load_id = -1",
        duplicate_session(yesterday),
    )
    kept_problems = all_statuses("kept_problems")
    assert _of_kinds(kept_problems) == dict.fromkeys(every_test, "pass")
    assert kept_problems[PAGE_VIEWS_NOT_NULL] == "pass"
    sql(*(f"update {t} set _staged_as_of = date '{as_of}'" for t in (SESSIONS, PAGE_VIEWS)))
    found = all_statuses("all_written")
    assert found["unique_keys_written:stg_shop__sessions"] == "fail"
    assert found["relationships:stg_shop__page_views"] == "warn"
    assert found[PAGE_VIEWS_NOT_NULL] == "fail"
    # two failing cells (the kept page view's URL, null, and its page type, not accepted):
    # the failure count is the failing cells
    results = {r["unique_id"].split(".")[2]: r for r in found_results(tmp_path / "all_written")}
    assert results["rules_stg_shop__page_views_written"]["failures"] == 2
