"""Page views: the detail of each visit, which also fixes the visit's timing and landing page.

A visit's pages are laid out as: landing page, browsing pages, (converting visits) one product
page per ordered item, then the funnel (cart → checkout → complete for converting visits,
sometimes cart or cart → checkout for abandoned carts). The complete page is viewed at the
order time, so a converting visit starts shortly before its order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crm.demo.catalogue import CATEGORIES, Catalogue
from crm.demo.columns import (
    categorical,
    draw_from,
    group_starts,
    ints,
    inverse_cdf_table,
    lognormal_table,
    pick_rowwise,
    poisson_table,
    rank_in_group,
    timestamps,
    unique_dictionary,
)
from crm.demo.customers import Customers
from crm.demo.orders import OrderBook
from crm.demo.params import ShopParams
from crm.demo.shop_calendar import ShopCalendar
from crm.demo.web import (
    CONVERTING,
    EMAIL,
    REGISTRATION,
    SessionRecords,
    Visits,
    session_ids,
    utm_suffixes,
)

SHOP_URL = "https://shop.example.jp"
PAGE_TYPES: tuple[str, ...] = (
    "top",
    "category",
    "product",
    "cart",
    "checkout",
    "complete",
    "other",
)
TOP, CATEGORY, PRODUCT, CART, CHECKOUT, COMPLETE, OTHER = range(7)
#: Landing page type shares (top, category, product, other) per traffic source (web.SOURCES).
LANDING_SHARES: tuple[tuple[float, ...], ...] = (
    (0.25, 0.25, 0.45, 0.05),
    (0.30, 0.20, 0.50, 0.00),
    (0.30, 0.25, 0.40, 0.05),
    (0.30, 0.00, 0.70, 0.00),
    (0.40, 0.10, 0.30, 0.20),
    (0.30, 0.20, 0.30, 0.20),
    (0.60, 0.10, 0.10, 0.20),
)
LANDING_TYPES: tuple[int, ...] = (TOP, CATEGORY, PRODUCT, OTHER)
#: Page type shares of browsing pages (top, category, product, other).
BROWSE_SHARES: tuple[float, ...] = (0.10, 0.30, 0.50, 0.10)
OTHER_PATHS: tuple[str, ...] = ("/mypage", "/guide/shipping", "/news", "/faq", "/mypage/favorites")
#: Extra browsing pages in a converting visit (Poisson mean).
CONVERTING_EXTRA_PAGES = 1.5
#: Median seconds on a page (lognormal), product pages take longer.
MEDIAN_SECONDS_ON_PAGE = 35.0
PRODUCT_PAGE_FACTOR = 1.4
#: Chance that a member looks at their favourite category rather than the popular items.
FAVOURITE_BROWSE_SHARE = 0.5


@dataclass(frozen=True)
class PageRecords:
    """Page views in output order (grouped by session, sessions in visit order)."""

    session: np.ndarray  # index into the sessions
    viewed_at: np.ndarray
    url: pa.DictionaryArray
    page_type: np.ndarray
    sku: np.ndarray  # -1 = none
    seconds: np.ndarray
    scroll: np.ndarray


def _url_paths(catalogue: Catalogue, cal: ShopCalendar) -> tuple[list[str], dict[str, int]]:
    paths = ["/"]
    off = {"category": len(paths)}
    paths += [f"/category/{c.slug}" for c in CATEGORIES]
    off["product"] = len(paths)
    paths += [f"/products/{s}" for s in catalogue.sku.to_pylist()]
    off["funnel"] = len(paths)
    paths += ["/cart", "/checkout", "/checkout/complete"]
    off["other"] = len(paths)
    paths += list(OTHER_PATHS)
    off["subscription"] = len(paths)
    paths.append("/mypage/subscription")
    off["register"] = len(paths)
    paths.append("/member/register")
    off["campaign"] = len(paths)
    paths += [f"/campaign/{c.slug}" for c in cal.campaigns]
    return [SHOP_URL + p for p in paths], off


def _ranges(start: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat positions ``start[i] + k`` for k < counts[i], and k."""
    k = rank_in_group(counts)
    return np.repeat(start, counts) + k, k


SECONDS_TABLE = np.clip(lognormal_table(MEDIAN_SECONDS_ON_PAGE, 0.9), 2, 1200).astype(np.int64)
PRODUCT_SECONDS_TABLE = np.clip(
    lognormal_table(MEDIAN_SECONDS_ON_PAGE * PRODUCT_PAGE_FACTOR, 0.9), 2, 1200
).astype(np.int64)
#: Scroll depth in steps of 5 % (more deep scrolls than shallow ones).
SCROLL_TABLE = inverse_cdf_table([1 + i for i in range(20)]) * 5 + 5
BROWSE_TABLE = np.asarray(LANDING_TYPES, dtype=np.int8)[inverse_cdf_table(BROWSE_SHARES)]


@dataclass(frozen=True)
class _Layout:
    """Where each visit's pages sit in the flat page-view arrays, and what type they are."""

    pv: np.ndarray  # page views per visit
    first_row: np.ndarray
    last_row: np.ndarray
    sess: np.ndarray  # visit of each page view
    ptype: np.ndarray
    landing_type: np.ndarray  # per visit
    registration: np.ndarray  # registration visits (their second page is the sign-up form)
    item_rows: np.ndarray  # product pages of the ordered items...
    item_line: np.ndarray  # ...and their order lines
    funnel_rows: np.ndarray  # cart / checkout / complete pages...
    funnel_step: np.ndarray  # ...0, 1, 2

    @property
    def total(self) -> int:
        return len(self.sess)


def _layout(rng: np.random.Generator, book: OrderBook, v: Visits, params: ShopParams) -> _Layout:
    """Landing page, browsing pages, (converting visits) the ordered items, then the funnel."""
    s = len(v.kind)
    conv = v.kind == CONVERTING
    order = np.maximum(v.order, 0)
    n_items = np.where(conv, book.n_lines[order], 0)
    bounce = ~conv & (v.kind != REGISTRATION) & (rng.random(s) < params.bounce_share)
    n_browse = np.where(
        conv,
        draw_from(rng, poisson_table(CONVERTING_EXTRA_PAGES), s),
        np.where(bounce, 0, 1 + draw_from(rng, poisson_table(params.extra_pages_mean - 1), s)),
    )
    cart = ~conv & ~bounce & (rng.random(s) < params.cart_abandon_share)
    n_funnel = np.where(conv, 3, np.where(cart, 1 + (rng.random(s) < 0.3), 0))
    pv = 1 + n_browse + n_items + n_funnel
    first_row = group_starts(pv)
    last_row = first_row + pv - 1
    sess = np.repeat(np.arange(s, dtype=np.int32), pv)

    ptype = draw_from(rng, BROWSE_TABLE, len(sess))
    landing_type = np.asarray(LANDING_TYPES)[pick_rowwise(rng, LANDING_SHARES, v.source)]
    landing_type[v.subscription] = OTHER
    ptype[first_row] = landing_type
    reg = np.flatnonzero(v.kind == REGISTRATION)
    ptype[first_row[reg] + 1] = OTHER
    ci = np.flatnonzero(conv)
    item_rows, k_item = _ranges(first_row[ci] + 1 + n_browse[ci], n_items[ci])
    item_line = np.repeat(book.line_start[order[ci]], n_items[ci]) + k_item
    ptype[item_rows] = PRODUCT
    fi = np.flatnonzero(n_funnel > 0)
    funnel_rows, k_funnel = _ranges(last_row[fi] + 1 - n_funnel[fi], n_funnel[fi])
    ptype[funnel_rows] = CART + k_funnel
    return _Layout(
        pv,
        first_row,
        last_row,
        sess,
        ptype,
        landing_type,
        reg,
        item_rows,
        item_line,
        funnel_rows,
        k_funnel,
    )


def _page_urls(
    rng: np.random.Generator,
    cal: ShopCalendar,
    catalogue: Catalogue,
    c: Customers,
    book: OrderBook,
    v: Visits,
    lay: _Layout,
) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """(sku, url code, url dictionary) per page view: products (the member's favourite
    category half of the time), categories, funnel and other pages; landing pages carry the
    utm query, one dictionary entry per distinct (page, query)."""
    paths, off = _url_paths(catalogue, cal)
    ptype, sess, first_row = lay.ptype, lay.sess, lay.first_row
    code = np.zeros(lay.total, dtype=np.int32)
    prod = np.flatnonzero(ptype == PRODUCT)
    cust = v.customer[sess[prod]]
    fav = (cust >= 0) & (rng.random(len(prod)) < FAVOURITE_BROWSE_SHARE)
    sku = np.full(lay.total, -1, dtype=np.int32)
    sku[prod] = np.where(
        fav,
        catalogue.sample_sku_in(rng, c.fav_category[np.maximum(cust, 0)]),
        catalogue.sample_any(rng, len(prod)),
    )
    sku[lay.item_rows] = book.line_sku[lay.item_line]
    code[prod] = off["product"] + sku[prod]
    cat_rows = np.flatnonzero(ptype == CATEGORY)
    cust = v.customer[sess[cat_rows]]
    fav = (cust >= 0) & (rng.random(len(cat_rows)) < FAVOURITE_BROWSE_SHARE)
    category = np.where(
        fav,
        c.fav_category[np.maximum(cust, 0)],
        catalogue.sample_category(rng, np.zeros(len(cat_rows), dtype=bool)),
    )
    code[cat_rows] = off["category"] + category
    code[lay.funnel_rows] = off["funnel"] + lay.funnel_step
    other_rows = np.flatnonzero(ptype == OTHER)
    code[other_rows] = off["other"] + rng.integers(0, len(OTHER_PATHS), len(other_rows))
    campaign_landing = (
        (lay.landing_type == OTHER)
        & (v.source == EMAIL)
        & (v.campaign >= 0)
        & (v.campaign < len(cal.campaigns))
    )
    code[first_row[campaign_landing]] = off["campaign"] + v.campaign[campaign_landing]
    code[first_row[v.subscription]] = off["subscription"]
    code[first_row[lay.registration] + 1] = off["register"]

    suffixes, width = utm_suffixes(v.campaign_names)
    combo = code[first_row].astype(np.int64) * len(suffixes) + v.source * width + v.campaign + 1
    present = np.bincount(combo, minlength=len(paths) * len(suffixes)) > 0
    landing_urls = [
        paths[u // len(suffixes)] + suffixes[u % len(suffixes)] for u in np.flatnonzero(present)
    ]
    code[first_row] = len(paths) + (np.cumsum(present) - 1)[combo]
    dictionary, remap = unique_dictionary(paths + landing_urls)  # "/" + "" is "/" again
    return sku, remap[code], dictionary


def _timing(
    rng: np.random.Generator, cal: ShopCalendar, v: Visits, lay: _Layout
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(seconds on page, visit start, visit duration, viewed_at): the complete page is viewed
    at the order time; visits end by the end of the data."""
    first_row, last_row, pv = lay.first_row, lay.last_row, lay.pv
    conv = np.flatnonzero(v.kind == CONVERTING)
    seconds = draw_from(rng, SECONDS_TABLE, lay.total)
    prod = np.flatnonzero(lay.ptype == PRODUCT)
    seconds[prod] = draw_from(rng, PRODUCT_SECONDS_TABLE, len(prod))
    complete = lay.funnel_rows[lay.funnel_step == 2]
    seconds[complete] = rng.integers(5, 60, len(complete))
    seconds[last_row[conv]] = np.clip(cal.end_s - v.anchor[conv], 1, seconds[last_row[conv]])
    # orders in the first hours of the data: hurry through the pages (visits start inside)
    early = conv[v.anchor[conv] - cal.start_s < pv[conv] * SECONDS_TABLE[-1]]
    rows, _ = _ranges(first_row[early], pv[early])
    seconds[rows] = 1
    before = np.cumsum(seconds) - seconds
    lead = before[last_row] - before[first_row]
    duration = before[last_row] + seconds[last_row] - before[first_row]
    is_conv = v.kind == CONVERTING
    started = np.where(is_conv, v.anchor - lead, np.minimum(v.anchor, cal.end_s - duration))
    viewed_at = before + (started - before[first_row])[lay.sess]
    return seconds, started, duration, viewed_at


def attach_pages(
    rng: np.random.Generator,
    cal: ShopCalendar,
    catalogue: Catalogue,
    c: Customers,
    book: OrderBook,
    v: Visits,
    chunk: int,
    params: ShopParams,
) -> tuple[SessionRecords, PageRecords]:
    """Page views of every visit, and the visits' final timing, size and landing page."""
    lay = _layout(rng, book, v, params)
    sku, code, dictionary = _page_urls(rng, cal, catalogue, c, book, v, lay)
    seconds, started, duration, viewed_at = _timing(rng, cal, v, lay)
    sessions = SessionRecords(
        visits=v,
        started=started,
        duration=duration,
        page_views=lay.pv,
        landing_page=pa.DictionaryArray.from_arrays(pa.array(code[lay.first_row]), dictionary),
        session_id=session_ids(chunk, len(v.kind)),
    )
    pages = PageRecords(
        session=lay.sess,
        viewed_at=viewed_at,
        url=pa.DictionaryArray.from_arrays(pa.array(code), dictionary),
        page_type=lay.ptype,
        sku=sku,
        seconds=seconds,
        scroll=draw_from(rng, SCROLL_TABLE, lay.total),
    )
    return sessions, pages


def page_table(
    p: PageRecords, session_id: pa.Array, catalogue: Catalogue, rows: np.ndarray, cutoff: int
) -> pa.Table:
    del cutoff  # page views never change
    sku = p.sku[rows]
    return pa.table(
        {
            "session_id": pc.take(session_id, pa.array(p.session[rows])),
            "viewed_at": timestamps(p.viewed_at[rows]),
            "page_url": pc.take(p.url, pa.array(rows)),
            "page_type": categorical(PAGE_TYPES, p.page_type[rows]),
            "sku": categorical(catalogue.sku, np.maximum(sku, 0), sku >= 0),
            "time_on_page_seconds": ints(p.seconds[rows]),
            "scroll_depth_pct": ints(p.scroll[rows]),
        }
    )
