"""The publication for BI readers (crm/quality/publish.py): a later night starts from
yesterday's file and copies again only the partitions of the kept tables (RFM history, frozen
segments) that differ from the build or that tonight's run wrote; the result equals a fresh
copy. Another build database, or a file that is mostly free space, is written afresh."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from crm.loading.raw_layer import copy_warehouse
from crm.quality import publish
from crm.quality.publish import publish_warehouse
from orchestration.dbt_project import ensure_manifest

pytestmark = pytest.mark.slow

HISTORY = "marts.customer_rfm_history"


def _contents(database: Path, catalog_table: str = HISTORY) -> tuple[int, int]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(f"select count(*), sum(hash(t)) from {catalog_table} as t").fetchone()


def _every_table(database: Path) -> dict[str, tuple[int, int]]:
    with duckdb.connect(str(database), read_only=True) as conn:
        names = conn.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('marts', 'audiences', 'reference') order by 1"
        ).fetchall()
    return {name: _contents(database, name) for (name,) in names}


def _history_but_label(database: Path) -> tuple[int, int]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(
            "select count(*), sum(hash(t)) from "
            f"(select * exclude (lifecycle_stage_label_en) from {HISTORY}) as t"
        ).fetchone()


def _mark(published: Path, snapshot_date: date) -> int:
    """Mark the published rows of one partition of the history (as the publication never would)."""
    with duckdb.connect(str(published)) as conn:
        conn.execute(
            f"update {HISTORY} set lifecycle_stage_label_en = 'kept' where snapshot_date = ?",
            [snapshot_date],
        )
        return conn.execute(
            f"select count(*) from {HISTORY} where lifecycle_stage_label_en = 'kept'"
        ).fetchone()[0]


def _marked(published: Path) -> int:
    with duckdb.connect(str(published), read_only=True) as conn:
        return conn.execute(
            f"select count(*) from {HISTORY} where lifecycle_stage_label_en = 'kept'"
        ).fetchone()[0]


def test_later_nights_copy_only_the_partitions_that_changed(shop, tmp_path: Path) -> None:
    settings, _ = shop
    as_of = settings.as_of_date
    build = tmp_path / "warehouse.build.duckdb"
    copy_warehouse(settings.build_path, build)
    with duckdb.connect(str(build)) as conn:
        # as if the past partitions had been written by earlier nights (the shop was built in
        # one run, which stamped every row with its as-of date)
        conn.execute(
            f"update {HISTORY} set _staged_as_of = snapshot_date + 1 where not is_as_of_date"
        )
        for table in ("marts.stable_segments", "marts.stable_segments_by_category"):
            conn.execute(f"update {table} set assigned_as_of_date = term_start")
    published = tmp_path / "warehouse.duckdb"

    first = publish_warehouse(build, published, as_of, ensure_manifest())
    assert not first.incremental and first.partitions_copied == {}
    assert _every_table(published) == _every_table(build)
    with duckdb.connect(str(build), read_only=True) as conn:
        old_month_end, other_month_end = (
            r[0]
            for r in conn.execute(
                f"select distinct snapshot_date from {HISTORY} "
                "where not is_as_of_date order by 1 limit 2"
            ).fetchall()
        )

    # the same night again: the kept partitions are not copied again (the mark stays), the
    # partition tonight's run wrote is (the as-of date's)
    marked = _mark(published, old_month_end)
    assert marked > 0
    again = publish_warehouse(build, published, as_of, ensure_manifest())
    assert again.incremental
    assert _marked(published) == marked
    assert again.partitions_copied[HISTORY] >= 1
    assert again.partitions_copied["marts.stable_segments"] == 0  # terms written earlier

    # a partition that differs from the build (rows gone) is copied again: mark gone, equal
    with duckdb.connect(str(published)) as conn:
        conn.execute(f"update {HISTORY} set lifecycle_stage_label_en = 'kept2' "
                     "where snapshot_date = ?", [other_month_end])  # fmt: skip
    with duckdb.connect(str(build)) as conn:
        conn.execute(
            f"delete from {HISTORY} where snapshot_date = ? and customer_id = "
            f"(select min(customer_id) from {HISTORY} where snapshot_date = ?)",
            [other_month_end, other_month_end],
        )
    third = publish_warehouse(build, published, as_of, ensure_manifest())
    assert third.incremental
    with duckdb.connect(str(published), read_only=True) as conn:
        kept2 = conn.execute(
            f"select count(*) from {HISTORY} where lifecycle_stage_label_en = 'kept2'"
        ).fetchone()[0]
    assert kept2 == 0 and _marked(published) == marked
    # apart from the mark, the published history is the build's
    assert _history_but_label(published) == _history_but_label(build)
    assert _every_table(published) | {HISTORY: None} == _every_table(build) | {HISTORY: None}

    # another build database: written afresh (no mark left)
    other_build = tmp_path / "other.build.duckdb"
    copy_warehouse(build, other_build)
    fourth = publish_warehouse(other_build, published, as_of, ensure_manifest())
    assert not fourth.incremental and _marked(published) == 0
    assert _every_table(published) == _every_table(other_build)


def test_a_file_mostly_free_space_is_written_afresh(shop, tmp_path: Path, monkeypatch) -> None:
    settings, _ = shop
    build = tmp_path / "warehouse.build.duckdb"
    copy_warehouse(settings.build_path, build)
    published = tmp_path / "warehouse.duckdb"
    publish_warehouse(build, published, settings.as_of_date, ensure_manifest())
    monkeypatch.setattr(publish, "MAX_FREE_SHARE", -1.0)  # any free block is too many
    again = publish_warehouse(build, published, settings.as_of_date, ensure_manifest())
    assert not again.incremental
    assert _every_table(published) == _every_table(build)
