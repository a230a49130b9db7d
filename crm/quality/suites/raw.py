"""One suite per raw feed, derived from the landing contract (crm/contract.py) plus the
thresholds of ``dbt_project.yml`` (its vars, read through :mod:`crm.dbt_vars`).

A raw suite is evaluated in the warehouse (:mod:`crm.quality.sql_gate`): no frame is read into
pandas. Frames (SQL relations, read-only):

* ``new_rows``: every row of the loads after the feed's mark in ``quality.gated_loads`` (the
  feed's latest load when its suite last passed without a critical failure, see
  :mod:`crm.quality.runner`); without a usable mark (the first night, the table dropped, the
  suite changed, an earlier as-of date, ``CRM_QUALITY_FULL=1``) every row of the table. Its
  ``frames_in_force`` variant keeps only the latest version of each key among those rows (latest
  ``updated_at``, then latest load, ties kept as staging sees them): it is read instead when the
  first pass finds an unexpected row, so a correction file (same keys, newer ``updated_at``)
  landed after a failed night supersedes the bad rows and clears the gate. A failed gate leaves
  the mark where it was, so the next night checks the same loads again plus the new ones.
* ``table``: the row count of ``raw.<feed>`` (required feeds only).
* ``latest_load``: the rows of the feed's latest loaded file (``raw._load_ledger``).
* ``ledger``: the latest loaded file of the feed with its ratio of rows to the previous one.

The loader already refuses a row with a missing required value, a value outside the contract's
allowed set, an int below its contract minimum or an unparseable value, and the raw table always
has every contract column: no expectation repeats those rules. What is checked:

* ``key_unique_per_version``: no two rows with the same key, version and load among the new
  rows (a duplicate key in one file), found by a 64-bit hash then checked exactly.
* ``<key>_not_null``: a key column the contract does not require (suppressions' channel).
* ``<column>_after_min_date`` and ``<column>_not_in_future``; ``birth_date_plausible`` and
  ``birth_date_not_in_future`` (warnings).
* ``<amount>_not_negative`` (``mostly``: the share of the new rows) and
  ``<amount>_below_max_amount`` (warning).
* ``has_rows`` (``table``), ``total_amount_positive_in_latest_load`` (``latest_load``) and
  ``latest_load_rows_not_collapsed`` (``ledger``, warning).

A change to a suite (its SQL, expectations or thresholds) changes its digest, kept with the
mark, so the next night re-validates every row against the new rules.
"""

from __future__ import annotations

from typing import Any

from crm.contract import FEEDS, Column, Feed
from crm.dbt_vars import dbt_float, dbt_var
from crm.loading.parsing import quote_identifier
from crm.quality.suites.spec import CRITICAL, WARNING, Expectation, Suite

#: Threshold name → the dbt var (``dbt_project.yml``) that holds it.
TOLERANCE_VARS: dict[str, str] = {
    # A timestamp may lie at most this many days after max(as_of_date, day the file was loaded);
    # the same var lists later rows in marts.data_issues.
    "future_days": "future_event_tolerance_days",
    # Timestamps before this are a parsing accident (critical).
    "min_date": "raw_gate_min_date",
    # Birth dates before this are implausible (warning).
    "min_birth_date": "raw_gate_min_birth_date",
    # Yen amounts: at least this share of the new rows must be >= 0 (critical) ...
    "amount_not_negative_mostly": "raw_gate_amount_not_negative_share",
    # ... and above this amount a value is suspicious (warning; the plausibility limit of orders).
    "max_amount": "plausible_order_total_max_yen",
    # Orders: at least this share of the latest file's orders must have total_amount > 0.
    "positive_total_mostly": "raw_gate_positive_total_share",
    # The latest file must have at least this share of the rows of the previous file (warning).
    "row_count_min_ratio": "raw_gate_row_count_min_ratio",
}
_DATE_TOLERANCES = frozenset({"min_date", "min_birth_date"})
_INT_TOLERANCES = frozenset({"future_days", "max_amount"})

#: Yen columns that may legitimately be negative (no sign expectation).
SIGNED_AMOUNTS = {"discount_amount"}

NEW_ROWS = "new_rows"


def tolerances() -> dict[str, Any]:
    """The raw suites' thresholds, from the dbt vars of ``dbt_project.yml``."""
    found: dict[str, Any] = {}
    for name, var in TOLERANCE_VARS.items():
        if name in _DATE_TOLERANCES:
            found[name] = str(dbt_var(var))
        elif name in _INT_TOLERANCES:
            found[name] = int(dbt_float(var))
        else:
            found[name] = dbt_float(var)
    return found


def _version_expression(feed: Feed) -> str:
    if "updated_at" not in feed.column_names:
        return "cast(null as timestamp)"
    fallback = feed.column("updated_at").default_from
    return f"coalesce(updated_at, {fallback})" if fallback else "updated_at"


def _column_expression(column: Column) -> str:
    """The column as the frames show it, computed from the raw column."""
    name = quote_identifier(column.name)
    if column.allowed is not None:
        return f"lower(trim({name}))"
    if column.type in ("timestamp", "date"):
        return f"cast({name} as timestamp)"
    if column.type == "yen":
        return f"cast({name} as double)"
    return name


def _select_column(column: Column) -> str:
    name = quote_identifier(column.name)
    expression = _column_expression(column)
    return name if expression == name else f"{expression} as {name}"


#: Kwargs of an expectation that name a column of its frame.
_COLUMN_KWARGS = ("column", "column_A", "column_B")


def frame_columns(expectations: list[Expectation], frame: str) -> set[str]:
    """The columns of ``frame`` that its expectations read."""
    found: set[str] = set()
    for spec in expectations:
        if spec.frame != frame:
            continue
        found.update(spec.kwargs[k] for k in _COLUMN_KWARGS if k in spec.kwargs)
        found.update(spec.kwargs.get("column_list", ()))
    return found


def _helper_columns(tol: dict[str, Any]) -> dict[str, str]:
    """Limits compared with the data by the date expectations, computed per row."""
    return {
        "_future_limit": "cast(greatest({as_of_date}, cast(_loaded_at as date)) as timestamp)"
        f" + to_days({int(tol['future_days'])})",
        "_as_of_limit": "cast({as_of_date} as timestamp) + to_days(1)",
        "_min_date": f"timestamp '{tol['min_date']}'",
        "_min_birth_date": f"timestamp '{tol['min_birth_date']}'",
    }


def _new_rows_sql(feed: Feed, tol: dict[str, Any], needed: set[str], in_force: bool) -> str:
    """The rows of the loads after ``{gated_load_id}`` with the ``needed`` columns (and the key);
    ``in_force``: only the latest version of each key among them (ties kept)."""
    table = f"raw.{quote_identifier(feed.name)}"
    key = ", ".join(quote_identifier(k) for k in feed.key)
    version = _version_expression(feed)
    columns = [c for c in feed.columns if c.name in needed or c.name in feed.key]
    select = [_select_column(c) for c in columns]
    select += [f"{version} as _version", "_load_id"]
    select += [f"{sql} as {name}" for name, sql in _helper_columns(tol).items() if name in needed]
    ranked = ""
    if in_force:
        ranked = (
            f"qualify rank() over (partition by {key} "
            f"order by {version} desc nulls last, _load_id desc) = 1"
        )
    return f"""
        select {", ".join(select)}
        from {table}
        where _load_id > {{gated_load_id}}
        {ranked}
    """


def _frames(
    feed: Feed, tol: dict[str, Any], expectations: list[Expectation]
) -> tuple[dict[str, str], dict[str, str]]:
    """The suite's frames, and the in-force variant of ``new_rows``."""
    table = f"raw.{quote_identifier(feed.name)}"
    needed = frame_columns(expectations, NEW_ROWS)
    latest_needed = frame_columns(expectations, "latest_load")
    latest_columns = [_select_column(c) for c in feed.columns if c.name in latest_needed]
    latest = f"""
        select {", ".join([*latest_columns, "_load_id"])}
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
                rows_loaded,
                lag(rows_loaded) over (order by load_id) as previous_rows_loaded
            from raw._load_ledger
            where feed = '{feed.name}' and status = 'loaded'
        )
        select rows_loaded / nullif(previous_rows_loaded, 0) as ratio_to_previous_load
        from loads
        qualify load_id = max(load_id) over ()
    """
    frames = {NEW_ROWS: _new_rows_sql(feed, tol, needed, in_force=False)}
    if frame_columns(expectations, "table"):
        frames["table"] = f"select count(*) as rows_in_table from {table}"
    frames["latest_load"] = latest
    frames["ledger"] = ledger
    return frames, {NEW_ROWS: _new_rows_sql(feed, tol, needed, in_force=True)}


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
        frame=NEW_ROWS,
        severity=severity,  # type: ignore[arg-type]
        description=description,
    )


def _date_expectations(column: Column, tol: dict[str, Any]) -> list[Expectation]:
    name = column.name
    if name == "birth_date":
        return [
            _pair(
                f"{name}_plausible",
                name,
                "_min_birth_date",
                WARNING,
                f"{name} on or after {tol['min_birth_date']}",
            ),
            _pair(
                f"{name}_not_in_future",
                "_as_of_limit",
                name,
                WARNING,
                f"{name} not after the as-of date",
            ),
        ]
    return [
        _pair(
            f"{name}_after_min_date",
            name,
            "_min_date",
            CRITICAL,
            f"{name} on or after {tol['min_date']}",
        ),
        _pair(
            f"{name}_not_in_future",
            "_future_limit",
            name,
            CRITICAL,
            f"{name} at most {tol['future_days']} day(s) after max(as-of date, load date)",
        ),
    ]


def _amount_expectations(column: Column, tol: dict[str, Any]) -> list[Expectation]:
    name = column.name
    found: list[Expectation] = []
    if name not in SIGNED_AMOUNTS:
        found.append(
            Expectation(
                f"{name}_not_negative",
                "ExpectColumnValuesToBeBetween",
                {"column": name, "min_value": 0, "mostly": tol["amount_not_negative_mostly"]},
                NEW_ROWS,
                CRITICAL,
                f"{name} >= 0 on at least {tol['amount_not_negative_mostly']:.0%} of the new rows",
            )
        )
    found.append(
        Expectation(
            f"{name}_below_max_amount",
            "ExpectColumnValuesToBeBetween",
            {"column": name, "max_value": tol["max_amount"]},
            NEW_ROWS,
            WARNING,
            f"{name} at most ¥{tol['max_amount']:,}",
        )
    )
    return found


def _column_expectations(column: Column, tol: dict[str, Any]) -> list[Expectation]:
    if column.type in ("timestamp", "date"):
        return _date_expectations(column, tol)
    if column.type == "yen":
        return _amount_expectations(column, tol)
    return []


def build_raw_suite(feed: Feed, tol: dict[str, Any] | None = None) -> Suite:
    tol = tolerances() if tol is None else tol
    expectations: list[Expectation] = [
        # The loader refuses a row without a required value: only an optional key can be empty.
        Expectation(
            f"{key}_not_null",
            "ExpectColumnValuesToNotBeNull",
            {"column": key},
            NEW_ROWS,
            CRITICAL,
            f"key column {key} is never empty",
        )
        for key in feed.key
        if not feed.column(key).required
    ]
    expectations.append(
        Expectation(
            "key_unique_per_version",
            "ExpectCompoundColumnsToBeUnique",
            {"column_list": [*feed.key, "_version", "_load_id"]},
            NEW_ROWS,
            CRITICAL,
            f"one row per ({', '.join(feed.key)}) × updated_at × load: no duplicate key in a file",
        )
    )
    if feed.required:
        expectations.append(
            Expectation(
                "has_rows",
                "ExpectColumnValuesToBeBetween",
                {"column": "rows_in_table", "min_value": 1},
                "table",
                CRITICAL,
                "the required feed is not empty (the whole raw table)",
            )
        )
    for column in feed.columns:
        expectations += _column_expectations(column, tol)
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
    frames, frames_in_force = _frames(feed, tol, expectations)
    return Suite(
        name=f"raw_{feed.name}",
        target=("raw", feed.name),
        frames=frames,
        expectations=tuple(expectations),
        tolerances=tol,
        description=f"raw.{feed.name}: {feed.description}",
        gated_feed=feed.name,
        frames_in_force=frames_in_force,
    )


RAW_SUITES: tuple[Suite, ...] = tuple(build_raw_suite(feed) for feed in FEEDS.values())
