"""``generate_shop``: a deterministic, vectorised synthetic Japanese EC shop in landing files.

The customers are generated in chunks (``ShopParams.chunk_customers``); each chunk has its own
random streams (``default_rng([seed, chunk, stream])``) and writes its own files, so memory
stays bounded, chunks can run in parallel processes, and the output does not depend on the
number of workers. Same arguments and seed ⇒ byte-identical files.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import numpy as np

from crm.contract import FEEDS
from crm.demo.catalogue import Catalogue, build_catalogue
from crm.demo.columns import NEVER
from crm.demo.customers import Customers, OrderTimes, draw_customers, simulate_order_times
from crm.demo.fulfilment import (
    Fulfilment,
    order_table,
    return_table,
    shipment_table,
    simulate_fulfilment,
)
from crm.demo.orders import OrderBook, build_order_book, line_table
from crm.demo.pages import attach_pages, page_table
from crm.demo.params import DEFAULT_PARAMS, ShopParams
from crm.demo.people import (
    MemberState,
    build_members,
    customer_ids,
    draw_demographics,
    member_table,
)
from crm.demo.shop_calendar import SECONDS_PER_DAY, ShopCalendar
from crm.demo.suppressions import build_suppressions, suppression_table
from crm.demo.web import plan_visits, session_table
from crm.demo.writer import FeedRows, FileFormat, LandingWriter

JST = timezone(timedelta(hours=9))
#: Random stream ids within a chunk (changing one part of the model leaves the others alone).
STREAM_CUSTOMERS, STREAM_DEMOGRAPHICS, STREAM_ORDER_TIMES, STREAM_ORDERS = 1, 2, 3, 4
STREAM_FULFILMENT, STREAM_MEMBERS, STREAM_VISITS, STREAM_PAGES = 5, 6, 7, 8
#: Withdrawal (退会) happens this many days (uniform) after the member's last order.
WITHDRAWAL_DELAY_DAYS = (1, 240)


@dataclass
class ShopSummary:
    """What ``generate_shop`` wrote: rows per feed (all versions) and the files."""

    out_dir: Path
    start_date: date
    end_date: date
    customers: int
    seed: int
    file_format: str
    rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def __str__(self) -> str:
        counts = ", ".join(f"{feed} {self.rows.get(feed, 0):,}" for feed in FEEDS)
        return (
            f"demo shop: {self.customers:,} customers, {self.start_date} .. {self.end_date}, "
            f"seed {self.seed}, {self.file_format}: {counts} rows in {len(self.files)} files "
            f"under {self.out_dir} ({self.seconds:.1f} s)"
        )


@dataclass(frozen=True)
class _Job:
    out_dir: Path
    start: date
    end: date
    seed: int
    file_format: FileFormat
    tail_days: int
    params: ShopParams
    n_chunks: int


def today_in_tokyo() -> date:
    return datetime.now(JST).date()


def generate_shop(
    out_dir: Path,
    *,
    customers: int = 3000,
    days: int = 730,
    end_date: date | None = None,
    seed: int = 42,
    file_format: FileFormat = "csv",
    daily_tail_days: int = 0,
    params: ShopParams = DEFAULT_PARAMS,
    workers: int = 1,
    overwrite: bool = False,
) -> ShopSummary:
    """Write a synthetic shop's landing files under ``out_dir/<feed>/``.

    ``customers`` members (prospects included) with orders, web visits and so on over the
    ``days`` days ending on ``end_date`` (default: today in Asia/Tokyo). ``daily_tail_days``
    writes the last N days as per-day files. ``workers`` > 1 generates chunks in parallel
    processes (same output). Existing feed folders with files are an error unless
    ``overwrite`` (which removes the files in the eight feed folders first).
    """
    began = time.monotonic()
    if customers < 1 or days < 1:
        raise ValueError("customers and days must be positive")
    if not 0 <= daily_tail_days <= days:
        raise ValueError("daily_tail_days must be between 0 and days")
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"unknown file format {file_format!r}")
    out_dir = Path(out_dir)
    _prepare(out_dir, overwrite)
    end = end_date or today_in_tokyo()
    start = end - timedelta(days=days - 1)
    size = params.chunk_customers
    n_chunks = (customers + size - 1) // size
    job = _Job(out_dir, start, end, seed, file_format, daily_tail_days, params, n_chunks)
    ranges = [(k, k * size, min(size, customers - k * size)) for k in range(n_chunks)]
    summary = ShopSummary(out_dir, start, end, customers, seed, file_format)
    run = partial(_run_chunk, job)
    if workers > 1 and n_chunks > 1:
        with ProcessPoolExecutor(max_workers=min(workers, n_chunks)) as pool:
            results = list(pool.map(run, ranges))
    else:
        results = [run(r) for r in ranges]
    for rows, files in results:
        for feed, n in rows.items():
            summary.rows[feed] = summary.rows.get(feed, 0) + n
        summary.files.extend(files)
    summary.files.sort()
    summary.seconds = time.monotonic() - began
    return summary


def _prepare(out_dir: Path, overwrite: bool) -> None:
    existing = [p for feed in FEEDS for p in (out_dir / feed).glob("*") if p.is_file()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{out_dir} already has landing files (e.g. {existing[0]}); pass overwrite=True"
        )
    for p in existing:
        p.unlink()


def _run_chunk(job: _Job, chunk_range: tuple[int, int, int]) -> tuple[dict[str, int], list[Path]]:
    chunk, first, n = chunk_range
    p = job.params
    cal = ShopCalendar.build(
        job.start,
        job.end,
        p.pre_period_days,
        p.acquisition_growth_per_year,
        p.acquisition_campaign_boost,
    )
    catalogue = build_catalogue(job.seed)
    part = f"_part{chunk + 1:03d}" if job.n_chunks > 1 else ""
    writer = LandingWriter(
        job.out_dir, job.file_format, part, cal, job.tail_days, threads=p.write_threads
    )
    with writer:
        _generate_chunk(job, chunk, first, n, cal, catalogue, writer)
    return writer.rows, writer.files


def _member_state(
    rng: np.random.Generator,
    cal: ShopCalendar,
    c: Customers,
    times: OrderTimes,
    book: OrderBook,
    ful: Fulfilment,
    p: ShopParams,
) -> MemberState:
    """Rank from the last 365 days' kept orders (cancelled and fully returned ones do not
    count; thresholds descending), withdrawal some time after the last order."""
    kept = (ful.cancel_at > cal.end_s) & (ful.full_return_at > cal.end_s)
    recent = kept & (book.customer >= 0) & (book.at > cal.end_s - 365 * SECONDS_PER_DAY)
    spend = np.bincount(book.customer[recent], weights=book.total[recent], minlength=c.n)
    thresholds = np.array([t for _, t in p.rank_thresholds])
    rank = (spend[:, None] < thresholds[None, :]).sum(axis=1)
    last_act = np.where(times.last_order_at < NEVER, times.last_order_at, c.registered_at)
    lo, hi = WITHDRAWAL_DELAY_DAYS
    wd = last_act + (rng.uniform(lo, hi, c.n) * SECONDS_PER_DAY).astype(np.int64)
    withdrawn = (rng.random(c.n) < p.withdrawn_share) & (wd <= cal.end_s)
    return MemberState(c.global_index, c.registered_at, rank, np.where(withdrawn, wd, NEVER))


def _generate_chunk(
    job: _Job,
    chunk: int,
    first: int,
    n: int,
    cal: ShopCalendar,
    catalogue: Catalogue,
    writer: LandingWriter,
) -> None:
    p = job.params

    def rng(stream: int) -> np.random.Generator:
        return np.random.default_rng([job.seed, chunk, stream])

    c = draw_customers(rng(STREAM_CUSTOMERS), cal, first, n, catalogue, p)
    demo = draw_demographics(rng(STREAM_DEMOGRAPHICS), c.registered_at)
    times = simulate_order_times(rng(STREAM_ORDER_TIMES), cal, c, p)
    book = build_order_book(rng(STREAM_ORDERS), cal, catalogue, c, demo, times, chunk, p)
    ful = simulate_fulfilment(rng(STREAM_FULFILMENT), cal, book, chunk, p)

    m_rng = rng(STREAM_MEMBERS)
    state = _member_state(m_rng, cal, c, times, book, ful, p)
    withdrawn_at = state.withdrawn_at
    members = build_members(m_rng, state, demo, cal.end_s, p)
    cust_id = customer_ids(c.global_index)
    writer.write_feed(
        "members",
        FeedRows(
            members.registered_at,
            (members.withdrawn_at, members.profile_updated_at),
            partial(member_table, members),
            full_extract=True,
        ),
    )
    sup = build_suppressions(m_rng, members, cust_id, cal.end_s, p)
    writer.write_feed(
        "suppressions",
        FeedRows(sup.suppressed_at, (), partial(suppression_table, sup), full_extract=True),
    )
    del members, sup

    names = [x for x, _ in p.channel_weights]
    writer.write_feed(
        "orders",
        FeedRows(
            book.at,
            (ful.cancel_at, ful.ship_at, ful.deliver_at, ful.full_return_at),
            partial(order_table, book, ful, cust_id, names),
        ),
    )
    writer.write_feed(
        "order_lines", FeedRows(book.at[book.line_order], (), partial(line_table, book, catalogue))
    )
    writer.write_feed(
        "shipments",
        FeedRows(ful.shp_shipped, (ful.shp_delivered,), partial(shipment_table, book, ful)),
    )
    writer.write_feed("returns", FeedRows(ful.ret_at, (), partial(return_table, book, ful)))

    visits = plan_visits(rng(STREAM_VISITS), cal, c, book, times.dropout_at, withdrawn_at, chunk, p)
    sessions, pages = attach_pages(rng(STREAM_PAGES), cal, catalogue, c, book, visits, chunk, p)
    writer.write_feed(
        "sessions",
        FeedRows(sessions.started, (), partial(session_table, sessions, cust_id, book.order_id)),
    )
    if p.with_page_views:
        writer.write_feed(
            "page_views",
            FeedRows(
                pages.viewed_at, (), partial(page_table, pages, sessions.session_id, catalogue)
            ),
        )
