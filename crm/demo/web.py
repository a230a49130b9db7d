"""Web sessions from the site tag: visitors (cookie ids), visits, traffic sources.

Members have one to three devices (visitors). Every own-site order has a converting visit;
members also visit without buying (logged in or not: an anonymous visit carries the visitor id
of a device on which the member has logged in before), while they are active and for a while
after they stop buying; prospects visit after registering; anonymous visitors who never
identify themselves browse and sometimes place guest orders. Page views (``pages.py``) give
each visit its length and landing page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crm.demo import vocab
from crm.demo.columns import (
    NEVER,
    bools,
    cdf_matrix,
    codes,
    digits,
    group_starts,
    ints,
    join,
    lookup,
    pick_rowwise,
    pick_weighted,
    scramble,
    timestamps,
)
from crm.demo.customers import FIRST, SUBSCRIPTION, Customers
from crm.demo.orders import OrderBook
from crm.demo.params import ShopParams
from crm.demo.shop_calendar import SECONDS_PER_DAY, ShopCalendar

#: Session kinds.
CONVERTING, REGISTRATION, BROWSE, ANONYMOUS = 0, 1, 2, 3
#: Traffic sources (source, medium, referrer).
SOURCES: tuple[tuple[str, str, str | None], ...] = (
    ("google", "organic", "https://www.google.com/"),
    ("google", "cpc", "https://www.google.com/"),
    ("yahoo", "organic", "https://search.yahoo.co.jp/"),
    ("instagram", "social", "https://l.instagram.com/"),
    ("line", "social", "https://line.me/"),
    ("email", "newsletter", None),
    ("direct", "none", None),
)
EMAIL, CPC, DIRECT = 5, 1, 6
SOCIAL: tuple[int, ...] = (3, 4)
#: Source shares per session kind (rows: converting, registration, browse, anonymous).
SOURCE_SHARES: tuple[tuple[float, ...], ...] = (
    (0.22, 0.14, 0.05, 0.08, 0.08, 0.13, 0.30),
    (0.28, 0.22, 0.06, 0.14, 0.08, 0.00, 0.22),
    (0.24, 0.10, 0.06, 0.10, 0.10, 0.16, 0.24),
    (0.32, 0.20, 0.08, 0.16, 0.06, 0.00, 0.18),
)
#: Converting visits of orders that used a campaign coupon come from the newsletter this often.
COUPON_EMAIL_SHARE = 0.45
#: Visits to place a 定期購入 order come from the reminder mail this often.
SUBSCRIPTION_EMAIL_SHARE = 0.6
#: utm_campaign values besides the campaign slugs.
EXTRA_CAMPAIGNS: tuple[str, ...] = (
    "weekly_newsletter", "subscription_reminder", "brand_search", "generic_search",
)  # fmt: skip
#: Devices per member: 1 + Binomial(2, p).
EXTRA_DEVICE_P = 0.25
#: Anonymous visitors keep visiting for an exponential time with this mean (days).
ANONYMOUS_SPAN_DAYS = 60.0
VISITOR_STRIDE = 10_000_000
JST_OFFSET_S = 9 * 3600


@dataclass(frozen=True)
class Visits:
    """Sessions of a chunk before page views are attached (not yet sorted)."""

    kind: np.ndarray
    visitor: np.ndarray
    customer: np.ndarray  # owner member, -1 anonymous
    logged_in: np.ndarray
    anchor: np.ndarray  # started_at, or for converting visits the order time
    order: np.ndarray  # order index, -1
    source: np.ndarray
    campaign: np.ndarray  # index into campaign names, -1 = none
    subscription: np.ndarray  # converting visit of a 定期購入 order
    # visitors
    visitor_id: pa.Array
    visitor_device: np.ndarray
    visitor_agent: np.ndarray
    campaign_names: tuple[str, ...]


def _visitors(rng: np.random.Generator, cal: ShopCalendar, c: Customers, chunk: int,
              params: ShopParams) -> dict[str, np.ndarray | pa.Array | int]:  # fmt: skip
    n_dev = 1 + rng.binomial(2, EXTRA_DEVICE_P, c.n)
    owner = np.repeat(np.arange(c.n), n_dev)
    n_anon = max(1, int(round(params.anonymous_visitors_per_customer * c.n)))
    anon_first = cal.sample_times(rng, cal.order_cum, np.full(n_anon, cal.start_day),
                                  np.full(n_anon, cal.end_day + 1))  # fmt: skip
    born = np.concatenate([c.registered_at[owner], anon_first])
    v = len(born)
    device = pick_weighted(rng, [w for _, w in vocab.DEVICE_TYPES], v)
    n_agents = np.array([len(vocab.USER_AGENTS[d]) for d, _ in vocab.DEVICE_TYPES])
    agent_start = group_starts(n_agents)
    agent = agent_start[device] + (rng.random(v) * n_agents[device]).astype(np.int64)
    number = scramble(chunk * VISITOR_STRIDE + np.arange(v), 10**10, 2_147_483_647, 982_451_653)
    visitor_id = join(digits(number, 10), ".", digits(born - JST_OFFSET_S, 10))
    return {"n_dev": n_dev, "dev_start": group_starts(n_dev), "n_member_vis": len(owner),
            "n_anon": n_anon, "anon_first": anon_first, "visitor_id": visitor_id,
            "device": device, "agent": agent}  # fmt: skip


def _member_browse(rng: np.random.Generator, cal: ShopCalendar, c: Customers,
                   dropout_at: np.ndarray, withdrawn_at: np.ndarray,
                   params: ShopParams) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(customer, time) of members' non-converting visits."""
    tail = (rng.exponential(params.web_tail_mean_days, c.n) * SECONDS_PER_DAY).astype(np.int64)
    prospect = (rng.exponential(params.prospect_web_mean_days, c.n) * SECONDS_PER_DAY).astype(
        np.int64
    )
    active_end = np.where(dropout_at < NEVER, np.minimum(dropout_at, cal.end_s) + tail, cal.end_s)
    active_end = np.where(c.first_order_at < NEVER, active_end, c.registered_at + prospect)
    hi_t = np.minimum(np.minimum(active_end, withdrawn_at), cal.end_s)
    lo = np.maximum(cal.day_of(c.registered_at) + 1, cal.start_day)
    hi = np.maximum(cal.day_of(hi_t) + 1, lo)
    rate = params.browse_rate_base + params.browse_rate_factor * c.rate
    k = rng.poisson(rate * (cal.order_cum[hi] - cal.order_cum[lo]))
    cust = np.repeat(np.arange(c.n), k)
    t = cal.sample_times(rng, cal.order_cum, lo[cust], hi[cust])
    ok = t <= hi_t[cust]
    return cust[ok], t[ok]


def _campaign_names(cal: ShopCalendar) -> tuple[str, ...]:
    return tuple(x.slug for x in cal.campaigns) + EXTRA_CAMPAIGNS


def plan_visits(rng: np.random.Generator, cal: ShopCalendar, c: Customers, book: OrderBook,
                dropout_at: np.ndarray, withdrawn_at: np.ndarray, chunk: int,
                params: ShopParams) -> Visits:  # fmt: skip
    names = [x for x, _ in params.channel_weights]
    vis = _visitors(rng, cal, c, chunk, params)
    n_dev, dev_start = vis["n_dev"], vis["dev_start"]
    n_member_vis, n_anon = int(vis["n_member_vis"]), int(vis["n_anon"])

    def member_device(cust: np.ndarray) -> np.ndarray:
        return dev_start[cust] + (rng.random(len(cust)) * n_dev[cust]).astype(np.int64)

    own = np.flatnonzero(book.channel == names.index("own_site"))
    o_cust = book.customer[own]
    o_vis = np.where(o_cust >= 0, member_device(np.maximum(o_cust, 0)),
                     n_member_vis + rng.integers(0, n_anon, len(own)))  # fmt: skip
    first_own = np.zeros(c.n, dtype=bool)
    first_own[book.customer[own][book.kind[own] == FIRST]] = True
    reg = np.flatnonzero(~(c.same_visit & first_own))
    reg_t = c.registered_at[reg] - rng.integers(60, 900, len(reg))
    b_cust, b_t = _member_browse(rng, cal, c, dropout_at, withdrawn_at, params)
    a_extra = rng.poisson(params.anonymous_extra_visits_mean, n_anon)
    a_vis = np.repeat(np.arange(n_anon), 1 + a_extra)
    span = rng.exponential(ANONYMOUS_SPAN_DAYS * SECONDS_PER_DAY, n_anon).astype(np.int64)
    first_of = np.zeros(len(a_vis), dtype=bool)
    first_of[group_starts(1 + a_extra)] = True
    a_t = vis["anon_first"][a_vis] + np.where(first_of, 0, (rng.random(len(a_vis))
                                                          * span[a_vis]).astype(np.int64))

    kind = np.concatenate([np.full(len(own), CONVERTING), np.full(len(reg), REGISTRATION),
                           np.full(len(b_cust), BROWSE), np.full(len(a_vis), ANONYMOUS)])
    visitor = np.concatenate([o_vis, member_device(reg), member_device(b_cust),
                              n_member_vis + a_vis])
    customer = np.concatenate([o_cust, reg, b_cust, np.full(len(a_vis), -1)])
    anchor = np.concatenate([book.at[own], reg_t, b_t, a_t])
    order = np.concatenate([own, np.full(len(kind) - len(own), -1)])
    keep = (kind == CONVERTING) | ((anchor >= cal.start_s) & (anchor <= cal.end_s - 1))
    kind, visitor, customer, anchor, order = (x[keep] for x in (kind, visitor, customer, anchor,
                                                                 order))  # fmt: skip
    n = len(kind)
    logged_in = (customer >= 0) & (
        (kind != BROWSE) | (rng.random(n) < params.logged_in_share)
    )
    # the first visit of every member device in the data is a logged-in one
    by_visitor = np.lexsort((anchor, visitor))
    first = np.ones(n, dtype=bool)
    first[1:] = visitor[by_visitor][1:] != visitor[by_visitor][:-1]
    logged_in[by_visitor[first & (customer[by_visitor] >= 0)]] = True

    source = pick_rowwise(rng, cdf_matrix(SOURCE_SHARES), kind)
    campaign_idx = np.full(n, -1, dtype=np.int64)
    camp_now = cal.campaign_at(anchor)
    used = np.where(order >= 0, book.campaign[np.maximum(order, 0)], -1)
    is_sub = (order >= 0) & (book.kind[np.maximum(order, 0)] == SUBSCRIPTION)
    source = np.where((used >= 0) & (rng.random(n) < COUPON_EMAIL_SHARE), EMAIL, source)
    source = np.where(is_sub, np.where(rng.random(n) < SUBSCRIPTION_EMAIL_SHARE, EMAIL, DIRECT),
                      source)  # fmt: skip
    n_camp = len(cal.campaigns)
    extra = {name: n_camp + i for i, name in enumerate(EXTRA_CAMPAIGNS)}
    email_camp = np.where(camp_now >= 0, camp_now, extra["weekly_newsletter"])
    email_camp = np.where(is_sub, extra["subscription_reminder"], email_camp)
    social_camp = np.where((camp_now >= 0) & (rng.random(n) < 0.5), camp_now, -1)
    cpc_camp = np.where(rng.random(n) < 0.5, extra["brand_search"], extra["generic_search"])
    campaign_idx = np.select([source == EMAIL, np.isin(source, SOCIAL), source == CPC],
                             [email_camp, social_camp, cpc_camp], campaign_idx)  # fmt: skip
    return Visits(
        kind=kind, visitor=visitor, customer=customer, logged_in=logged_in, anchor=anchor,
        order=order, source=source, campaign=campaign_idx, subscription=is_sub,
        visitor_id=vis["visitor_id"], visitor_device=vis["device"], visitor_agent=vis["agent"],
        campaign_names=_campaign_names(cal),
    )  # fmt: skip


def utm_suffixes(campaign_names: tuple[str, ...]) -> tuple[list[str], int]:
    """Landing-page query strings per (source, campaign); index = source * width + campaign + 1."""
    width = len(campaign_names) + 1
    out: list[str] = []
    for i, (src, medium, _ref) in enumerate(SOURCES):
        tagged = i in (CPC, EMAIL, *SOCIAL)
        out.append(f"?utm_source={src}&utm_medium={medium}" if tagged else "")
        for name in campaign_names:
            out.append(f"?utm_source={src}&utm_medium={medium}&utm_campaign={name}"
                       if tagged else "")  # fmt: skip
    return out, width


@dataclass(frozen=True)
class SessionRecords:
    """Final sessions of a chunk, sorted by started_at."""

    visits: Visits
    rows: np.ndarray  # index into visits, in output order
    started: np.ndarray
    duration: np.ndarray
    page_views: np.ndarray
    landing_page: pa.Array
    session_id: pa.Array


def session_table(s: SessionRecords, customer_id: pa.Array, order_id: pa.Array,
                  rows: np.ndarray, cutoff: int) -> pa.Table:  # fmt: skip
    del cutoff  # sessions never change
    v = s.visits
    idx = s.rows[rows]
    visitor = v.visitor[idx]
    cust = np.where(v.logged_in[idx], v.customer[idx], -1)
    order = v.order[idx]
    source = v.source[idx]
    started, duration = s.started[rows], s.duration[rows]
    camp = v.campaign[idx]
    devices = [d for d, _ in vocab.DEVICE_TYPES]
    agents = [a for d in devices for a in vocab.USER_AGENTS[d]]
    return pa.table({
        "session_id": pc.take(s.session_id, pa.array(rows)),
        "visitor_id": pc.take(v.visitor_id, pa.array(visitor)),
        "customer_id": pc.take(customer_id, pa.array(np.maximum(cust, 0), mask=cust < 0)),
        "started_at": timestamps(started),
        "ended_at": timestamps(started + duration),
        "duration_seconds": ints(duration),
        "page_views": ints(s.page_views[rows]),
        "landing_page": pc.take(s.landing_page, pa.array(rows)),
        "referrer": lookup([r or "" for _, _, r in SOURCES], source,
                           np.asarray([r is not None for _, _, r in SOURCES])[source]),
        "source": lookup([x for x, _, _ in SOURCES], source),
        "medium": lookup([m for _, m, _ in SOURCES], source),
        "campaign": lookup(v.campaign_names, np.maximum(camp, 0), camp >= 0),
        "device_type": lookup(devices, v.visitor_device[visitor]),
        "user_agent": lookup(agents, v.visitor_agent[visitor]),
        "converted": bools(order >= 0),
        "order_id": pc.take(order_id, pa.array(np.maximum(order, 0), mask=order < 0)),
        "updated_at": timestamps(started + duration),
    })  # fmt: skip


def session_ids(chunk: int, n: int) -> pa.Array:
    return codes(f"S-{chunk + 1:03d}-", np.arange(1, n + 1), 9)
