"""Order contents and money: lines from the catalogue, coupons, points, shipping, tax, payment.

Amounts are integer yen and consistent: line_amount = quantity × unit_price, subtotal = sum of
the order's lines, total = subtotal − discount + shipping_fee, tax = the 10% included in total.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crm.demo.catalogue import GIFT_MONTHS, Catalogue
from crm.demo.columns import (
    categorical,
    codes,
    group_starts,
    ints,
    pick_rowwise,
    rank_in_group,
    timestamps,
)
from crm.demo.customers import FIRST, SUBSCRIPTION, Customers, OrderTimes
from crm.demo.params import ShopParams
from crm.demo.people import Demographics
from crm.demo.shop_calendar import ShopCalendar

PAYMENT_METHODS: tuple[str, ...] = (
    "credit_card",
    "cod",
    "konbini",
    "bank_transfer",
    "rakuten_pay",
    "amazon_pay",
    "paypay",
    "cash",
)
#: Payment method shares per channel (rows in the order of ShopParams.channel_weights).
PAYMENT_SHARES: dict[str, tuple[float, ...]] = {
    "own_site": (0.52, 0.14, 0.10, 0.04, 0.05, 0.08, 0.07, 0.0),
    "rakuten": (0.55, 0.06, 0.05, 0.02, 0.32, 0.0, 0.0, 0.0),
    "amazon": (0.80, 0.08, 0.10, 0.02, 0.0, 0.0, 0.0, 0.0),
    "yahoo": (0.60, 0.08, 0.07, 0.03, 0.0, 0.0, 0.22, 0.0),
    "store": (0.55, 0.0, 0.0, 0.0, 0.05, 0.0, 0.15, 0.25),
}
SUBSCRIPTION_PAYMENT: tuple[float, ...] = (0.85, 0.15, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
#: Marketplace free-shipping thresholds and fees (the own site's come from ShopParams).
MARKETPLACE_SHIPPING: dict[str, tuple[int, int]] = {
    "rakuten": (3980, 550),
    "amazon": (2000, 410),
    "yahoo": (3980, 550),
    "store": (0, 0),
}
ORDER_ID_PREFIX: dict[str, str] = {
    "own_site": "ORD",
    "rakuten": "RKT",
    "amazon": "AMZ",
    "yahoo": "YHO",
    "store": "STR",
}
WELCOME_CODE, WELCOME_YEN = "WELCOME500", 500
BIRTHDAY_CODE, BIRTHDAY_YEN, BIRTHDAY_MIN = "BDAY1000", 1000, 3000
POINTS_CHOICES: tuple[int, ...] = (100, 200, 300, 500, 1000, 1500)
#: Chance that a line is from the customer's favourite category.
FAVOURITE_CATEGORY_SHARE = 0.45


@dataclass(frozen=True)
class OrderBook:
    """Orders of a chunk (sorted by time) with their lines and amounts."""

    customer: np.ndarray
    at: np.ndarray
    kind: np.ndarray
    channel: np.ndarray
    order_id: pa.Array
    # lines (grouped by order, in order)
    n_lines: np.ndarray
    line_start: np.ndarray
    line_order: np.ndarray
    line_number: np.ndarray
    line_sku: np.ndarray
    line_qty: np.ndarray
    line_price: np.ndarray
    # money
    subtotal: np.ndarray
    discount: np.ndarray
    shipping_fee: np.ndarray
    total: np.ndarray
    tax: np.ndarray
    payment: np.ndarray
    coupon: np.ndarray  # index into coupon_codes, -1 = none
    coupon_codes: tuple[str, ...]
    campaign: np.ndarray  # campaign whose coupon was used, -1 = none
    has_fashion: np.ndarray
    #: CSV flavour: 0 canonical, 1..4 = written with Japanese forms.
    jp_form: np.ndarray

    @property
    def n(self) -> int:
        return len(self.at)

    @property
    def line_amount(self) -> np.ndarray:
        return self.line_qty * self.line_price

    @property
    def is_subscription(self) -> np.ndarray:
        return self.kind == SUBSCRIPTION


def _lines(
    rng: np.random.Generator, cal: ShopCalendar, catalogue: Catalogue, c: Customers, t: OrderTimes
) -> dict[str, np.ndarray]:
    n = len(t.at)
    member = t.customer >= 0
    cidx = np.maximum(t.customer, 0)
    spend = np.where(member, c.spend[cidx], rng.lognormal(-0.125, 0.5, n))
    is_sub = t.kind == SUBSCRIPTION
    p_more = np.clip(0.16 * spend, 0.03, 0.6)
    n_lines = np.where(is_sub, 1, 1 + rng.binomial(3, p_more))
    lo = np.repeat(np.arange(n), n_lines)
    start = group_starts(n_lines)
    line_number = rank_in_group(n_lines) + 1
    month = cal.months[np.clip(cal.day_of(t.at[lo]), 0, cal.n_days - 1)]
    category = catalogue.sample_category(rng, np.isin(month, GIFT_MONTHS))
    fav = member[lo] & (rng.random(len(lo)) < FAVOURITE_CATEGORY_SHARE)
    category = np.where(fav, c.fav_category[cidx[lo]], category)
    sku = catalogue.sample_sku_in(rng, category)
    sub_sku = catalogue.subscribable[
        (c.global_index * 2_654_435_761 % 4_294_967_296) % len(catalogue.subscribable)
    ]
    sku = np.where(is_sub[lo], sub_sku[cidx[lo]], sku)
    qty = np.where(is_sub[lo], 1, 1 + np.minimum(rng.poisson(0.22 * spend[lo]), 5))
    return {
        "n_lines": n_lines,
        "start": start,
        "order": lo,
        "number": line_number,
        "sku": sku,
        "qty": qty,
        "price": catalogue.price[sku],
    }


def build_order_book(
    rng: np.random.Generator,
    cal: ShopCalendar,
    catalogue: Catalogue,
    c: Customers,
    demo: Demographics,
    t: OrderTimes,
    chunk: int,
    params: ShopParams,
) -> OrderBook:
    n = len(t.at)
    names = [name for name, _ in params.channel_weights]
    lines = _lines(rng, cal, catalogue, c, t)
    amount = lines["qty"] * lines["price"]
    subtotal = np.bincount(lines["order"], weights=amount, minlength=n).astype(np.int64)
    has_fashion = (
        np.bincount(lines["order"], weights=catalogue.is_fashion[lines["sku"]], minlength=n) > 0
    )

    member = t.customer >= 0
    cidx = np.maximum(t.customer, 0)
    own = t.channel == names.index("own_site")
    is_sub = t.kind == SUBSCRIPTION
    # coupons: the running campaign's, else WELCOME500 on first orders, else the birthday one
    camps = cal.campaigns
    camp = cal.campaign_at(t.at)
    pct = np.array([x.discount_pct for x in camps] + [0])[camp]
    yen = np.array([x.discount_yen for x in camps] + [0])[camp]
    min_sub = np.array([x.min_subtotal for x in camps] + [0])[camp]
    use_p = np.where(member, params.campaign_coupon_use, params.campaign_coupon_use / 2)
    use_camp = own & ~is_sub & (camp >= 0) & (subtotal >= min_sub) & (rng.random(n) < use_p)
    camp_disc = np.where(pct > 0, subtotal * pct // 100, yen)
    welcome = (
        own & member & (t.kind == FIRST) & ~use_camp & (rng.random(n) < params.welcome_coupon_use)
    )
    month = cal.months[np.clip(cal.day_of(t.at), 0, cal.n_days - 1)]
    in_birth_month = demo.birth_month[cidx] == month
    bday = (
        own
        & member
        & ~is_sub
        & ~use_camp
        & ~welcome
        & in_birth_month
        & (subtotal >= BIRTHDAY_MIN)
        & (rng.random(n) < params.birthday_coupon_use)
    )
    codes_list = (*(x.code for x in camps), WELCOME_CODE, BIRTHDAY_CODE)
    coupon = np.select([use_camp, welcome, bday], [camp, len(camps), len(camps) + 1], -1)
    coupon_disc = np.select([use_camp, welcome, bday], [camp_disc, WELCOME_YEN, BIRTHDAY_YEN], 0)
    coupon_disc = np.minimum(coupon_disc, subtotal)
    points = np.where(
        own & member & ~is_sub & (rng.random(n) < params.points_use_share),
        np.asarray(POINTS_CHOICES)[rng.integers(0, len(POINTS_CHOICES), n)],
        0,
    )
    sub_disc = np.where(is_sub, subtotal * params.subscription_discount_pct // 100, 0)
    discount = np.minimum(coupon_disc + np.minimum(points, subtotal // 5) + sub_disc, subtotal)

    rules = {
        "own_site": (params.free_shipping_threshold, params.shipping_fee),
        **MARKETPLACE_SHIPPING,
    }
    threshold = np.array([rules[x][0] for x in names])[t.channel]
    fee = np.array([rules[x][1] for x in names])[t.channel]
    shipping = np.where(is_sub | (subtotal >= threshold), 0, fee)
    total = subtotal - discount + shipping
    tax = total * params.tax_rate_pct // (100 + params.tax_rate_pct)

    pay_rows = [PAYMENT_SHARES[x] for x in names] + [SUBSCRIPTION_PAYMENT]
    payment = pick_rowwise(rng, pay_rows, np.where(is_sub, len(names), t.channel))

    jp = rng.random(n) < params.japanese_form_share
    jp_form = np.where(jp, rng.integers(1, 5, n), 0).astype(np.int8)
    prefixes = [f"{ORDER_ID_PREFIX.get(x, 'ORD')}-{chunk + 1:03d}-" for x in names]
    order_id = codes(prefixes, np.arange(1, n + 1), 8, t.channel)
    return OrderBook(
        customer=t.customer,
        at=t.at,
        kind=t.kind,
        channel=t.channel,
        order_id=order_id,
        n_lines=lines["n_lines"],
        line_start=lines["start"],
        line_order=lines["order"],
        line_number=lines["number"],
        line_sku=lines["sku"],
        line_qty=lines["qty"],
        line_price=lines["price"],
        subtotal=subtotal,
        discount=discount,
        shipping_fee=shipping,
        total=total,
        tax=tax,
        payment=payment,
        coupon=coupon,
        coupon_codes=codes_list,
        campaign=np.where(use_camp, camp, -1),
        has_fashion=has_fashion,
        jp_form=jp_form,
    )


def line_table(book: OrderBook, catalogue: Catalogue, rows: np.ndarray, cutoff: int) -> pa.Table:
    """order_lines rows ``rows`` (lines never change after the order)."""
    del cutoff
    order = book.line_order[rows]
    sku = book.line_sku[rows]
    return pa.table(
        {
            "order_id": pc.take(book.order_id, pa.array(order)),
            "line_number": ints(book.line_number[rows]),
            "sku": categorical(catalogue.sku, sku),
            "product_name": categorical(catalogue.name, sku),
            "brand": categorical(catalogue.brand, sku),
            "category": categorical(catalogue.category, sku),
            "quantity": ints(book.line_qty[rows]),
            "unit_price": ints(book.line_price[rows]),
            "line_amount": ints(book.line_qty[rows] * book.line_price[rows]),
            "updated_at": timestamps(book.at[order]),
        }
    )
