"""Incremental staging (macros/utils/incremental_staging.sql), the incremental web models
(macros/utils/incremental_web.sql) and int_orders_enriched (macros/utils/incremental_touched.sql)
equal a full rebuild: after new loads, late corrections (an order; a session moved to another
visitor and customer) and a later as-of date; after a change of the plausibility vars; and
after a run for an earlier as-of date. Untouched rows are kept, not recomputed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb

from crm.contract import FEEDS as CONTRACT_FEEDS
from crm.loading.raw_layer import append_load, copy_warehouse, refresh_view
from tests.python.conftest import dbt_on_build, table_contents

FEEDS = ("orders", "order_lines", "shipments", "returns", "sessions", "page_views")
WEB = (
    "int_sessions_attributed",
    "int_page_views_attributed",
    "int_visitors_aggregated",
    "int_customers_web_aggregated",
)
ORDERS = "int_orders_enriched"
#: Incremental on top of int_orders_enriched by customer or month
#: (macros/utils/incremental_touched.sql), as schema.model.
CUSTOMER_SALES = (
    "intermediate.int_purchase_days_sequenced",
    "intermediate.int_customer_merchandise_ranked",
    "intermediate.int_customer_products_last_purchased",
    "intermediate.int_customers_orders_aggregated",
    "marts.monthly_new_vs_repeat_sales",
)
#: A plain table on top of them (rebuilt every night from the incremental tables).
PRODUCTS = "intermediate.int_products_named"


def _staging(build: Path, tmp_path: Path, as_of: str, *flags: str, **more_vars: int) -> None:
    dbt_on_build(
        build,
        tmp_path,
        "run",
        "--select",
        "staging",
        *WEB,
        "int_returns_capped",
        ORDERS,
        *(m.split(".")[1] for m in (*CUSTOMER_SALES, PRODUCTS)),
        *flags,
        "--vars",
        json.dumps({"as_of_date": as_of, **more_vars}),
    )


def _contents(build: Path) -> dict[str, tuple[int, int]]:
    """Rows and an order-independent hash of every incremental staging and web table (but the
    run metadata, which differs by design: the date of the run that last wrote each row, and in
    the web tables the newest load that run read)."""
    tables = {f"staging.stg_shop__{feed}": "_staged_as_of" for feed in FEEDS}
    tables |= {f"intermediate.{model}": "_staged_as_of, _load_id" for model in WEB}
    tables[f"intermediate.{ORDERS}"] = "_staged_as_of, _watermark_load_id"
    tables |= {m: "_staged_as_of, _watermark_load_id" for m in CUSTOMER_SALES}
    tables[PRODUCTS] = ""
    return table_contents(build, tables)


def _mark_untouched(conn: duckdb.DuckDBPyConnection, since: str) -> dict[str, tuple]:
    """Mark one row of each incremental intermediate that the next run must keep: a visitor, a
    customer, a session's page views, an order and a purchasing customer with no row dated on or
    after ``since`` nor loaded after the table's newest load. Returns table -> (key, value,
    marked column, original)."""

    def recent(table: str, column: str = "_load_id") -> str:  # loaded after its watermark
        return f"(_load_id > (select max({column}) from {table}))"

    web, orders_table = "intermediate.int_visitors_aggregated", f"intermediate.{ORDERS}"
    visitors = f"""
        select visitor_id from raw.sessions
        where
            {recent(web)} or started_at >= '{since}' or updated_at >= '{since}'
            or session_id in (
                select session_id from raw.page_views
                where {recent(web)} or viewed_at >= '{since}'
            )
    """
    orders = " union all ".join(
        f"select order_id from raw.{feed} "
        f"where {recent(orders_table, '_watermark_load_id')} or "
        + " or ".join(f"{c} >= '{since}'" for c in columns)
        for feed, columns in (
            ("orders", ("ordered_at", "updated_at")),
            ("order_lines", ("updated_at",)),
            ("shipments", ("shipped_at", "delivered_at", "updated_at")),
            ("returns", ("returned_at", "updated_at")),
        )
    )
    picks = {
        web: ("visitor_id", visitors, "main_device_type"),
        "intermediate.int_customers_web_aggregated": (
            "customer_id",
            f"select customer_id from raw.sessions where visitor_id in ({visitors})",
            "main_device_type",
        ),
        # every page view of a session has the session's visitor: all marked, all restored
        "intermediate.int_page_views_attributed": (
            "session_id",
            f"select session_id from raw.sessions where visitor_id in ({visitors})",
            "visitor_id",
        ),
        # an order of a customer with no touched order: the per-customer models recompute
        # every order of a touched customer, and must not read the mark
        orders_table: (
            "order_id",
            "select order_id from raw.orders where nullif(trim(customer_id), '') in ("
            "select nullif(trim(customer_id), '') from raw.orders "
            f"where order_id in ({orders})) or order_id in ({orders})",
            "channel",
        ),
        "intermediate.int_customer_products_last_purchased": (
            "customer_id",
            "select nullif(trim(customer_id), '') as customer_id from raw.orders "
            f"where order_id in ({orders})",
            "last_purchased_sku",
        ),
    }
    marks = {}
    for table, (key, touched, column) in picks.items():
        value, original = conn.execute(
            f"select {key}, {column} from {table} "
            f"where {key} not in (select * from ({touched}) as t where t.{key} is not null) "
            f"and {column} is not null order by {key} limit 1"
        ).fetchone()
        conn.execute(f"update {table} set {column} = 'kept' where {key} = ?", [value])
        marks[table] = (key, value, column, original)
    return marks


def _check_and_unmark(build: Path, marks: dict[str, tuple]) -> None:
    """The marked rows were kept (not recomputed); their original values are put back."""
    with duckdb.connect(str(build)) as conn:
        for table, (key, value, column, original) in marks.items():
            kept = conn.execute(f"select {column} from {table} where {key} = ?", [value])
            assert kept.fetchone() == ("kept",), table
            conn.execute(f"update {table} set {column} = ? where {key} = ?", [original, value])


def _hold_back(conn: duckdb.DuckDBPyConnection, feed: str) -> None:
    """Take the loads of ``held.<feed>`` out of ``raw.<feed>`` (their files out of force)."""
    conn.execute(
        "update raw._load_ledger set raw_file = null "
        f"where load_id in (select _load_id from held.{feed})"
    )
    refresh_view(conn, CONTRACT_FEEDS[feed])


def test_incremental_staging_equals_a_full_rebuild(shop, tmp_path: Path) -> None:
    settings, _ = shop
    as_of = settings.as_of_date
    earlier = (as_of - timedelta(days=10)).isoformat()
    build = tmp_path / "incremental.duckdb"
    copy_warehouse(settings.build_path, build)
    with duckdb.connect(str(build)) as conn:
        conn.execute("drop schema staging cascade")
        conn.execute("create schema held")
        for feed in FEEDS:  # hold back each feed's newest file, to land it later
            conn.execute(
                f"create table held.{feed} as select * from raw.{feed} "
                f"where _load_id = (select max(_load_id) from raw.{feed})"
            )
            _hold_back(conn, feed)
        # ... and a correction of the oldest order, in a load of its own
        conn.execute(
            f"""
            insert into held.orders
            select * replace (
                total_amount + 5000 as total_amount,
                timestamp '{as_of.isoformat()} 09:00:00' as updated_at,
                (select max(load_id) + 1 from raw._load_ledger) as _load_id
            )
            from raw.orders
            where order_id = (select min(order_id) from raw.orders)
            """
        )
        # ... and of an identified session: moved to another visitor (one of an anonymous
        # session) and to another customer, so attribution changes for both visitors
        moved = conn.execute(
            """
            select
                (select min(session_id) from raw.sessions where customer_id is not null),
                (select min(visitor_id) from raw.sessions where customer_id is null),
                (select max(customer_id) from raw.sessions)
            """
        ).fetchone()
        conn.execute(
            f"""
            insert into held.sessions
            select * replace (
                '{moved[1]}' as visitor_id,
                '{moved[2]}' as customer_id,
                timestamp '{as_of.isoformat()} 09:00:00' as updated_at,
                (select max(load_id) + 2 from raw._load_ledger) as _load_id
            )
            from raw.sessions
            where session_id = '{moved[0]}'
            """
        )
        held = sum(conn.execute(f"select count(*) from held.{f}").fetchone()[0] for f in FEEDS)
    assert held > 0

    _staging(build, tmp_path / "first", earlier)
    with duckdb.connect(str(build)) as conn:
        # the held files arrive now: loaded later, they get newer load ids than any so far
        for feed in FEEDS:
            held_loads = conn.execute(
                f"select _load_id, any_value(_source_file) from held.{feed} group by 1 order by 1"
            ).fetchall()
            for load_id, source in held_loads:
                append_load(
                    conn, feed, f"select * from held.{feed} where _load_id = {load_id}", source
                )
        conn.execute("drop schema held cascade")
        marks = _mark_untouched(conn, earlier)
    rebuilt = tmp_path / "rebuilt.duckdb"
    copy_warehouse(build, rebuilt)

    _staging(build, tmp_path / "incremental", as_of.isoformat())
    _staging(rebuilt, tmp_path / "full", as_of.isoformat(), "--full-refresh")
    _check_and_unmark(build, marks)
    assert _contents(build) == _contents(rebuilt)
    with duckdb.connect(str(build), read_only=True) as conn:
        corrected = conn.execute(
            "select count(*) from staging.stg_shop__orders "
            f"where updated_at = timestamp '{as_of.isoformat()} 09:00:00'"
        ).fetchone()[0]
    assert corrected >= 1
    with duckdb.connect(str(build), read_only=True) as conn:
        attributed = conn.execute(
            "select visitor_id, customer_id from intermediate.int_sessions_attributed "
            f"where session_id = '{moved[0]}'"
        ).fetchone()
    assert attributed == (moved[1], moved[2])

    # other plausibility vars: every order is recomputed (more of them are implausible)
    def implausible(path: Path) -> int:
        with duckdb.connect(str(path), read_only=True) as conn:
            query = f"select count(*) from intermediate.{ORDERS} where is_implausible"
            return conn.execute(query).fetchone()[0]

    before = implausible(build)
    strict = {"plausible_order_total_max_yen": 20000}
    _staging(build, tmp_path / "strict", as_of.isoformat(), **strict)
    _staging(rebuilt, tmp_path / "strict_full", as_of.isoformat(), "--full-refresh", **strict)
    assert _contents(build) == _contents(rebuilt)
    assert implausible(build) > before

    # a run for an earlier date rebuilds: nothing after that date stays behind
    _staging(build, tmp_path / "back", earlier)
    _staging(rebuilt, tmp_path / "back_full", earlier, "--full-refresh")
    assert _contents(build) == _contents(rebuilt)
    with duckdb.connect(str(build), read_only=True) as conn:
        latest = conn.execute("select max(ordered_at) from staging.stg_shop__orders").fetchone()[0]
    assert latest.date().isoformat() <= earlier


def _products(build: Path, tmp_path: Path, as_of: str, *flags: str) -> None:
    dbt_on_build(
        build,
        tmp_path,
        "run",
        "--select",
        "+int_products_named",
        *flags,
        "--vars",
        json.dumps({"as_of_date": as_of}),
    )


def _new_version(conn: duckdb.DuckDBPyConnection, feed: str, where: str, changes: str) -> None:
    """A corrected version of the rows of raw.<feed> matching ``where``, in a load of its own."""
    append_load(
        conn,
        feed,
        f"""
        select * replace ({changes})
        from raw.{feed}
        where {where}
        qualify row_number() over (partition by {where.split(" ")[0]} order by _load_id desc) = 1
        """,
        f"{feed}/correction.csv",
    )


def test_product_names_follow_redated_orders_and_moved_lines(shop, tmp_path: Path) -> None:
    """int_products_named names a SKU by its latest line: a latest line whose order is re-dated
    earlier gives way to another line, a line moved to a SKU of its own names it, and a SKU
    left without lines goes; the incremental staging and orders it reads give what a full
    rebuild gives."""
    settings, _ = shop
    as_of = settings.as_of_date.isoformat()
    stamp = f"timestamp '{as_of} 09:00:00'"
    build = tmp_path / "incremental.duckdb"
    copy_warehouse(settings.build_path, build)
    products = {PRODUCTS: ""}

    def night(name: str) -> None:
        rebuilt = tmp_path / f"{name}_full.duckdb"
        copy_warehouse(build, rebuilt)
        _products(build, tmp_path / name, as_of)
        _products(rebuilt, tmp_path / f"{name}_full", as_of, "--full-refresh")
        assert table_contents(build, products) == table_contents(rebuilt, products), name

    with duckdb.connect(str(build)) as conn:
        sku, order_id, line_number = conn.execute(
            "select sku, _order_id, _line_number from intermediate.int_products_named "
            "order by sku limit 1"
        ).fetchone()
        # the SKU's latest order is re-dated to the first day of the history: demoted
        _new_version(
            conn,
            "orders",
            f"order_id = '{order_id}'",
            f"(select min(ordered_at) from raw.orders) as ordered_at, {stamp} as updated_at",
        )
    night("redated")
    with duckdb.connect(str(build), read_only=True) as conn:
        latest = conn.execute(
            "select _order_id from intermediate.int_products_named where sku = ?", [sku]
        ).fetchone()
    assert latest is not None and latest[0] != order_id  # another, later line now

    # the line moved to a SKU of its own, then back: the solo SKU comes, then goes (no line left)
    for name, new_sku, later, solo_rows in (
        ("moved", "SKU-SOLO", "", 1),
        ("moved_back", sku, " + interval 1 minute", 0),
    ):
        with duckdb.connect(str(build)) as conn:
            _new_version(
                conn,
                "order_lines",
                f"order_id = '{order_id}' and line_number = {line_number}",
                f"'{new_sku}' as sku, {stamp}{later} as updated_at",
            )
        night(name)
        with duckdb.connect(str(build), read_only=True) as conn:
            solo = conn.execute(
                "select count(*) from intermediate.int_products_named where sku = 'SKU-SOLO'"
            ).fetchone()[0]
        assert solo == solo_rows, name
