"""One suite per raw feed, derived from the landing contract (crm/contract.py) plus tolerances.

Frames (all read-only; each reads only the columns its expectations use):

* ``schema``: the columns of ``raw.<feed>``.
* ``in_force``: the version in force of every key *touched by a load the gate has not passed
  yet*, as staging picks it (latest ``updated_at``, then latest load); ties are kept, so two rows
  with the same key, version and load (a duplicate key in one file) fail the uniqueness
  expectation. A key is touched when it has a row in a load after the feed's mark in
  ``quality.gated_loads`` (the feed's latest load when its suite last passed without a critical
  failure, see :mod:`crm.quality.runner`); all versions of a touched key are ranked, so its
  version in force is exactly the one of the whole table. Without a mark (the first night, the
  table dropped, the suite changed, an earlier as-of date) or with ``CRM_QUALITY_FULL=1`` it
  covers every key, as before: hundreds of millions of rows for a large shop, so the runner
  reads it in chunks of about ``CRM_QUALITY_CHUNK_ROWS`` rows (``chunked_frames``): chunk ``i``
  of ``n`` holds the keys whose hash (of the key as the frame shows it) is ``i`` modulo ``n``,
  chosen on the raw rows before the ranking, so every version of a key, and every row that
  could duplicate it, is ranked and validated in the same chunk, and the expectations' counts
  over the chunks add up to those of the whole frame. A failed gate leaves the mark where it
  was, so the next night checks the same loads again plus the new ones; a correction file that
  supersedes the bad rows (same keys, newer ``updated_at``) touches those keys and replaces
  their version in force, so it clears the gate.
* ``table``: the row count of ``raw.<feed>`` (required feeds only).
* ``latest_load``: the rows of the feed's latest loaded file (``raw._load_ledger``).
* ``ledger``: the latest loaded file of the feed with its ratio of rows to the previous one.

What each expectation means now (the keys not touched since the mark passed these same
expectations on an earlier night, and their version in force has not changed since):

* ``required_columns_present`` (schema): unchanged, the raw table's columns.
* ``<key>_not_null``, ``<column>_in_contract_set``, ``<column>_in_contract_range``,
  ``<column>_after_min_date``, ``<column>_below_max_amount``, ``birth_date_plausible``: row by
  row on the versions in force of the touched keys; together with the earlier nights this is
  the same verdict as over the whole table.
* ``<column>_not_in_future`` (and ``birth_date_not_in_future``): row by row; the limit only
  grows with the as-of date, so a row that passed stays passed. A run for an as-of date before
  the mark's re-validates every key.
* ``key_unique_per_version``: duplicates can only be among the rows of one key, and every
  version in force of a touched key is in the frame: the same verdict as over the whole table.
* ``has_rows``: on the ``table`` frame (the whole raw table's row count), no longer on
  ``in_force``, which is empty on a night without new files.
* ``<amount>_not_negative`` (``mostly``): the share is now that of the *versions in force of
  the touched keys*, i.e. of tonight's new and changed rows, no longer of the whole table (where
  a broken file of a few thousand rows would be lost among millions). A night with few new rows
  is judged on them alone: one negative amount among fewer than 1/(1 - mostly) of them fails.
  Land a correction, or run once with ``CRM_QUALITY_FULL=1`` to judge the whole table as before.
* ``total_amount_positive_in_latest_load`` (latest_load) and ``latest_load_rows_not_collapsed``
  (ledger): unchanged, the latest file of the feed.

A change to a suite (its SQL, expectations or tolerances) changes its digest, kept with the mark,
so the next night re-validates every key against the new rules.
"""

from __future__ import annotations

from typing import Any

from crm.contract import FEEDS, Column, Feed
from crm.loading.parsing import quote_identifier
from crm.quality.suites.spec import CRITICAL, WARNING, ChunkedFrame, Expectation, Suite

#: Tolerances of every raw suite (per feed overrides in ``FEED_TOLERANCES``).
TOLERANCES: dict[str, Any] = {
    # A timestamp may lie at most this many days after max(as_of_date, day the file was loaded).
    "future_days": 1,
    # Timestamps before this are a parsing accident (critical).
    "min_date": "1980-01-01",
    # Birth dates before this are implausible (warning).
    "min_birth_date": "1900-01-01",
    # Yen amounts: at least this share of the rows in force validated tonight (the keys touched
    # by files the gate has not passed yet) must be >= 0 (critical) ...
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


def chunk_predicate(feed: Feed) -> str:
    """Selects chunk ``{chunk_index}`` of ``{chunk_count}`` of the raw rows: a hash of the key as
    the frame shows it (a function of the raw key, so every version of one key, and every row
    whose key columns are equal in the frame, falls in the same chunk)."""
    key = ", ".join(_column_expression(feed.column(k)) for k in feed.key)
    return f"hash({key}) % {{chunk_count}} = {{chunk_index}}"


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
    """Limits compared with the data by the date expectations, computed per row of in_force."""
    return {
        "_future_limit": "cast(greatest({as_of_date}, cast(_loaded_at as date)) as timestamp)"
        f" + to_days({int(tol['future_days'])})",
        "_as_of_limit": "cast({as_of_date} as timestamp) + to_days(1)",
        "_min_date": f"timestamp '{tol['min_date']}'",
        "_min_birth_date": f"timestamp '{tol['min_birth_date']}'",
    }


def _contract_columns(feed: Feed, needed: set[str]) -> list[Column]:
    return [c for c in feed.columns if c.name in needed]


def _in_force_sql(feed: Feed, tol: dict[str, Any], needed: set[str], since_mark: bool) -> str:
    """The versions in force of every key (``since_mark``: of the keys with a row in a load
    after ``{gated_load_id}``) in chunk ``{chunk_index}`` of ``{chunk_count}``, with only the
    ``needed`` columns. The chunk is chosen on the raw rows by their key before the ranking,
    which ranks the rows of one key only: each chunk's versions in force are exactly those of
    its keys over the whole table."""
    table = f"raw.{quote_identifier(feed.name)}"
    key = ", ".join(quote_identifier(k) for k in feed.key)
    version = _version_expression(feed)
    helpers = {name: sql for name, sql in _helper_columns(tol).items() if name in needed}
    inner = [_select_column(c) for c in _contract_columns(feed, needed)]
    inner += [f"coalesce(cast({version} as varchar), '') as _version", "_load_id"]
    if "_future_limit" in helpers:
        inner.append("_loaded_at")
    outer = [quote_identifier(c.name) for c in _contract_columns(feed, needed)]
    outer += [c for c in ("_version", "_load_id") if c in needed]
    outer += [f"{sql} as {name}" for name, sql in helpers.items()]
    chunk = chunk_predicate(feed)
    source = f"{table} where {chunk}"
    scope = ""
    if since_mark:
        matches = " and ".join(
            f"r.{quote_identifier(k)} is not distinct from t.{quote_identifier(k)}"
            for k in feed.key
        )
        scope = f"""
        touched as (
            select distinct {key} from {table}
            where _load_id > {{gated_load_id}} and {chunk}
        ),
        scope as (
            select r.* from {table} as r semi join touched as t on {matches}
        ),"""
        source = "scope"
    return f"""
        with {scope}
        versions as (
            select
                {", ".join(inner)},
                rank() over (partition by {key} order by {version} desc nulls last, _load_id desc)
                    as _rank
            from {source}
        )
        select {", ".join(outer)}
        from versions
        where _rank = 1
    """


def _frames(
    feed: Feed, tol: dict[str, Any], expectations: list[Expectation]
) -> tuple[dict[str, str], dict[str, str]]:
    """The suite's frames, and those read instead when the feed has a gate mark."""
    table = f"raw.{quote_identifier(feed.name)}"
    in_force_columns = frame_columns(expectations, "in_force")
    latest_needed = frame_columns(expectations, "latest_load")
    latest_columns = [_select_column(c) for c in _contract_columns(feed, latest_needed)]
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
    frames = {
        "schema": f"select * from {table} limit 0",
        "in_force": _in_force_sql(feed, tol, in_force_columns, since_mark=False),
    }
    if frame_columns(expectations, "table"):
        frames["table"] = f"select count(*) as rows_in_table from {table}"
    frames["latest_load"] = latest
    frames["ledger"] = ledger
    since_mark = {"in_force": _in_force_sql(feed, tol, in_force_columns, since_mark=True)}
    return frames, since_mark


def _in_force_chunking(feed: Feed) -> ChunkedFrame:
    """``in_force`` holds at most one row per raw row (one per key, but for ties), and the keys
    touched since the mark have at least one row each after it: the counts below are cheap
    estimates of its rows, DuckDB keeps a table's count in its metadata."""
    table = f"raw.{quote_identifier(feed.name)}"
    return ChunkedFrame(
        key=feed.key,
        rows_estimate=f"select count(*) from {table}",
        rows_estimate_since_mark=(
            f"select count(*) from {table} where _load_id > {{gated_load_id}}"
        ),
    )


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
                    f"{name} >= 0 on at least {tol['amount_not_negative_mostly']:.0%} of the "
                    "new and changed rows in force",
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
                "ExpectColumnValuesToBeBetween",
                {"column": "rows_in_table", "min_value": 1},
                "table",
                CRITICAL,
                "the required feed is not empty (the whole raw table)",
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
    frames, frames_since_mark = _frames(feed, tol, expectations)
    return Suite(
        name=f"raw_{feed.name}",
        target=("raw", feed.name),
        frames=frames,
        expectations=tuple(expectations),
        tolerances=tol,
        description=f"raw.{feed.name}: {feed.description}",
        gated_feed=feed.name,
        frames_since_mark=frames_since_mark,
        chunked_frames={"in_force": _in_force_chunking(feed)},
    )


RAW_SUITES: tuple[Suite, ...] = tuple(build_raw_suite(feed) for feed in FEEDS.values())
