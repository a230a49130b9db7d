"""The incremental segment-term models (int_segment_orders_scoped by order;
int_customer_terms_profiled and int_customer_terms_segmented by term,
macros/utils/incremental_terms.sql) equal a full rebuild: after a night with nothing dated
before a term start, after a late correction of an old order, and after a change of the
segment rules or of the profile rules. Terms the changes cannot reach are kept, not recomputed.
So are the months of the monthly new-vs-repeat report before a corrected order's month.

The shared shop is built as of 2025-06-30: its terms start on 2024-10-01 and 2025-04-01.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from crm.loading.raw_layer import append_load, copy_warehouse
from tests.python.conftest import dbt_on_build, table_contents

pytestmark = pytest.mark.slow

EARLY, LATE = date(2024, 10, 1), date(2025, 4, 1)
SCOPED = "intermediate.int_segment_orders_scoped"
PROFILED = "intermediate.int_customer_terms_profiled"
SEGMENTED = "intermediate.int_customer_terms_segmented"
#: Run metadata, which differs by design (when and from which loads a row was written).
METADATA = {
    SCOPED: "_staged_as_of, _watermark_load_id",
    PROFILED: "_staged_as_of, _watermark_load_id, _profiled_at",
    SEGMENTED: "_profiled_at",
}
#: A column of each table that marks a kept row (set to an impossible value, restored after).
#: (`intervals` of the profiles is not read by the segment rules: a mark there cannot reach them.)
MARK = {SCOPED: "gross_amount", PROFILED: "intervals", SEGMENTED: "overdue_ratio"}


def _run(build: Path, tmp_path: Path, as_of: date, *flags: str, **more_vars: object) -> None:
    dbt_on_build(
        build,
        tmp_path,
        "run",
        "--select",
        "+int_customer_terms_segmented",
        "+monthly_new_vs_repeat_sales",
        *flags,
        "--vars",
        json.dumps({"as_of_date": as_of.isoformat(), **more_vars}),
    )


def _contents(build: Path) -> dict[str, tuple[int, int]]:
    return table_contents(build, METADATA)


def _mark(build: Path, terms: list[date], order_id: str | None = None) -> dict[str, int]:
    """Mark every profile and segment row of ``terms`` (and the scoped rows of ``order_id``)."""
    marked = {}
    with duckdb.connect(str(build)) as conn:
        for table in (PROFILED, SEGMENTED):
            where = " or ".join(f"term_start = '{t.isoformat()}'" for t in terms) or "false"
            conn.execute(f"create table main.{table.split('.')[1]}_marked as select * from {table}")
            conn.execute(f"update {table} set {MARK[table]} = -999 where {where}")
            marked[table] = conn.execute(
                f"select count(*) from {table} where {MARK[table]} = -999"
            ).fetchone()[0]
        if order_id is not None:
            conn.execute(
                f"create table main.int_segment_orders_scoped_marked as select * from {SCOPED}"
            )
            conn.execute(
                f"update {SCOPED} set {MARK[SCOPED]} = -999 where order_id = ?", [order_id]
            )
            marked[SCOPED] = conn.execute(
                f"select count(*) from {SCOPED} where {MARK[SCOPED]} = -999"
            ).fetchone()[0]
    return marked


def _kept_and_unmark(build: Path) -> dict[str, int]:
    """How many marked rows are still there; then the original values are put back."""
    kept = {}
    with duckdb.connect(str(build)) as conn:
        for table, column in MARK.items():
            name = table.split(".")[1]
            if not conn.execute(
                f"select count(*) from duckdb_tables() where table_name = '{name}_marked'"
            ).fetchone()[0]:
                continue
            kept[table] = conn.execute(
                f"select count(*) from {table} where {column} = -999"
            ).fetchone()[0]
            keys = {
                SCOPED: ["scope_code", "order_id"],
                PROFILED: ["term_start", "scope_code", "customer_id"],
                SEGMENTED: ["term_start", "scope_code", "customer_id"],
            }[table]
            on = " and ".join(f"t.{k} = m.{k}" for k in keys)
            conn.execute(
                f"update {table} as t set {column} = m.{column} from main.{name}_marked as m "
                f"where {on} and t.{column} = -999"
            )
            conn.execute(f"drop table main.{name}_marked")
    return kept


def _twins(build: Path, tmp_path: Path, name: str) -> Path:
    twin = tmp_path / f"{name}.duckdb"
    copy_warehouse(build, twin)
    return twin


def test_incremental_terms_equal_a_full_rebuild(shop, tmp_path: Path) -> None:
    settings, _ = shop
    as_of = settings.as_of_date
    build = tmp_path / "incremental.duckdb"
    copy_warehouse(settings.build_path, build)
    with duckdb.connect(str(build), read_only=True) as conn:
        terms = [
            r[0] for r in conn.execute(f"select distinct term_start from {PROFILED}").fetchall()
        ]
    assert sorted(terms) == [EARLY, LATE]

    # A night with nothing dated before a term start: every term is kept.
    marked = _mark(build, [EARLY, LATE])
    assert all(n > 0 for n in marked.values())
    _run(build, tmp_path / "quiet", as_of)
    assert _kept_and_unmark(build) == marked

    # A late correction of an order dated between the two term starts, in a load of its own:
    # the later term is recomputed, the earlier one kept, the order's scopes recomputed.
    with duckdb.connect(str(build)) as conn:
        order_id = conn.execute(
            "select min(order_id) from raw.orders where customer_id is not null "
            "and status not in ('cancelled', 'returned') "
            "and ordered_at >= '2025-01-05' and ordered_at < '2025-02-01'"
        ).fetchone()[0]
        append_load(
            conn,
            "orders",
            f"""
            select * replace (
                total_amount + 50000 as total_amount,
                timestamp '{as_of.isoformat()} 09:00:00' as updated_at
            )
            from raw.orders
            where order_id = ?
            """,
            "orders/late_correction.csv",
            [order_id],
        )
    marked = _mark(build, [EARLY, LATE], order_id)
    rebuilt = _twins(build, tmp_path, "rebuilt_late")
    _run(build, tmp_path / "late", as_of)
    _run(rebuilt, tmp_path / "late_full", as_of, "--full-refresh")
    kept = _kept_and_unmark(build)
    assert kept[SCOPED] == 0  # the corrected order's scopes: recomputed
    with duckdb.connect(str(build), read_only=True) as conn:
        early = conn.execute(
            f"select count(*) from {PROFILED} where term_start = '{EARLY.isoformat()}'"
        ).fetchone()[0]
        early_segments = conn.execute(
            f"select count(*) from {SEGMENTED} where term_start = '{EARLY.isoformat()}'"
        ).fetchone()[0]
    assert kept[PROFILED] == early  # the earlier term kept, the later one recomputed
    assert kept[SEGMENTED] == early_segments
    assert _contents(build) == _contents(rebuilt)
    with duckdb.connect(str(build), read_only=True) as conn:
        gross = conn.execute(
            f"select gross_amount from {SCOPED} where scope_code = '_all' and order_id = ?",
            [order_id],
        ).fetchone()[0]
        original = conn.execute(
            "select total_amount - coalesce(shipping_fee, 0) from raw.orders "
            "where order_id = ? order by _load_id desc limit 1",
            [order_id],
        ).fetchone()[0]
    assert gross == original

    # the monthly report (incremental by month, macros/utils/incremental_touched.sql): the
    # months before the corrected order's month are kept, the others recomputed, all as a
    # full rebuild has them
    monthly = "marts.monthly_new_vs_repeat_sales"
    with duckdb.connect(str(build)) as conn:
        conn.execute(f"update {monthly} set new_orders = -999 where month_start < '2025-01-01'")
        before = conn.execute(f"select count(*) from {monthly} where new_orders = -999").fetchone()
        append_load(
            conn,
            "orders",
            "select * replace (total_amount + 7000 as total_amount, "
            f"timestamp '{as_of.isoformat()} 10:00:00' as updated_at) "
            "from raw.orders where order_id = ? qualify row_number() over "
            "(order by _load_id desc) = 1",
            "orders/second_correction.csv",
            [order_id],
        )
    rebuilt = _twins(build, tmp_path, "rebuilt_monthly")
    _run(build, tmp_path / "monthly", as_of)
    _run(rebuilt, tmp_path / "monthly_full", as_of, "--full-refresh")
    with duckdb.connect(str(build)) as conn:
        kept = conn.execute(f"select count(*) from {monthly} where new_orders = -999").fetchone()
        conn.execute(f"attach '{rebuilt}' as rebuilt (read_only)")
        conn.execute(  # the marked rows get their values back (from the rebuild)
            f"update {monthly} as m set new_orders = r.new_orders from rebuilt.{monthly} as r "
            "where m.month_start = r.month_start and m.new_orders = -999"
        )
    assert before[0] > 0 and kept == before
    report = {monthly: "_staged_as_of, _watermark_load_id"}
    assert table_contents(build, report) == table_contents(rebuilt, report)

    # Other segment rules: every segment is recomputed, the profiles are kept.
    marked = _mark(build, [EARLY, LATE])
    rebuilt = _twins(build, tmp_path, "rebuilt_segment_rules")
    _run(build, tmp_path / "rules", as_of, stable_segment_prior_weight=0.8)
    _run(rebuilt, tmp_path / "rules_full", as_of, "--full-refresh", stable_segment_prior_weight=0.8)
    assert _kept_and_unmark(build) == {PROFILED: marked[PROFILED], SEGMENTED: 0}
    assert _contents(build) == _contents(rebuilt)

    # Other profile rules: every profile, and so every segment, is recomputed.
    marked = _mark(build, [EARLY, LATE])
    rebuilt = _twins(build, tmp_path, "rebuilt_profile_rules")
    more = {"stable_segment_prior_weight": 0.8, "stable_segment_regularity_min_intervals": 2}
    _run(build, tmp_path / "profile_rules", as_of, **more)
    _run(rebuilt, tmp_path / "profile_rules_full", as_of, "--full-refresh", **more)
    assert _kept_and_unmark(build) == {PROFILED: 0, SEGMENTED: 0}
    assert _contents(build) == _contents(rebuilt)
