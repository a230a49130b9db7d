"""The incremental RFM history (customer_rfm_history, macros/utils/snapshot_history.sql) equals a
full rebuild: after a run for an earlier date, a run that adds month ends, and a change of the
rules (rfm_axes; rfm_window_months, which also recomputes the month-end snapshots the history
is computed from), which must recompute the rows already written."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb

from crm.loading.raw_layer import copy_warehouse
from tests.python.conftest import dbt_on_build

HISTORY = "marts.customer_rfm_history"
SNAPSHOTS = "intermediate.int_customer_months_snapshotted"


def _history(
    build: Path, tmp_path: Path, as_of: str, *flags: str, axes: str = "rf", window: str = ""
) -> None:
    dbt_on_build(
        build,
        tmp_path,
        "run",
        "--select",
        "+customer_rfm_history",
        *flags,
        "--vars",
        json.dumps({"as_of_date": as_of, "rfm_axes": axes, "rfm_window_months": window}),
    )


def _snapshots(build: Path) -> tuple[int, int]:
    """Rows and an order-independent hash of the month-end snapshots."""
    with duckdb.connect(str(build), read_only=True) as conn:
        return conn.execute(f"select count(*), sum(hash(columns(*))) from {SNAPSHOTS}").fetchone()


def _contents(build: Path, but: str = "") -> tuple[int, int, int]:
    """Rows, snapshot dates and an order-independent hash of the history (but column ``but``
    and the date of the run that wrote each row, which differs by design)."""
    excluded = ", ".join(filter(None, ("_staged_as_of", but)))
    columns = f"columns(* exclude ({excluded}))"
    with duckdb.connect(str(build), read_only=True) as conn:
        return conn.execute(
            f"select count(*), count(distinct snapshot_date), sum(hash({columns})) from {HISTORY}"
        ).fetchone()


def _kept_marks(build: Path) -> int:
    with duckdb.connect(str(build), read_only=True) as conn:
        return conn.execute(
            f"select count(*) from {HISTORY} where lifecycle_stage_label_en = 'kept'"
        ).fetchone()[0]


def test_incremental_history_equals_a_full_rebuild(shop, tmp_path: Path) -> None:
    settings, _ = shop
    as_of = settings.as_of_date
    earlier = (as_of - timedelta(days=40)).isoformat()  # at least one month end before as_of
    build, rebuilt = tmp_path / "incremental.duckdb", tmp_path / "rebuilt.duckdb"
    copy_warehouse(settings.build_path, build)
    copy_warehouse(settings.build_path, rebuilt)
    with duckdb.connect(str(build), read_only=True) as conn:
        built = conn.execute(f"select max(snapshot_date) from {HISTORY}").fetchone()[0]
    assert built == as_of

    # back to an earlier date: the rows on or after it go, the earlier month ends stay
    _history(build, tmp_path / "back", earlier)
    _history(rebuilt, tmp_path / "back_full", earlier, "--full-refresh")
    assert _contents(build) == _contents(rebuilt)
    with duckdb.connect(str(build), read_only=True) as conn:
        latest = conn.execute(f"select max(snapshot_date) from {HISTORY}").fetchone()[0]
    assert latest.isoformat() == earlier

    # forward again: the month ends in between and the new as_of_date rows are added, and the
    # rows already written are kept as they are (marked here, to tell kept from recomputed)
    with duckdb.connect(str(build)) as conn:
        conn.execute(
            f"update {HISTORY} set lifecycle_stage_label_en = 'kept' "
            f"where snapshot_date = (select min(snapshot_date) from {HISTORY})"
        )
    marked = _kept_marks(build)
    assert marked > 0
    _history(build, tmp_path / "forward", as_of.isoformat())
    _history(rebuilt, tmp_path / "forward_full", as_of.isoformat(), "--full-refresh")
    forward = _contents(build, but="lifecycle_stage_label_en")
    assert forward == _contents(rebuilt, but="lifecycle_stage_label_en")
    assert forward[1] >= _contents_dates_before(build, earlier) + 2
    assert _kept_marks(build) == marked

    # other rules: every kept row is recomputed (fm groups differ from rf groups somewhere)
    with duckdb.connect(str(build), read_only=True) as conn:
        rf_groups = conn.execute(
            f"select snapshot_date, customer_id, rfm_group from {HISTORY} "
            f"where snapshot_date < '{earlier}'"
        ).fetchall()
    _history(build, tmp_path / "fm", as_of.isoformat(), axes="fm")
    _history(rebuilt, tmp_path / "fm_full", as_of.isoformat(), "--full-refresh", axes="fm")
    assert _contents(build) == _contents(rebuilt)
    assert _kept_marks(build) == 0  # recomputed
    with duckdb.connect(str(build), read_only=True) as conn:
        fm_groups = conn.execute(
            f"select snapshot_date, customer_id, rfm_group from {HISTORY} "
            f"where snapshot_date < '{earlier}'"
        ).fetchall()
    assert len(fm_groups) == len(rf_groups) > 0
    assert set(fm_groups) != set(rf_groups)

    # an RFM window: the month-end snapshots written with the whole history are recomputed too
    with duckdb.connect(str(build), read_only=True) as conn:
        windowless = conn.execute(
            f"select count(*) from {SNAPSHOTS} where window_order_count is null"
        ).fetchone()[0]
    assert windowless > 0
    _history(build, tmp_path / "window", as_of.isoformat(), axes="fm", window="12")
    _history(
        rebuilt,
        tmp_path / "window_full",
        as_of.isoformat(),
        "--full-refresh",
        axes="fm",
        window="12",
    )
    assert _snapshots(build) == _snapshots(rebuilt)
    assert _contents(build) == _contents(rebuilt)
    with duckdb.connect(str(build), read_only=True) as conn:
        assert (
            conn.execute(
                f"select count(*) from {SNAPSHOTS} where window_order_count is null"
            ).fetchone()[0]
            == 0
        )


def _contents_dates_before(build: Path, day: str) -> int:
    with duckdb.connect(str(build), read_only=True) as conn:
        return conn.execute(
            f"select count(distinct snapshot_date) from {HISTORY} where snapshot_date < '{day}'"
        ).fetchone()[0]
