"""What a suite is: frames (SQL) and expectations (a Great Expectations type and its kwargs).

A mart suite's frames are small: each is read into pandas and validated by Great Expectations.

A raw suite (``gated_feed`` set) is evaluated in the warehouse instead (see
:mod:`crm.quality.sql_gate`): its frames are SQL relations that are never read whole; each
expectation is compiled into counts of one aggregate query per frame, and Great Expectations
judges those counts. Its ``new_rows`` frame holds the rows of the loads after the feed's mark in
``quality.gated_loads`` (``{gated_load_id}``); ``frames_in_force`` gives, for a frame of that
name, the same rows less those superseded by a later version among them, read instead when the
first pass finds an unexpected row (so that a correction file clears a failed one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["critical", "warning"]
CRITICAL: Severity = "critical"
WARNING: Severity = "warning"


@dataclass(frozen=True)
class Expectation:
    #: Unique within the suite; the Dagster check is called ``gx_<name>``.
    name: str
    #: A Great Expectations 1.x expectation class, e.g. ``ExpectColumnValuesToBeUnique``.
    type: str
    kwargs: dict[str, Any]
    #: The frame of the suite it is evaluated on.
    frame: str
    severity: Severity
    description: str

    @property
    def check_name(self) -> str:
        return f"gx_{self.name}"

    @property
    def critical(self) -> bool:
        return self.severity == CRITICAL


@dataclass(frozen=True)
class Suite:
    #: File name of its results, e.g. ``raw_orders``.
    name: str
    #: ``("raw", "<feed>")`` for a raw feed, ``("model", "<dbt model>")`` for a mart.
    target: tuple[str, str]
    #: Frame name → SQL. ``{as_of_date}`` is replaced by the date literal of the run,
    #: ``{gated_load_id}`` (raw suites) by the feed's mark (0: every load).
    frames: dict[str, str]
    expectations: tuple[Expectation, ...]
    tolerances: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    #: Raw suites: the feed whose loads are marked in ``quality.gated_loads`` when it passes;
    #: such a suite is evaluated in SQL (:mod:`crm.quality.sql_gate`), never read into pandas.
    gated_feed: str | None = None
    #: Raw suites: frame name → SQL of its rows less those superseded by a later version among
    #: them, read instead of ``frames[name]`` when the first pass finds an unexpected row.
    frames_in_force: dict[str, str] = field(default_factory=dict)

    @property
    def in_sql(self) -> bool:
        """Whether the suite is evaluated in the warehouse (raw suites) rather than in pandas."""
        return self.gated_feed is not None
