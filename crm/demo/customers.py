"""Latent customer traits and the timing of their orders (BG/NBD-like, vectorised).

Each customer has a registration time (acquisition spread over the window, more in campaign
windows, some before it), a latent repeat-purchase rate (gamma heterogeneity), a per-order
dropout probability (beta), a spend level (lognormal), a favourite category and a preferred
channel. Repeat orders are a seasonal Poisson process (uniform in the calendar's warped time)
cut off at the dropout: the customer stops after a geometric number of repeat orders.
Subscribers add a near-monthly 定期購入 stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm.demo.catalogue import Catalogue
from crm.demo.columns import NEVER, group_starts, pick_weighted, rank_in_group
from crm.demo.params import ShopParams
from crm.demo.shop_calendar import SECONDS_PER_DAY, ShopCalendar

#: Order kinds.
FIRST, REPEAT, COMPANION, SUBSCRIPTION, GUEST = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Customers:
    global_index: np.ndarray
    registered_at: np.ndarray
    first_order_at: np.ndarray  # NEVER when no order within the data
    same_visit: np.ndarray  # first order placed in the registration visit
    rate: np.ndarray  # repeat orders per average day
    p_drop: np.ndarray
    spend: np.ndarray  # mean 1
    fav_category: np.ndarray
    pref_channel: np.ndarray
    subscriber: np.ndarray

    @property
    def n(self) -> int:
        return len(self.registered_at)


def draw_customers(
    rng: np.random.Generator,
    cal: ShopCalendar,
    first_global: int,
    n: int,
    catalogue: Catalogue,
    params: ShopParams,
) -> Customers:
    pre = (rng.random(n) < params.preexisting_share) & (cal.start_day > 0)
    lo = np.where(pre, 0, cal.start_day)
    hi = np.where(pre, cal.start_day, cal.end_day + 1)
    reg = cal.sample_times(rng, cal.acquisition_cum, lo, hi)
    reg = np.minimum(reg, cal.end_s - 3600)
    buyer = rng.random(n) >= params.never_buy_share
    same = rng.random(n) < params.first_order_same_visit_share
    delay_days = 1 + np.floor(rng.exponential(params.first_order_delay_mean_days, n))
    later = cal.seconds_of(
        cal.day_of(reg) + delay_days.astype(np.int64), cal.sample_time_of_day(rng, n)
    )
    first = np.where(same, reg + rng.integers(120, 1800, n), later)
    first = np.where(buyer & (first <= cal.end_s - 1), first, NEVER)
    shape = params.rate_shape
    rate = rng.gamma(shape, params.rate_mean_per_day / shape, n)
    rate = np.minimum(rate, params.rate_cap_per_day)
    sigma = params.spend_sigma
    return Customers(
        global_index=first_global + np.arange(n, dtype=np.int64),
        registered_at=reg,
        first_order_at=first,
        same_visit=same & (first < NEVER),
        rate=rate,
        p_drop=rng.beta(params.dropout_a, params.dropout_b, n),
        spend=rng.lognormal(-sigma * sigma / 2, sigma, n),
        fav_category=catalogue.sample_category(rng, np.zeros(n, dtype=bool)),
        pref_channel=pick_weighted(rng, [w for _, w in params.channel_weights], n),
        subscriber=(first < NEVER) & (rng.random(n) < params.subscription_share),
    )


@dataclass(frozen=True)
class OrderTimes:
    """Orders of a chunk inside the data window, sorted by time."""

    customer: np.ndarray  # local customer index, -1 for guests
    at: np.ndarray
    kind: np.ndarray
    channel: np.ndarray
    #: Per customer: time of the last order (also before the window), NEVER if none.
    last_order_at: np.ndarray
    #: Per customer: when they dropped out as buyers (NEVER when still active at the end).
    dropout_at: np.ndarray


def _repeat_orders(
    rng: np.random.Generator, cal: ShopCalendar, c: Customers
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer, time) of repeat orders and each customer's dropout time."""
    has = c.first_order_at < NEVER
    lo = np.where(has, cal.day_of(np.minimum(c.first_order_at, cal.end_s)) + 1, cal.end_day + 1)
    hi = np.full(c.n, cal.end_day + 1)
    lo = np.minimum(lo, hi)
    expected = c.rate * (cal.order_cum[hi] - cal.order_cum[lo])
    k = rng.poisson(expected) * has
    n_drop = rng.geometric(c.p_drop) - 1
    m = np.minimum(k, n_drop)
    dropped = has & (n_drop < k)
    # The first m of k sorted uniform arrivals, without drawing the k - m unused ones:
    # U(i) = (E1 + ... + Ei) / (E1 + ... + Ek+1) with exponential spacings E, and the sum
    # of the k + 1 - m spacings after the m-th is one Gamma(k + 1 - m) draw.
    cust = np.repeat(np.arange(c.n, dtype=np.int64), m)
    csum = np.concatenate([[0.0], np.cumsum(rng.standard_exponential(len(cust)))])
    start = group_starts(m)
    before = csum[start]  # spacings of the customers before
    mine = csum[start + m] - before  # the customer's m spacings
    u = (csum[1:] - before[cust]) / (mine + rng.standard_gamma(k - m + 1.0))[cust]
    warped = cal.order_cum[lo[cust]] + u * (cal.order_cum[hi[cust]] - cal.order_cum[lo[cust]])
    day = cal.day_at(cal.order_cum, warped, lo[cust], hi[cust])
    t = cal.seconds_of(day, cal.sample_time_of_day(rng, len(day)))
    last_t = c.first_order_at.copy()
    buyers = np.flatnonzero(m > 0)
    if len(buyers):
        last_t[buyers] = np.maximum.reduceat(t, start[buyers])
    return cust, t, np.where(dropped, last_t, NEVER)


def _subscription_orders(
    rng: np.random.Generator, cal: ShopCalendar, c: Customers, params: ShopParams
) -> tuple[np.ndarray, np.ndarray]:
    """(customer, time) of 定期購入 orders: near-regular intervals until the subscription ends."""
    subs = np.flatnonzero(c.subscriber)
    start = c.first_order_at[subs] + (
        (1 + rng.exponential(45.0, len(subs))) * SECONDS_PER_DAY
    ).astype(np.int64)
    interval = params.subscription_interval_days + rng.integers(-2, 3, len(subs))
    cycles = rng.geometric(params.subscription_churn, len(subs))
    room = (cal.end_s - start) // ((interval - 2) * SECONDS_PER_DAY) + 1
    cycles = np.where(start <= cal.end_s, np.minimum(cycles, np.maximum(room, 0)), 0)
    k = rank_in_group(cycles)
    owner = np.repeat(np.arange(len(subs)), cycles)
    jitter = np.clip(rng.normal(0.0, 0.7, len(k)), -2, 2) * SECONDS_PER_DAY * (k > 0)
    t = start[owner] + k * interval[owner] * SECONDS_PER_DAY + jitter.astype(np.int64)
    ok = t <= cal.end_s - 1
    return subs[owner][ok], t[ok]


def simulate_order_times(
    rng: np.random.Generator, cal: ShopCalendar, c: Customers, params: ShopParams
) -> OrderTimes:
    has = np.flatnonzero(c.first_order_at < NEVER)
    rep_c, rep_t, dropout_at = _repeat_orders(rng, cal, c)
    base_c = np.concatenate([has, rep_c])
    base_t = np.concatenate([c.first_order_at[has], rep_t])
    base_k = np.concatenate([np.full(len(has), FIRST), np.full(len(rep_c), REPEAT)])
    loyal = rng.random(len(base_c)) < params.preferred_channel_loyalty
    other = pick_weighted(rng, [w for _, w in params.channel_weights], len(base_c))
    base_ch = np.where(loyal, c.pref_channel[base_c], other)
    comp = np.flatnonzero(rng.random(len(base_c)) < params.companion_order_share)
    comp_t = base_t[comp] + rng.integers(600, 10_800, len(comp))
    ok = comp_t <= cal.end_s - 1
    comp, comp_t = comp[ok], comp_t[ok]
    sub_c, sub_t = _subscription_orders(rng, cal, c, params)
    cust = np.concatenate([base_c, base_c[comp], sub_c])
    at = np.minimum(np.concatenate([base_t, comp_t, sub_t]), cal.end_s - 1)
    kind = np.concatenate(
        [base_k, np.full(len(comp), COMPANION), np.full(len(sub_c), SUBSCRIPTION)]
    )
    channel = np.concatenate([base_ch, base_ch[comp], np.zeros(len(sub_c), dtype=np.int64)])
    last = np.full(c.n, -1, dtype=np.int64)
    np.maximum.at(last, cust, at)
    last_order_at = np.where(last >= 0, last, NEVER)
    inside = at >= cal.start_s
    cust, at, kind, channel = cust[inside], at[inside], kind[inside], channel[inside]
    n_guest = round(len(at) * params.guest_order_share / (1 - params.guest_order_share))
    g_lo = np.full(n_guest, cal.start_day)
    g_t = cal.sample_times(rng, cal.order_cum, g_lo, np.full(n_guest, cal.end_day + 1))
    cust = np.concatenate([cust, np.full(n_guest, -1)])
    at = np.concatenate([at, np.minimum(g_t, cal.end_s - 1)])
    kind = np.concatenate([kind, np.full(n_guest, GUEST)])
    channel = np.concatenate([channel, np.zeros(n_guest, dtype=np.int64)])
    order = np.argsort(at, kind="stable")
    return OrderTimes(
        cust[order],
        at[order],
        kind[order].astype(np.int8),
        channel[order].astype(np.int8),
        last_order_at,
        dropout_at,
    )
