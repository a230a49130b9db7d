"""What a suite is: frames (SQL) and expectations (a Great Expectations type and its kwargs).

A raw suite also names its ``gated_feed``: when it passes, the runner marks the feed's latest
load in ``quality.gated_loads``, and the next night reads ``frames_since_mark`` instead of the
frames of the same name (only the keys touched by later loads, see
:mod:`crm.quality.suites.raw`).
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
    #: Frame name → SQL. ``{as_of_date}`` is replaced by the date literal of the run.
    frames: dict[str, str]
    expectations: tuple[Expectation, ...]
    tolerances: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    #: Raw suites: the feed whose loads are marked in ``quality.gated_loads`` when it passes.
    gated_feed: str | None = None
    #: Frame name → SQL read instead of ``frames[name]`` when the feed has a mark;
    #: ``{gated_load_id}`` is replaced by the marked load id.
    frames_since_mark: dict[str, str] = field(default_factory=dict)
