"""The knobs of the demo shop, in one frozen dataclass.

``ShopParams()`` holds the defaults used by :func:`crm.demo.generate_shop`. Rates are per
"average day": the calendar's day weights (season, weekday, campaigns) have mean 1 over the
data window, so a rate of ``1/30`` means one order a month on an ordinary day and more in
December. With the defaults, 1,095 days give about 15 orders per customer (members incl.
prospects; about 19 per customer who bought in the window, 17 % of whom bought once), two
sessions and eight page views per order: 2,000,000 customers → about 30 million orders,
60 million sessions and 240 million page views.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShopParams:
    # --- chunking -------------------------------------------------------------------------
    #: Customers generated (and written) per chunk; bounds memory (~2 GB peak per 100k customers
    #: over three years). Each chunk has its own random stream, so results do not depend on
    #: the number of worker processes.
    chunk_customers: int = 100_000
    #: Background threads that encode and write files while the next rows are generated
    #: (0 = write in the generating thread). Helps when more than one core is available.
    write_threads: int = 1

    # --- acquisition ------------------------------------------------------------------------
    #: Share of members who registered before the data window (their earlier orders and
    #: visits are not in the files, as when a shop exports "the last N days").
    preexisting_share: float = 0.30
    #: How far before the data window pre-existing members may have registered.
    pre_period_days: int = 365
    #: Yearly growth of the acquisition rate (more sign-ups later in the period).
    acquisition_growth_per_year: float = 0.10
    #: Multiplier of the acquisition rate inside campaign windows.
    acquisition_campaign_boost: float = 1.8

    # --- purchasing (BG/NBD-like) -----------------------------------------------------------
    #: Share of members who never order (見込み顧客 / prospects).
    never_buy_share: float = 0.10
    #: Share of buyers whose first order is in the registration visit; the others order
    #: after an exponential delay with the mean below (some of them never within the data).
    first_order_same_visit_share: float = 0.72
    first_order_delay_mean_days: float = 40.0
    #: Gamma heterogeneity of the latent repeat-purchase rate (orders per average day).
    rate_shape: float = 1.2
    rate_mean_per_day: float = 1 / 11.5
    rate_cap_per_day: float = 0.2
    #: Beta(a, b) distribution of the per-purchase dropout probability: after every order
    #: the customer becomes inactive ("drops out") with probability p.
    dropout_a: float = 0.5
    dropout_b: float = 2.5
    #: Sigma of the lognormal spend level (more lines and larger quantities when high).
    spend_sigma: float = 0.5
    #: Share of ordinary orders followed by a second one the same day (forgot something).
    companion_order_share: float = 0.02

    # --- subscriptions (定期購入) ------------------------------------------------------------
    #: Share of buyers who run a subscription besides their ordinary orders.
    subscription_share: float = 0.07
    #: Mean interval between subscription deliveries in days, and the monthly cancel chance.
    subscription_interval_days: int = 30
    subscription_churn: float = 0.06
    #: 定期割: discount on subscription orders, in percent.
    subscription_discount_pct: int = 10

    # --- orders ---------------------------------------------------------------------------
    #: Guest orders (no customer_id, own_site only) as a share of all orders.
    guest_order_share: float = 0.03
    #: Channel shares of customers' preferred channel, and how often an order uses the
    #: preferred channel (else one drawn from the same shares).
    channel_weights: tuple[tuple[str, float], ...] = (
        ("own_site", 0.66),
        ("rakuten", 0.15),
        ("amazon", 0.10),
        ("yahoo", 0.06),
        ("store", 0.03),
    )
    preferred_channel_loyalty: float = 0.85
    #: Free shipping at or above this subtotal on the own site, else the flat fee.
    free_shipping_threshold: int = 5000
    shipping_fee: int = 550
    #: Tax rate included in prices (消費税, percent).
    tax_rate_pct: int = 10
    #: Probability that an order inside a campaign window uses the campaign coupon.
    campaign_coupon_use: float = 0.30
    #: WELCOME500 on first own-site orders, BDAY1000 in the birth month, points use.
    welcome_coupon_use: float = 0.35
    birthday_coupon_use: float = 0.25
    points_use_share: float = 0.10

    # --- fulfilment, cancellation, returns ------------------------------------------------------
    #: Cancellation probability by payment method family (konbini orders often go unpaid).
    cancel_share: float = 0.025
    cancel_share_konbini: float = 0.08
    cancel_share_cod: float = 0.05
    #: Orders that are never shipped (lost in the back office).
    never_shipped_share: float = 0.002
    #: Days from order to shipment (0..5) and from shipment to delivery (1..3).
    ship_lag_probs: tuple[float, ...] = (0.10, 0.42, 0.28, 0.10, 0.06, 0.04)
    delivery_lag_probs: tuple[float, ...] = (0.55, 0.35, 0.10)
    #: Orders with two lines or more that ship in two parcels.
    split_shipment_share: float = 0.02
    #: Return probability of a delivered order, plus extra when it has fashion items.
    return_share: float = 0.025
    return_share_fashion_extra: float = 0.04
    #: Of returns of multi-line orders, the share that returns a single line.
    line_return_share: float = 0.45

    # --- web ---------------------------------------------------------------------------------
    #: Non-converting visits of members per average day: base + factor × purchase rate,
    #: while "web-active" (until some time after they drop out as buyers).
    browse_rate_base: float = 0.02
    browse_rate_factor: float = 0.5
    #: Mean days members keep visiting after their last order when they dropped out.
    web_tail_mean_days: float = 150.0
    #: Prospects keep visiting for an exponential time with this mean after registering.
    prospect_web_mean_days: float = 120.0
    #: Share of members' non-converting visits in which they are logged in.
    logged_in_share: float = 0.35
    #: Anonymous visitors (never identified) per customer, and their mean extra visits.
    anonymous_visitors_per_customer: float = 1.5
    anonymous_extra_visits_mean: float = 0.8
    #: Share of non-converting visits that bounce (one page view), and that reach the cart.
    bounce_share: float = 0.40
    cart_abandon_share: float = 0.10
    #: Mean page views beyond the first in a non-bounce visit.
    extra_pages_mean: float = 2.2
    #: Write the page_views feed (the largest one; about 4 rows per session).
    with_page_views: bool = True

    # --- members -------------------------------------------------------------------------------
    #: Members who join the household (same address and family name) of another member.
    household_share: float = 0.08
    #: Consent shares (e-mail, SMS, postal DM).
    email_opt_in_share: float = 0.60
    sms_opt_in_share: float = 0.30
    dm_opt_in_share: float = 0.40
    #: Members who withdraw (退会) 1–240 days after their last order; those whose withdrawal
    #: would fall after the end date stay members (about 3 % end up withdrawn).
    withdrawn_share: float = 0.05
    #: Missing or malformed contact data.
    email_missing_share: float = 0.02
    phone_missing_share: float = 0.06
    phone_malformed_share: float = 0.02
    postal_no_hyphen_share: float = 0.02
    postal_missing_share: float = 0.01
    #: Member ranks by purchases (total_amount of kept orders) in the last 365 days.
    rank_thresholds: tuple[tuple[str, int], ...] = (
        ("PLATINUM", 200_000),
        ("GOLD", 80_000),
        ("SILVER", 20_000),
        ("REGULAR", 0),
    )
    #: Suppression shares per member (e-mail bounce/unsubscribe/complaint, SMS, DM).
    email_bounce_share: float = 0.015
    email_unsubscribe_share: float = 0.03
    email_complaint_share: float = 0.002
    sms_suppression_share: float = 0.015
    dm_suppression_share: float = 0.012

    # --- CSV flavour ---------------------------------------------------------------------
    #: Share of order rows written with Japanese forms in CSV mode (``2025/4/1 9:05:00``,
    #: ``¥1,234``, ``1/0``, ``Y/N``).
    japanese_form_share: float = 0.01


DEFAULT_PARAMS = ShopParams()
