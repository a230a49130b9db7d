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
    cdf_matrix,
    group_starts,
    ints,
    lookup,
    pick_rowwise,
    pick_weighted,
    rank_in_group,
    timestamps,
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
PAGE_TYPES: tuple[str, ...] = ("top", "category", "product", "cart", "checkout", "complete", "other")
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
    """Page views in output order (grouped by session, sessions by start time)."""

    session: np.ndarray  # index into SessionRecords rows
    viewed_at: np.ndarray
    url: pa.Array
    page_type: np.ndarray
    sku: np.ndarray  # -1 = none
    seconds: np.ndarray
    scroll: np.ndarray


def _url_dictionary(catalogue: Catalogue, cal: ShopCalendar) -> tuple[pa.Array, dict[str, int]]:
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
    return pa.array([SHOP_URL + p for p in paths], pa.string()), off


def attach_pages(rng: np.random.Generator, cal: ShopCalendar, catalogue: Catalogue,
                 c: Customers, book: OrderBook, v: Visits, chunk: int,
                 params: ShopParams) -> tuple[SessionRecords, PageRecords]:  # fmt: skip
    s = len(v.kind)
    conv = v.kind == CONVERTING
    order = np.maximum(v.order, 0)
    n_items = np.where(conv, book.n_lines[order], 0)
    bounce = ~conv & (v.kind != REGISTRATION) & (rng.random(s) < params.bounce_share)
    n_browse = np.where(conv, rng.poisson(CONVERTING_EXTRA_PAGES, s),
                        np.where(bounce, 0, 1 + rng.poisson(params.extra_pages_mean - 1, s)))
    cart = ~conv & ~bounce & (rng.random(s) < params.cart_abandon_share)
    n_funnel = np.where(conv, 3, np.where(cart, 1 + (rng.random(s) < 0.3), 0))
    pv = 1 + n_browse + n_items + n_funnel

    sess = np.repeat(np.arange(s), pv)
    pos = rank_in_group(pv)
    nb, ni = n_browse[sess], n_items[sess]
    landing = pos == 0
    browsing = (pos >= 1) & (pos <= nb)
    item = (pos > nb) & (pos <= nb + ni)
    landing_type = np.asarray(LANDING_TYPES)[pick_rowwise(rng, cdf_matrix(LANDING_SHARES), v.source)]
    browse_type = np.asarray(LANDING_TYPES)[pick_weighted(rng, BROWSE_SHARES, len(sess))]
    ptype = np.select([landing, browsing, item],
                      [landing_type[sess], browse_type, PRODUCT], CART + (pos - 1 - nb - ni))
    sub_landing = landing & v.subscription[sess]
    reg_page = (pos == 1) & (v.kind[sess] == REGISTRATION)
    ptype = np.where(sub_landing | reg_page, OTHER, ptype)

    member = v.customer[sess] >= 0
    fav = c.fav_category[np.maximum(v.customer[sess], 0)]
    sku = np.full(len(sess), -1, dtype=np.int64)
    browse_product = np.flatnonzero((ptype == PRODUCT) & ~item)
    use_fav = member[browse_product] & (rng.random(len(browse_product)) < FAVOURITE_BROWSE_SHARE)
    sku[browse_product] = np.where(use_fav, catalogue.sample_sku_in(rng, fav[browse_product]),
                                   catalogue.sample_any(rng, len(browse_product)))  # fmt: skip
    items = np.flatnonzero(item)
    sku[items] = book.line_sku[book.line_start[order[sess[items]]] + pos[items] - 1 - nb[items]]
    cat_rows = np.flatnonzero(ptype == CATEGORY)
    cat_any = catalogue.sample_category(rng, np.zeros(len(cat_rows), dtype=bool))
    cat_fav = member[cat_rows] & (rng.random(len(cat_rows)) < FAVOURITE_BROWSE_SHARE)
    category = np.where(cat_fav, fav[cat_rows], cat_any)

    urls, off = _url_dictionary(catalogue, cal)
    code = np.zeros(len(sess), dtype=np.int64)
    code[cat_rows] = off["category"] + category
    code = np.where(ptype == PRODUCT, off["product"] + sku, code)
    code = np.where((ptype >= CART) & (ptype <= COMPLETE), off["funnel"] + ptype - CART, code)
    other = off["other"] + rng.integers(0, len(OTHER_PATHS), len(sess))
    camp = v.campaign[sess]
    camp_page = landing & (v.source[sess] == EMAIL) & (camp >= 0) & (camp < len(cal.campaigns))
    other = np.where(camp_page, off["campaign"] + camp, other)
    other = np.where(sub_landing, off["subscription"], np.where(reg_page, off["register"], other))
    code = np.where(ptype == OTHER, other, code)

    seconds = np.exp(rng.normal(np.log(MEDIAN_SECONDS_ON_PAGE), 0.9, len(sess)))
    seconds = np.where(ptype == PRODUCT, seconds * PRODUCT_PAGE_FACTOR, seconds)
    seconds = np.where(ptype == COMPLETE, rng.integers(5, 60, len(sess)), seconds)
    seconds = np.clip(seconds, 2, 1200).astype(np.int64)
    first_row = group_starts(pv)
    last_row = first_row + pv - 1
    conv_last = last_row[conv]
    seconds[conv_last] = np.clip(cal.end_s - book.at[order[conv]], 1, seconds[conv_last])
    before = np.cumsum(seconds) - seconds
    within = before - before[first_row][sess]
    started = np.where(conv, v.anchor - within[last_row], v.anchor)
    duration = np.bincount(sess, weights=seconds, minlength=s).astype(np.int64)
    keep = conv | (started + duration <= cal.end_s)
    out = np.flatnonzero(keep)
    out = out[np.argsort(started[out], kind="stable")]
    row_perm = np.repeat(first_row[out], pv[out]) + rank_in_group(pv[out])

    suffixes, width = utm_suffixes(v.campaign_names)
    landing_url = pc.binary_join_element_wise(
        pc.take(urls, pa.array(code[first_row[out]])),
        lookup(suffixes, v.source[out] * width + v.campaign[out] + 1),
        "",
    )
    page_url = pc.take(urls, pa.array(code[row_perm]))
    page_url = pc.replace_with_mask(page_url, pa.array(pos[row_perm] == 0), landing_url)
    scroll = np.clip(np.round(rng.beta(2.2, 1.5, len(sess)) * 20) * 5, 5, 100).astype(np.int64)
    sessions = SessionRecords(
        visits=v, rows=out, started=started[out], duration=duration[out], page_views=pv[out],
        landing_page=landing_url, session_id=session_ids(chunk, len(out)),
    )  # fmt: skip
    pages = PageRecords(
        session=np.repeat(np.arange(len(out)), pv[out]),
        viewed_at=(started[sess] + within)[row_perm], url=page_url, page_type=ptype[row_perm],
        sku=sku[row_perm], seconds=seconds[row_perm], scroll=scroll[row_perm],
    )  # fmt: skip
    return sessions, pages


def page_table(p: PageRecords, session_id: pa.Array, catalogue: Catalogue, rows: np.ndarray,
               cutoff: int) -> pa.Table:  # fmt: skip
    del cutoff  # page views never change
    sku = p.sku[rows]
    return pa.table({
        "session_id": pc.take(session_id, pa.array(p.session[rows])),
        "viewed_at": timestamps(p.viewed_at[rows]),
        "page_url": pc.take(p.url, pa.array(rows)),
        "page_type": lookup(PAGE_TYPES, p.page_type[rows]),
        "sku": pc.take(catalogue.sku, pa.array(np.maximum(sku, 0), mask=sku < 0)),
        "time_on_page_seconds": ints(p.seconds[rows]),
        "scroll_depth_pct": ints(p.scroll[rows]),
    })  # fmt: skip
