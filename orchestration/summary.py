"""A short, human summary of a built warehouse (printed at the end of the nightly run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from crm.exports.consent import ConsentHolds, consent_holds


@dataclass(frozen=True)
class WarehouseSummary:
    build_path: Path
    as_of_date: str
    customers: int
    purchasing_customers: int
    orders: int
    net_sales: float
    files_loaded: int
    files_refused: int
    rows_rejected: int
    rejects_by_feed: dict[str, int]
    rfm_groups: list[tuple[str, str, int]]
    lifecycle_stages: list[tuple[str, str, int]]
    segment_term: str
    stable_segments: list[tuple[str, str, int]]
    #: (audience, channel, exported, held out) of the exports of the as-of date.
    exports: list[tuple[str, str, int, int]] = field(default_factory=list)
    #: (label, count) of the loaded-but-suspicious rows per issue type (marts.data_issue_counts).
    data_issues: list[tuple[str, int]] = field(default_factory=list)
    #: Customers held back from every export because a consent change could not be read.
    consent: ConsentHolds = field(default_factory=ConsentHolds)

    def render(self) -> str:
        rejects = ", ".join(f"{feed} {n:,}" for feed, n in self.rejects_by_feed.items()) or "none"
        return "\n".join(
            [
                f"Build database: {self.build_path}",
                f"  as of {self.as_of_date}",
                f"  customers: {self.customers:,} ({self.purchasing_customers:,} with a purchase)",
                f"  orders (purchases as of date): {self.orders:,}",
                f"  net sales: ¥{self.net_sales:,.0f}",
                f"  landing files: {self.files_loaded:,} loaded, {self.files_refused:,} refused",
                f"  rejected rows: {self.rows_rejected:,} ({rejects}); see raw._rejects",
                self._data_issues_line(),
                "  consent unreadable: "
                + (self.consent.describe() if self.consent else "none (no rejected consent row)"),
                "  RFM groups: " + ", ".join(f"{ja} {en} {n:,}" for ja, en, n in self.rfm_groups),
                "  lifecycle stages: "
                + ", ".join(f"{ja} {en} {n:,}" for ja, en, n in self.lifecycle_stages),
                f"  stable segments (term from {self.segment_term or 'none yet'}): "
                + (", ".join(f"{ja} {en} {n:,}" for ja, en, n in self.stable_segments) or "-"),
                "  BI tables: marts.customer_facts, customer_rfm, customer_lifecycle, "
                "customer_rfm_history, rfm_period_comparison, rfm_migration, "
                "monthly_new_vs_repeat_sales, f2_conversion_by_cohort, cohort_retention, "
                "stable_segments, stable_segment_members, stable_segment_term_progress, "
                "stable_segments_by_category, segment_backtest, segment_backtest_summary",
                *self._export_lines(),
            ]
        )

    def _data_issues_line(self) -> str:
        total = sum(n for _, n in self.data_issues)
        if not total:
            return "  data issues: 0 (none)"
        parts = ", ".join(f"{label} {n:,}" for label, n in self.data_issues if n)
        return f"  data issues: {total:,} ({parts}); see marts.data_issues"

    def _export_lines(self) -> list[str]:
        if not self.exports:
            return ["  exports: none"]
        lines = ["  exports (sent + held out), see exports.export_history:"]
        by_audience: dict[str, list[str]] = {}
        for audience, channel, sent, held in self.exports:
            by_audience.setdefault(audience, []).append(f"{channel} {sent:,} + {held:,}")
        lines += [f"    {audience}: {', '.join(parts)}" for audience, parts in by_audience.items()]
        return lines


def summarize(build_path: Path) -> WarehouseSummary:
    conn = duckdb.connect(str(build_path), read_only=True)
    try:
        as_of, customers, purchasing, orders, net = conn.execute(
            """
            select
                cast(max(as_of_date) as varchar),
                count(*),
                count(*) filter (where order_count > 0),
                coalesce(sum(order_count), 0),
                coalesce(sum(net_sales), 0)
            from marts.customer_facts
            """
        ).fetchone()  # type: ignore[misc]
        loaded, refused = conn.execute(
            """
            select
                count(*) filter (where status = 'loaded'),
                count(*) filter (where status = 'refused')
            from raw._load_ledger
            """
        ).fetchone()  # type: ignore[misc]
        rfm_groups = conn.execute(
            """
            select rfm_group_label_ja, rfm_group, count(*)
            from marts.customer_rfm
            group by rfm_group_label_ja, rfm_group, rfm_group_sort_order
            order by rfm_group_sort_order
            """
        ).fetchall()
        lifecycle_stages = conn.execute(
            """
            select lifecycle_stage_label_ja, lifecycle_stage, count(*)
            from marts.customer_lifecycle
            group by lifecycle_stage_label_ja, lifecycle_stage
            order by count(*) desc
            """
        ).fetchall()
        segment_term, stable_segments = _current_term_segments(conn)
        exports = _exports(conn, as_of)
        data_issues = conn.execute(
            """
            select issue_label_en, issue_count
            from marts.data_issue_counts
            where issue_count > 0
            order by sort_order
            """
        ).fetchall()
        consent = consent_holds(conn)
        rejects = dict(
            conn.execute(
                "select feed, sum(rows_rejected) from raw._load_ledger "
                "group by feed having sum(rows_rejected) > 0 order by feed"
            ).fetchall()
        )
    finally:
        conn.close()
    return WarehouseSummary(
        build_path=build_path,
        as_of_date=as_of or "",
        customers=int(customers),
        purchasing_customers=int(purchasing),
        orders=int(orders),
        net_sales=float(net),
        files_loaded=int(loaded),
        files_refused=int(refused),
        rows_rejected=int(sum(rejects.values())),
        rejects_by_feed={k: int(v) for k, v in rejects.items()},
        rfm_groups=[(str(ja), str(en), int(n)) for ja, en, n in rfm_groups],
        lifecycle_stages=[(str(ja), str(en), int(n)) for ja, en, n in lifecycle_stages],
        segment_term=segment_term,
        stable_segments=stable_segments,
        exports=exports,
        data_issues=[(str(label), int(n)) for label, n in data_issues],
        consent=consent,
    )


def _current_term_segments(
    conn: duckdb.DuckDBPyConnection,
) -> tuple[str, list[tuple[str, str, int]]]:
    """The latest written term and its segment sizes, "new this term" included."""
    rows = conn.execute(
        """
        select cast(term_start as varchar), segment_label_ja, segment, count(*)
        from marts.stable_segment_members
        where term_start = (select max(term_start) from marts.stable_segment_members)
        group by term_start, segment_label_ja, segment, segment_rank
        order by segment_rank
        """
    ).fetchall()
    if not rows:
        return "", []
    return str(rows[0][0]), [(str(ja), str(en), int(n)) for _term, ja, en, n in rows]


def _exports(conn: duckdb.DuckDBPyConnection, as_of: str | None) -> list[tuple[str, str, int, int]]:
    """Exported and held-out customers per audience and channel on the as-of date."""
    exists = conn.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'exports' and table_name = 'export_history'"
    ).fetchall()
    if not as_of or exists != [(1,)]:
        return []
    rows = conn.execute(
        """
        select
            audience,
            channel,
            count(*) filter (where not is_holdout),
            count(*) filter (where is_holdout)
        from exports.export_history
        where export_date = cast(? as date)
        group by audience, channel
        order by audience, channel
        """,
        [as_of],
    ).fetchall()
    return [(str(a), str(c), int(sent), int(held)) for a, c, sent, held in rows]
