"""What happens after an order: cancellation, shipments, delivery, returns, and the status.

Every state change has a time (``NEVER`` when it does not happen), so a row can be rendered
"as of" any cutoff: that is how the daily tail files carry new versions of older orders
(status ``ordered`` in the month file, ``shipped`` and ``delivered`` in later day files).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crm.demo.columns import (
    NEVER,
    bools,
    categorical,
    codes,
    ints,
    pick_weighted,
    timestamps,
)
from crm.demo.orders import PAYMENT_METHODS, OrderBook
from crm.demo.params import ShopParams
from crm.demo.shop_calendar import SECONDS_PER_DAY, ShopCalendar

ORDER_STATUSES: tuple[str, ...] = ("ordered", "shipped", "delivered", "cancelled", "returned")
CARRIERS: tuple[str, ...] = ("yamato", "sagawa", "japan_post")
CARRIER_WEIGHTS: tuple[float, ...] = (0.5, 0.3, 0.2)
RETURN_REASONS: tuple[str, ...] = (
    "damaged",
    "wrong_item",
    "defective",
    "changed_mind",
    "size_mismatch",
    "not_as_described",
)
RETURN_REASON_WEIGHTS: tuple[float, ...] = (0.15, 0.10, 0.12, 0.38, 0.12, 0.13)
#: Reasons that are the shop's fault: the shipping fee is refunded too.
SHOP_FAULT_REASONS: tuple[int, ...] = (0, 1, 2)
HOUR = 3600


@dataclass(frozen=True)
class Fulfilment:
    # per order
    cancel_at: np.ndarray
    ship_at: np.ndarray  # first parcel shipped
    deliver_at: np.ndarray  # last parcel delivered (store orders: handed over at once)
    full_return_at: np.ndarray
    carrier: np.ndarray
    # shipments, sorted by shipped_at
    shp_order: np.ndarray
    shp_shipped: np.ndarray
    shp_delivered: np.ndarray
    shipment_id: pa.Array
    # returns, sorted by returned_at
    ret_order: np.ndarray
    ret_line: np.ndarray  # line number, 0 = whole order
    ret_qty: np.ndarray  # 0 = whole order
    ret_at: np.ndarray
    ret_refund: np.ndarray
    ret_reason: np.ndarray
    return_id: pa.Array


def _at_hours(
    cal: ShopCalendar, rng: np.random.Generator, day: np.ndarray, lo_h: int, hi_h: int
) -> np.ndarray:
    return cal.seconds_of(day, rng.integers(lo_h * HOUR, hi_h * HOUR, len(day)))


def simulate_fulfilment(
    rng: np.random.Generator, cal: ShopCalendar, book: OrderBook, chunk: int, params: ShopParams
) -> Fulfilment:
    n = book.n
    names = [x for x, _ in params.channel_weights]
    store = book.channel == names.index("store") if "store" in names else np.zeros(n, bool)
    konbini = book.payment == PAYMENT_METHODS.index("konbini")
    cod = book.payment == PAYMENT_METHODS.index("cod")
    p_cancel = np.select(
        [konbini, cod], [params.cancel_share_konbini, params.cancel_share_cod], params.cancel_share
    )
    cancel = ~store & (rng.random(n) < p_cancel)
    delay = np.where(
        konbini,
        rng.integers(3 * SECONDS_PER_DAY, 7 * SECONDS_PER_DAY, n),
        rng.integers(600, SECONDS_PER_DAY, n),
    )
    cancel_at = np.where(cancel, book.at + delay, NEVER)
    stuck = rng.random(n) < params.never_shipped_share
    ships = ~cancel & ~store & ~stuck

    day = cal.day_of(book.at)
    ship = _at_hours(cal, rng, day + pick_weighted(rng, params.ship_lag_probs, n), 10, 19)
    ship = np.where(ship <= book.at + HOUR, book.at + rng.integers(HOUR, 4 * HOUR, n), ship)
    d_lag = 1 + pick_weighted(rng, params.delivery_lag_probs, n)
    deliver = _at_hours(cal, rng, cal.day_of(ship) + d_lag, 9, 21)
    split = ships & (book.n_lines >= 2) & (rng.random(n) < params.split_shipment_share)
    ship2 = _at_hours(cal, rng, cal.day_of(ship) + rng.integers(1, 4, n), 10, 19)
    deliver2 = _at_hours(cal, rng, cal.day_of(ship2) + d_lag, 9, 21)
    ship_at = np.where(ships, ship, NEVER)
    deliver_at = np.where(ships, np.where(split, np.maximum(deliver, deliver2), deliver), NEVER)
    deliver_at = np.where(store, book.at, deliver_at)
    carrier = pick_weighted(rng, CARRIER_WEIGHTS, n)

    # shipments: one row per parcel that has left the warehouse by the end of the data
    o1 = np.flatnonzero(ships & (ship <= cal.end_s))
    o2 = np.flatnonzero(split & (ship2 <= cal.end_s))
    shp_order = np.concatenate([o1, o2])
    shp_shipped = np.concatenate([ship[o1], ship2[o2]])
    shp_delivered = np.concatenate([deliver[o1], deliver2[o2]])
    order = np.argsort(shp_shipped, kind="stable")
    shp_order, shp_shipped = shp_order[order], shp_shipped[order]
    shp_delivered = shp_delivered[order]

    # returns: after delivery; whole order, or one line of a multi-line order
    p_ret = params.return_share + params.return_share_fashion_extra * book.has_fashion
    ret_day = cal.day_of(np.minimum(deliver_at, cal.end_s)) + rng.integers(1, 15, n)
    ret_time = _at_hours(cal, rng, ret_day, 10, 18)
    ret = ships & (rng.random(n) < p_ret) & (ret_time <= cal.end_s)
    r = np.flatnonzero(ret)
    by_line = (book.n_lines[r] >= 2) & (rng.random(len(r)) < params.line_return_share)
    reason = pick_weighted(rng, RETURN_REASON_WEIGHTS, len(r))
    shop_fault = np.isin(reason, SHOP_FAULT_REASONS)
    whole_refund = book.total[r] - np.where(shop_fault, 0, book.shipping_fee[r])
    li = book.line_start[r] + (rng.random(len(r)) * book.n_lines[r]).astype(np.int64)
    qty = 1 + (rng.random(len(r)) * book.line_qty[li]).astype(np.int64)
    paid_share = (book.subtotal[r] - book.discount[r]) / np.maximum(book.subtotal[r], 1)
    line_refund = np.floor(book.line_price[li] * qty * paid_share).astype(np.int64)
    full_return_at = np.full(n, NEVER, dtype=np.int64)
    full_return_at[r[~by_line]] = ret_time[r[~by_line]]
    order = np.argsort(ret_time[r], kind="stable")
    r, by_line, reason, li, qty = r[order], by_line[order], reason[order], li[order], qty[order]
    refund = np.where(by_line, line_refund[order], whole_refund[order])
    prefix = f"SHP-{chunk + 1:03d}-"
    return Fulfilment(
        cancel_at=cancel_at,
        ship_at=ship_at,
        deliver_at=deliver_at,
        full_return_at=full_return_at,
        carrier=carrier,
        shp_order=shp_order,
        shp_shipped=shp_shipped,
        shp_delivered=shp_delivered,
        shipment_id=codes(prefix, np.arange(1, len(shp_order) + 1), 8),
        ret_order=r,
        ret_line=np.where(by_line, book.line_number[li], 0),
        ret_qty=np.where(by_line, qty, 0),
        ret_at=ret_time[r],
        ret_refund=refund,
        ret_reason=reason,
        return_id=codes(f"RTN-{chunk + 1:03d}-", np.arange(1, len(r) + 1), 7),
    )


def _known(times: np.ndarray, cutoff: int, fallback: np.ndarray) -> np.ndarray:
    return np.where(times <= cutoff, times, fallback)


def order_table(
    book: OrderBook,
    ful: Fulfilment,
    customer_id: pa.Array,
    channel_names: list[str],
    rows: np.ndarray,
    cutoff: int,
) -> pa.Table:
    """Orders ``rows`` as they stood at ``cutoff`` (status and updated_at)."""
    at = book.at[rows]
    cancel, ship = ful.cancel_at[rows], ful.ship_at[rows]
    deliver, ret = ful.deliver_at[rows], ful.full_return_at[rows]
    status = np.select(
        [cancel <= cutoff, ret <= cutoff, deliver <= cutoff, ship <= cutoff], [3, 4, 2, 1], 0
    )
    updated = at
    for x in (cancel, ship, deliver, ret):
        updated = np.maximum(updated, _known(x, cutoff, at))
    cust = book.customer[rows]
    coupon = book.coupon[rows]
    return pa.table(
        {
            "order_id": pc.take(book.order_id, pa.array(rows)),
            "customer_id": pc.take(customer_id, pa.array(np.maximum(cust, 0), mask=cust < 0)),
            "ordered_at": timestamps(at),
            "status": categorical(ORDER_STATUSES, status),
            "channel": categorical(channel_names, book.channel[rows]),
            "subtotal_amount": ints(book.subtotal[rows]),
            "discount_amount": ints(book.discount[rows]),
            "shipping_fee": ints(book.shipping_fee[rows]),
            "tax_amount": ints(book.tax[rows]),
            "total_amount": ints(book.total[rows]),
            "payment_method": categorical(PAYMENT_METHODS, book.payment[rows]),
            "coupon_code": categorical(book.coupon_codes, np.maximum(coupon, 0), coupon >= 0),
            "is_subscription": bools(book.is_subscription[rows]),
            "updated_at": timestamps(updated),
            "_jp_form": pa.array(book.jp_form[rows]),
        }
    )


def shipment_table(book: OrderBook, ful: Fulfilment, rows: np.ndarray, cutoff: int) -> pa.Table:
    shipped, delivered = ful.shp_shipped[rows], ful.shp_delivered[rows]
    known = delivered <= cutoff
    return pa.table(
        {
            "shipment_id": pc.take(ful.shipment_id, pa.array(rows)),
            "order_id": pc.take(book.order_id, pa.array(ful.shp_order[rows])),
            "shipped_at": timestamps(shipped),
            "delivered_at": timestamps(delivered, known),
            "carrier": categorical(CARRIERS, ful.carrier[ful.shp_order[rows]]),
            "updated_at": timestamps(np.where(known, delivered, shipped)),
        }
    )


def return_table(book: OrderBook, ful: Fulfilment, rows: np.ndarray, cutoff: int) -> pa.Table:
    del cutoff  # returns never change
    line, qty = ful.ret_line[rows], ful.ret_qty[rows]
    return pa.table(
        {
            "return_id": pc.take(ful.return_id, pa.array(rows)),
            "order_id": pc.take(book.order_id, pa.array(ful.ret_order[rows])),
            "line_number": ints(line, line > 0),
            "returned_at": timestamps(ful.ret_at[rows]),
            "quantity": ints(qty, qty > 0),
            "refund_amount": ints(ful.ret_refund[rows]),
            "reason": categorical(RETURN_REASONS, ful.ret_reason[rows]),
            "updated_at": timestamps(ful.ret_at[rows]),
        }
    )
