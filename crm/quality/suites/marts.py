"""Suites of the key marts: one row per customer, one RFM group per purchasing customer, one
stable segment per customer of the current term, RFM group shares steady night over night.

The share history is ``quality.rfm_group_shares_history`` in the warehouse (one row per night ×
group, written after each validation of ``customer_rfm``; a re-run of a night replaces its rows).
Tonight's shares are compared with those of the latest earlier night in it: deterministic, and
independent of month ends.
"""

from __future__ import annotations

from typing import Any

from crm.quality.suites.spec import CRITICAL, WARNING, Expectation, Suite

SHARES_HISTORY = "quality.rfm_group_shares_history"

TOLERANCES: dict[str, Any] = {
    # Largest change of an RFM group's share of purchasing customers since the previous night
    # in the share history (0.10 = 10 percentage points); warning only.
    "rfm_max_share_change": 0.10,
}

CUSTOMER_FACTS = Suite(
    name="marts_customer_facts",
    target=("model", "customer_facts"),
    description="marts.customer_facts: one row per known customer, as of the run's date.",
    frames={
        "facts": """
            select
                customer_id,
                as_of_date = {as_of_date} as is_as_of_date,
                order_count,
                cast(gross_sales as double) as gross_sales,
                cast(net_sales as double) as net_sales,
                days_since_last_purchase
            from marts.customer_facts
        """
    },
    expectations=(
        Expectation(
            "has_customers",
            "ExpectTableRowCountToBeBetween",
            {"min_value": 1},
            "facts",
            CRITICAL,
            "customer_facts is not empty",
        ),
        Expectation(
            "customer_id_not_null",
            "ExpectColumnValuesToNotBeNull",
            {"column": "customer_id"},
            "facts",
            CRITICAL,
            "every row has a customer_id",
        ),
        Expectation(
            "one_row_per_customer",
            "ExpectColumnValuesToBeUnique",
            {"column": "customer_id"},
            "facts",
            CRITICAL,
            "one row per customer",
        ),
        Expectation(
            "built_as_of_the_run_date",
            "ExpectColumnValuesToBeInSet",
            {"column": "is_as_of_date", "value_set": [True]},
            "facts",
            CRITICAL,
            "as_of_date is the run's CRM_AS_OF_DATE",
        ),
        Expectation(
            "order_count_not_negative",
            "ExpectColumnValuesToBeBetween",
            {"column": "order_count", "min_value": 0},
            "facts",
            WARNING,
            "order_count >= 0",
        ),
        Expectation(
            "days_since_last_purchase_not_negative",
            "ExpectColumnValuesToBeBetween",
            {"column": "days_since_last_purchase", "min_value": 0},
            "facts",
            WARNING,
            "no last purchase after the as-of date",
        ),
        Expectation(
            "net_sales_at_most_gross_sales",
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {
                "column_A": "gross_sales",
                "column_B": "net_sales",
                "or_equal": True,
                "ignore_row_if": "either_value_is_missing",
            },
            "facts",
            WARNING,
            "net sales never exceed gross sales",
        ),
    ),
)

CUSTOMER_RFM = Suite(
    name="marts_customer_rfm",
    target=("model", "customer_rfm"),
    description=(
        "marts.customer_rfm: every purchasing customer in exactly one RFM group; group shares "
        "steady against the previous night."
    ),
    tolerances=dict(TOLERANCES),
    frames={
        "purchasers": """
            with groups as (
                select customer_id, count(*) as rfm_rows, count(rfm_group) as rfm_groups
                from marts.customer_rfm
                group by customer_id
            ),
            purchasers as (
                select customer_id, true as is_purchaser
                from marts.customer_facts
                where order_count > 0
            )
            select
                coalesce(purchasers.customer_id, groups.customer_id) as customer_id,
                coalesce(purchasers.is_purchaser, false) as is_purchaser,
                coalesce(groups.rfm_rows, 0) as rfm_rows,
                coalesce(groups.rfm_groups, 0) as rfm_groups
            from purchasers
            full join groups on purchasers.customer_id = groups.customer_id
        """,
        "shares": """
            with current_shares as (
                select
                    rfm_group,
                    count(*) as customers,
                    count(*) / sum(count(*)) over () as share
                from marts.customer_rfm
                group by rfm_group
            ),
            previous_night as (
                select max(as_of_date) as as_of_date
                from {rfm_shares_history}
                where as_of_date < {as_of_date}
            ),
            previous_shares as (
                select history.rfm_group, history.share
                from {rfm_shares_history} as history
                inner join previous_night on history.as_of_date = previous_night.as_of_date
            )
            select
                coalesce(current_shares.rfm_group, previous_shares.rfm_group) as rfm_group,
                (select as_of_date from previous_night) as previous_as_of_date,
                current_shares.customers,
                current_shares.share,
                previous_shares.share as previous_share,
                case
                    when (select as_of_date from previous_night) is not null
                        then abs(
                            coalesce(current_shares.share, 0) - coalesce(previous_shares.share, 0)
                        )
                end as share_change
            from current_shares
            full join previous_shares on current_shares.rfm_group = previous_shares.rfm_group
        """,
    },
    expectations=(
        Expectation(
            "every_purchaser_has_a_group",
            "ExpectColumnValuesToBeInSet",
            {"column": "rfm_groups", "value_set": [1]},
            "purchasers",
            CRITICAL,
            "every purchasing customer has exactly one RFM group (and one row)",
        ),
        Expectation(
            "only_purchasers_are_grouped",
            "ExpectColumnValuesToBeInSet",
            {"column": "is_purchaser", "value_set": [True]},
            "purchasers",
            CRITICAL,
            "customer_rfm holds purchasing customers of customer_facts only",
        ),
        Expectation(
            "one_row_per_customer",
            "ExpectColumnValuesToBeInSet",
            {"column": "rfm_rows", "value_set": [1]},
            "purchasers",
            CRITICAL,
            "one customer_rfm row per purchasing customer",
        ),
        Expectation(
            "group_shares_steady",
            "ExpectColumnValuesToBeBetween",
            {"column": "share_change", "max_value": TOLERANCES["rfm_max_share_change"]},
            "shares",
            WARNING,
            f"no RFM group's share of purchasers moves more than "
            f"{TOLERANCES['rfm_max_share_change']:.0%} points since the previous night",
        ),
    ),
)

STABLE_SEGMENT_MEMBERS = Suite(
    name="marts_stable_segment_members",
    target=("model", "stable_segment_members"),
    description=(
        "marts.stable_segment_members: every customer of the current term (frozen at the term "
        "start, or new this term) in exactly one stable segment."
    ),
    frames={
        "current_term": """
            with term as (
                select max(term_start) as term_start
                from marts.stable_segment_members
                where is_current_term
            ),
            term_customers as (
                select members.customer_id
                from marts.stable_segment_members as members
                inner join term on members.term_start = term.term_start
                union
                select facts.customer_id
                from marts.customer_facts as facts
                inner join term on facts.last_purchase_date >= term.term_start
                where facts.order_count > 0
            )
            select
                term_customers.customer_id,
                count(members.customer_id) as segment_rows,
                count(distinct members.segment) as segments
            from term_customers
            cross join term
            left join marts.stable_segment_members as members
                on
                    term_customers.customer_id = members.customer_id
                    and members.term_start = term.term_start
            group by term_customers.customer_id
        """,
        "members": "select term_start, customer_id, segment from marts.stable_segment_members",
    },
    expectations=(
        Expectation(
            "every_current_customer_in_one_segment",
            "ExpectColumnValuesToBeInSet",
            {"column": "segment_rows", "value_set": [1]},
            "current_term",
            CRITICAL,
            "every customer of the current term (frozen or buying this term) has exactly one "
            "segment row",
        ),
        Expectation(
            "one_row_per_term_and_customer",
            "ExpectCompoundColumnsToBeUnique",
            {"column_list": ["term_start", "customer_id"]},
            "members",
            CRITICAL,
            "one row per term × customer",
        ),
        Expectation(
            "segment_not_null",
            "ExpectColumnValuesToNotBeNull",
            {"column": "segment"},
            "members",
            CRITICAL,
            "every member has a segment",
        ),
    ),
)

MART_SUITES: tuple[Suite, ...] = (CUSTOMER_FACTS, CUSTOMER_RFM, STABLE_SEGMENT_MEMBERS)
