"""One suite per raw feed, derived from the landing contract (crm/contract.py) plus tolerances.

Frames (all read-only):

* ``schema``: the columns of ``raw.<feed>``.
* ``in_force``: the version of every key that is in force, as staging picks it (latest
  ``updated_at``, then latest load); ties are kept, so two rows with the same key, version and
  load (a duplicate key in one file) fail the uniqueness expectation. A correction file that
  supersedes bad rows therefore clears the gate.
* ``latest_load``: the rows of the feed's latest loaded file (``raw._load_ledger``).
* ``ledger``: the latest loaded file of the feed with its ratio of rows to the previous one.
"""

from __future__ import annotations

from typing import Any

from crm.contract import FEEDS, Column, Feed
from crm.loading.parsing import quote_identifier
from crm.quality.suites.spec import CRITICAL, WARNING, Expectation, Suite

#: Tolerances of every raw suite (per feed overrides in ``FEED_TOLERANCES``).
TOLERANCES: dict[str, Any] = {
    # A timestamp may lie at most this many days after max(as_of_date, day the file was loaded).
    "future_days": 1,
    # Timestamps before this are a parsing accident (critical).
    "min_date": "1980-01-01",
    # Birth dates before this are implausible (warning).
    "min_birth_date": "1900-01-01",
    # Yen amounts: at least this share of the rows in force must be >= 0 (critical) ...
    "amount_not_negative_mostly": 0.99,
    # ... and above this amount a value is suspicious (warning).
    "max_amount": 10_000_000,
    # Orders: at least this share of the latest file's orders must have total_amount > 0
    # (critical: a file whose totals are all 0 is a broken export, not a sale).
    "positive_total_mostly": 0.9,
    # The latest file must have at least this share of the rows of the previous file of the feed
    # (warning only: a one-row correction file is legitimate).
    "row_count_min_ratio": 0.2,
}

FEED_TOLERANCES: dict[str, dict[str, Any]] = {}

#: Yen columns that may legitimately be negative (no sign expectation).
SIGNED_AMOUNTS = {"discount_amount"}


def tolerances_for(feed: str) -> dict[str, Any]:
    return {**TOLERANCES, **FEED_TOLERANCES.get(feed, {})}


def _version_expression(feed: Feed) -> str:
    if "updated_at" not in feed.column_names:
        return "cast(null as timestamp)"
    fallback = feed.column("updated_at").default_from
    return f"coalesce(updated_at, {fallback})" if fallback else "updated_at"


def _select_column(column: Column) -> str:
    name = quote_identifier(column.name)
    if column.allowed is not None:
        return f"lower(trim({name})) as {name}"
    if column.type in ("timestamp", "date"):
        return f"cast({name} as timestamp) as {name}"
    if column.type == "yen":
        return f"cast({name} as double) as {name}"
    return name


def _frames(feed: Feed, tol: dict[str, Any]) -> dict[str, str]:
    table = f"raw.{quote_identifier(feed.name)}"
    columns = ", ".join(_select_column(c) for c in feed.columns)
    key = ", ".join(quote_identifier(k) for k in feed.key)
    version = _version_expression(feed)
    in_force = f"""
        with versions as (
            select
                {columns},
                coalesce(cast({version} as varchar), '') as _version,
                _load_id,
                _loaded_at,
                rank() over (partition by {key} order by {version} desc nulls last, _load_id desc)
                    as _rank
            from {table}
        )
        select
            * exclude (_rank, _loaded_at),
            cast(greatest({{as_of_date}}, cast(_loaded_at as date)) as timestamp)
                + to_days({int(tol["future_days"])}) as _future_limit,
            cast({{as_of_date}} as timestamp) + to_days(1) as _as_of_limit,
            timestamp '{tol["min_date"]}' as _min_date,
            timestamp '{tol["min_birth_date"]}' as _min_birth_date
        from versions
        where _rank = 1
    """
    latest = f"""
        select {columns}, _load_id
        from {table}
        where _load_id = (
            select max(load_id) from raw._load_ledger
            where feed = '{feed.name}' and status = 'loaded'
        )
    """
    ledger = f"""
        with loads as (
            select
                load_id,
                source_file,
                rows_loaded,
                lag(rows_loaded) over (order by load_id) as previous_rows_loaded
            from raw._load_ledger
            where feed = '{feed.name}' and status = 'loaded'
        )
        select
            *,
            rows_loaded / nullif(previous_rows_loaded, 0) as ratio_to_previous_load
        from loads
        qualify load_id = max(load_id) over ()
    """
    return {
        "schema": f"select * from {table} limit 0",
        "in_force": in_force,
        "latest_load": latest,
        "ledger": ledger,
    }


def _pair(name: str, a: str, b: str, severity: str, description: str) -> Expectation:
    return Expectation(
        name=name,
        type="ExpectColumnPairValuesAToBeGreaterThanB",
        kwargs={
            "column_A": a,
            "column_B": b,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
        frame="in_force",
        severity=severity,  # type: ignore[arg-type]
        description=description,
    )


def _column_expectations(feed: Feed, column: Column, tol: dict[str, Any]) -> list[Expectation]:
    name = column.name
    found: list[Expectation] = []
    if column.allowed is not None:
        found.append(
            Expectation(
                f"{name}_in_contract_set",
                "ExpectColumnValuesToBeInSet",
                {"column": name, "value_set": list(column.allowed)},
                "in_force",
                CRITICAL,
                f"{name} is one of the contract's values: {', '.join(column.allowed)}",
            )
        )
    if column.type in ("timestamp", "date"):
        if name == "birth_date":
            found.append(
                _pair(
                    f"{name}_plausible",
                    name,
                    "_min_birth_date",
                    WARNING,
                    f"{name} on or after {tol['min_birth_date']}",
                )
            )
            found.append(
                _pair(
                    f"{name}_not_in_future",
                    "_as_of_limit",
                    name,
                    WARNING,
                    f"{name} not after the as-of date",
                )
            )
        else:
            found.append(
                _pair(
                    f"{name}_after_min_date",
                    name,
                    "_min_date",
                    CRITICAL,
                    f"{name} on or after {tol['min_date']}",
                )
            )
            found.append(
                _pair(
                    f"{name}_not_in_future",
                    "_future_limit",
                    name,
                    CRITICAL,
                    f"{name} at most {tol['future_days']} day(s) after max(as-of date, load date)",
                )
            )
    if column.type == "yen":
        if name not in SIGNED_AMOUNTS:
            found.append(
                Expectation(
                    f"{name}_not_negative",
                    "ExpectColumnValuesToBeBetween",
                    {"column": name, "min_value": 0, "mostly": tol["amount_not_negative_mostly"]},
                    "in_force",
                    CRITICAL,
                    f"{name} >= 0 on at least {tol['amount_not_negative_mostly']:.0%} of rows",
                )
            )
        found.append(
            Expectation(
                f"{name}_below_max_amount",
                "ExpectColumnValuesToBeBetween",
                {"column": name, "max_value": tol["max_amount"]},
                "in_force",
                WARNING,
                f"{name} at most ¥{tol['max_amount']:,}",
            )
        )
    if column.type == "int" and column.minimum is not None:
        found.append(
            Expectation(
                f"{name}_in_contract_range",
                "ExpectColumnValuesToBeBetween",
                {
                    "column": name,
                    "min_value": column.minimum,
                    "strict_min": column.exclusive_minimum,
                },
                "in_force",
                CRITICAL,
                f"{name} {'>' if column.exclusive_minimum else '>='} {column.minimum}",
            )
        )
    return found


def build_raw_suite(feed: Feed) -> Suite:
    tol = tolerances_for(feed.name)
    expectations: list[Expectation] = [
        Expectation(
            "required_columns_present",
            "ExpectTableColumnsToMatchSet",
            {"column_set": list(feed.column_names), "exact_match": False},
            "schema",
            CRITICAL,
            "raw table has every contract column",
        ),
    ]
    for key in feed.key:
        expectations.append(
            Expectation(
                f"{key}_not_null",
                "ExpectColumnValuesToNotBeNull",
                {"column": key},
                "in_force",
                CRITICAL,
                f"key column {key} is never empty",
            )
        )
    expectations.append(
        Expectation(
            "key_unique_per_version",
            "ExpectCompoundColumnsToBeUnique",
            {"column_list": [*feed.key, "_version", "_load_id"]},
            "in_force",
            CRITICAL,
            f"one row per ({', '.join(feed.key)}) × updated_at × load: no duplicate key in a file",
        )
    )
    if feed.required:
        expectations.append(
            Expectation(
                "has_rows",
                "ExpectTableRowCountToBeBetween",
                {"min_value": 1},
                "in_force",
                CRITICAL,
                "the required feed is not empty",
            )
        )
    for column in feed.columns:
        expectations += _column_expectations(feed, column, tol)
    if feed.name == "orders":
        expectations.append(
            Expectation(
                "total_amount_positive_in_latest_load",
                "ExpectColumnValuesToBeBetween",
                {
                    "column": "total_amount",
                    "min_value": 0,
                    "strict_min": True,
                    "mostly": tol["positive_total_mostly"],
                },
                "latest_load",
                CRITICAL,
                f"at least {tol['positive_total_mostly']:.0%} of the latest file's orders have "
                "total_amount > 0",
            )
        )
    expectations.append(
        Expectation(
            "latest_load_rows_not_collapsed",
            "ExpectColumnValuesToBeBetween",
            {"column": "ratio_to_previous_load", "min_value": tol["row_count_min_ratio"]},
            "ledger",
            WARNING,
            f"the latest file has at least {tol['row_count_min_ratio']:.0%} of the rows of the "
            "previous file of the feed",
        )
    )
    return Suite(
        name=f"raw_{feed.name}",
        target=("raw", feed.name),
        frames=_frames(feed, tol),
        expectations=tuple(expectations),
        tolerances=tol,
        description=f"raw.{feed.name}: {feed.description}",
    )


RAW_SUITES: tuple[Suite, ...] = tuple(build_raw_suite(feed) for feed in FEEDS.values())
