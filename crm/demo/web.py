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
    categorical,
    codes,
    digits,
    group_starts,
    ints,
    join,
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
    "weekly_newsletter",
    "subscription_reminder",
    "brand_search",
    "generic_search",
)
#: Devices per member: 1 + Binomial(2, p).
EXTRA_DEVICE_P = 0.25
#: Anonymous visitors keep visiting for an exponential time with this mean (days).
ANONYMOUS_SPAN_DAYS = 60.0
#: Visitor numbers: chunk * stride + index, scrambled into 12 digits (unique across chunks).
VISITOR_STRIDE = 100_000_000
VISITOR_DIGITS = 12
JST_OFFSET_S = 9 * 3600


@dataclass(frozen=True)
class Visits:
    """Sessions of a chunk before page views are attached, sorted by anchor time."""

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


@dataclass(frozen=True)
class Visitors:
    """Cookie ids: members' devices first (grouped by member), then anonymous visitors."""

    n_devices: np.ndarray  # per member
    device_start: np.ndarray  # per member: index of the first device
    n_member_devices: int
    anonymous_first_seen: np.ndarray
    visitor_id: pa.Array
    device: np.ndarray  # index into vocab.DEVICE_TYPES
    agent: np.ndarray  # index into the flattened vocab.USER_AGENTS

    @property
    def n_anonymous(self) -> int:
        return len(self.anonymous_first_seen)

    def member_device(self, rng: np.random.Generator, customer: np.ndarray) -> np.ndarray:
        """One of each member's devices, at random."""
        pick = (rng.random(len(customer)) * self.n_devices[customer]).astype(np.int64)
        return self.device_start[customer] + pick


def _visitors(
    rng: np.random.Generator, cal: ShopCalendar, c: Customers, chunk: int, params: ShopParams
) -> Visitors:
    n_dev = 1 + rng.binomial(2, EXTRA_DEVICE_P, c.n)
    owner = np.repeat(np.arange(c.n), n_dev)
    n_anon = max(1, round(params.anonymous_visitors_per_customer * c.n))
    anon_first = cal.sample_times(
        rng, cal.order_cum, np.full(n_anon, cal.start_day), np.full(n_anon, cal.end_day + 1)
    )
    born = np.concatenate([c.registered_at[owner], anon_first])
    v = len(born)
    if v >= VISITOR_STRIDE:
        raise ValueError("too many visitors in one chunk; lower ShopParams.chunk_customers")
    device = pick_weighted(rng, [w for _, w in vocab.DEVICE_TYPES], v)
    n_agents = np.array([len(vocab.USER_AGENTS[d]) for d, _ in vocab.DEVICE_TYPES])
    agent = group_starts(n_agents)[device] + (rng.random(v) * n_agents[device]).astype(np.int64)
    number = scramble(
        chunk * VISITOR_STRIDE + np.arange(v), 10**VISITOR_DIGITS, 2_147_483_647, 982_451_653_409
    )
    visitor_id = join(digits(number, VISITOR_DIGITS), ".", digits(born - JST_OFFSET_S, 10))
    return Visitors(n_dev, group_starts(n_dev), len(owner), anon_first, visitor_id, device, agent)


def _member_browse(
    rng: np.random.Generator,
    cal: ShopCalendar,
    c: Customers,
    dropout_at: np.ndarray,
    withdrawn_at: np.ndarray,
    params: ShopParams,
) -> tuple[np.ndarray, np.ndarray]:
    """(customer, time) of members' non-converting visits.

    Members visit while active as buyers and for an exponential time after they drop out
    (lapsed customers who still look around); prospects for a while after registering.
    """
    days = SECONDS_PER_DAY
    tail = (rng.exponential(params.web_tail_mean_days, c.n) * days).astype(np.int64)
    prospect = (rng.exponential(params.prospect_web_mean_days, c.n) * days).astype(np.int64)
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


def _traffic(
    rng: np.random.Generator,
    cal: ShopCalendar,
    book: OrderBook,
    kind: np.ndarray,
    order: np.ndarray,
    anchor: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """(source, campaign, subscription) per visit: utm campaigns follow the running sale."""
    n = len(kind)
    source = pick_rowwise(rng, SOURCE_SHARES, kind)
    o = np.maximum(order, 0)
    used_coupon = (order >= 0) & (book.campaign[o] >= 0)
    is_sub = (order >= 0) & (book.kind[o] == SUBSCRIPTION)
    source = np.where(used_coupon & (rng.random(n) < COUPON_EMAIL_SHARE), EMAIL, source)
    reminder = np.where(rng.random(n) < SUBSCRIPTION_EMAIL_SHARE, EMAIL, DIRECT)
    source = np.where(is_sub, reminder, source)
    camp_now = cal.campaign_at(anchor)
    extra = {name: len(cal.campaigns) + i for i, name in enumerate(EXTRA_CAMPAIGNS)}
    email_camp = np.where(camp_now >= 0, camp_now, extra["weekly_newsletter"])
    email_camp = np.where(is_sub, extra["subscription_reminder"], email_camp)
    social_camp = np.where((camp_now >= 0) & (rng.random(n) < 0.5), camp_now, -1)
    cpc_camp = np.where(rng.random(n) < 0.5, extra["brand_search"], extra["generic_search"])
    campaign = np.select(
        [source == EMAIL, np.isin(source, SOCIAL), source == CPC],
        [email_camp, social_camp, cpc_camp],
        -1,
    )
    return source, campaign, is_sub


def plan_visits(
    rng: np.random.Generator,
    cal: ShopCalendar,
    c: Customers,
    book: OrderBook,
    dropout_at: np.ndarray,
    withdrawn_at: np.ndarray,
    chunk: int,
    params: ShopParams,
) -> Visits:
    """All visits of a chunk (converting, registration, browsing, anonymous), by time."""
    names = [x for x, _ in params.channel_weights]
    vis = _visitors(rng, cal, c, chunk, params)
    # converting visits: one per own-site order (guests on an anonymous visitor's device)
    own = np.flatnonzero(book.channel == names.index("own_site"))
    o_cust = book.customer[own]
    o_vis = np.where(
        o_cust >= 0,
        vis.member_device(rng, np.maximum(o_cust, 0)),
        vis.n_member_devices + rng.integers(0, vis.n_anonymous, len(own)),
    )
    # registration visits, unless the member registered while placing the first order
    first_own = np.zeros(c.n, dtype=bool)
    first_own[o_cust[book.kind[own] == FIRST]] = True
    reg = np.flatnonzero(~(c.same_visit & first_own))
    reg_t = c.registered_at[reg] - rng.integers(60, 900, len(reg))
    b_cust, b_t = _member_browse(rng, cal, c, dropout_at, withdrawn_at, params)
    # anonymous visitors: a first visit and a few more within their span
    a_extra = rng.poisson(params.anonymous_extra_visits_mean, vis.n_anonymous)
    a_vis = np.repeat(np.arange(vis.n_anonymous), 1 + a_extra)
    span = rng.exponential(ANONYMOUS_SPAN_DAYS * SECONDS_PER_DAY, vis.n_anonymous)
    later = (rng.random(len(a_vis)) * span[a_vis]).astype(np.int64)
    later[group_starts(1 + a_extra)] = 0
    a_t = vis.anonymous_first_seen[a_vis] + later

    kind = np.repeat(
        [CONVERTING, REGISTRATION, BROWSE, ANONYMOUS], [len(own), len(reg), len(b_cust), len(a_vis)]
    )
    visitor = np.concatenate(
        [
            o_vis,
            vis.member_device(rng, reg),
            vis.member_device(rng, b_cust),
            vis.n_member_devices + a_vis,
        ]
    )
    customer = np.concatenate([o_cust, reg, b_cust, np.full(len(a_vis), -1)])
    anchor = np.concatenate([book.at[own], reg_t, b_t, a_t])
    order = np.concatenate([own, np.full(len(kind) - len(own), -1)])
    keep = (kind == CONVERTING) | ((anchor >= cal.start_s) & (anchor <= cal.end_s - 1))
    keep = np.flatnonzero(keep)
    keep = keep[np.argsort(anchor[keep], kind="stable")]
    kind, visitor, customer = kind[keep], visitor[keep], customer[keep]
    anchor, order = anchor[keep], order[keep]
    n = len(kind)
    logged_in = (customer >= 0) & ((kind != BROWSE) | (rng.random(n) < params.logged_in_share))
    # the first visit of every member device in the data is a logged-in one, so anonymous
    # visits on that device can be attributed to the member
    first_visit = np.full(len(vis.device), NEVER, dtype=np.int64)
    np.minimum.at(first_visit, visitor, anchor)
    logged_in |= (customer >= 0) & (anchor == first_visit[visitor])
    source, campaign, is_sub = _traffic(rng, cal, book, kind, order, anchor)
    return Visits(
        kind=kind,
        visitor=visitor,
        customer=customer,
        logged_in=logged_in,
        anchor=anchor,
        order=order,
        source=source,
        campaign=campaign,
        subscription=is_sub,
        visitor_id=vis.visitor_id,
        visitor_device=vis.device,
        visitor_agent=vis.agent,
        campaign_names=_campaign_names(cal),
    )


def utm_suffixes(campaign_names: tuple[str, ...]) -> tuple[list[str], int]:
    """Landing-page query strings per (source, campaign); index = source * width + campaign + 1."""
    width = len(campaign_names) + 1
    out: list[str] = []
    for i, (src, medium, _ref) in enumerate(SOURCES):
        tagged = i in (CPC, EMAIL, *SOCIAL)
        out.append(f"?utm_source={src}&utm_medium={medium}" if tagged else "")
        for name in campaign_names:
            out.append(
                f"?utm_source={src}&utm_medium={medium}&utm_campaign={name}" if tagged else ""
            )
    return out, width


@dataclass(frozen=True)
class SessionRecords:
    """Final sessions of a chunk, in visit order (by order time or start)."""

    visits: Visits
    started: np.ndarray
    duration: np.ndarray
    page_views: np.ndarray
    landing_page: pa.DictionaryArray
    session_id: pa.Array


def session_table(
    s: SessionRecords, customer_id: pa.Array, order_id: pa.Array, rows: np.ndarray, cutoff: int
) -> pa.Table:
    del cutoff  # sessions never change
    v = s.visits
    visitor = v.visitor[rows]
    cust = np.where(v.logged_in[rows], v.customer[rows], -1)
    order = v.order[rows]
    source = v.source[rows]
    started, duration = s.started[rows], s.duration[rows]
    camp = v.campaign[rows]
    devices = [d for d, _ in vocab.DEVICE_TYPES]
    agents = [a for d in devices for a in vocab.USER_AGENTS[d]]
    has_referrer = np.asarray([r is not None for _, _, r in SOURCES])
    return pa.table(
        {
            "session_id": pc.take(s.session_id, pa.array(rows)),
            "visitor_id": pc.take(v.visitor_id, pa.array(visitor)),
            "customer_id": pc.take(customer_id, pa.array(np.maximum(cust, 0), mask=cust < 0)),
            "started_at": timestamps(started),
            "ended_at": timestamps(started + duration),
            "duration_seconds": ints(duration),
            "page_views": ints(s.page_views[rows]),
            "landing_page": pc.take(s.landing_page, pa.array(rows)),
            "referrer": categorical([r or "" for _, _, r in SOURCES], source, has_referrer[source]),
            "source": categorical([x for x, _, _ in SOURCES], source),
            "medium": categorical([m for _, m, _ in SOURCES], source),
            "campaign": categorical(v.campaign_names, np.maximum(camp, 0), camp >= 0),
            "device_type": categorical(devices, v.visitor_device[visitor]),
            "user_agent": categorical(agents, v.visitor_agent[visitor]),
            "converted": bools(order >= 0),
            "order_id": pc.take(order_id, pa.array(np.maximum(order, 0), mask=order < 0)),
            "updated_at": timestamps(started + duration),
        }
    )


def session_ids(chunk: int, n: int) -> pa.Array:
    return codes(f"S-{chunk + 1:03d}-", np.arange(1, n + 1), 9)
