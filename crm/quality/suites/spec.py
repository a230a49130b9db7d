"""What a suite is: frames (SQL) and expectations (a Great Expectations type and its kwargs).

A raw suite also names its ``gated_feed``: when it passes, the runner marks the feed's latest
load in ``quality.gated_loads``, and the next night reads ``frames_since_mark`` instead of the
frames of the same name (only the keys touched by later loads, see
:mod:`crm.quality.suites.raw`).

A frame named in ``chunked_frames`` may be read and validated in chunks (a few million rows
each, see :mod:`crm.quality.runner`), whose results are summed. Only expectations whose result
over disjoint chunks adds up exactly may be set on such a frame (``CHUNKABLE_TYPES``); the
``Suite`` refuses any other.
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


#: Expectations judged row by row (a row is unexpected or not on its own): over disjoint chunks
#: of a frame their counts add up, so the result of the whole frame is the sum of the chunks'.
ROW_TYPES = frozenset(
    {
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeInSet",
        "ExpectColumnValuesToNotBeInSet",
        "ExpectColumnValuesToBeBetween",
        "ExpectColumnValuesToMatchRegex",
        "ExpectColumnPairValuesAToBeGreaterThanB",
    }
)
#: Expectations comparing rows with each other: exact over chunks only when every row that can
#: equal another is in the same chunk, i.e. when their columns include the whole chunk key.
PER_KEY_TYPES = frozenset({"ExpectCompoundColumnsToBeUnique", "ExpectColumnValuesToBeUnique"})
#: What may be set on a chunked frame. Not, e.g., a table row count or a column mean/median:
#: their value over the whole frame is not the sum of the chunks'.
CHUNKABLE_TYPES = ROW_TYPES | PER_KEY_TYPES


@dataclass(frozen=True)
class ChunkedFrame:
    """How the runner reads a frame in chunks.

    The frame's SQL (in ``frames`` and ``frames_since_mark``) selects its source rows with
    ``hash(<key>) % {chunk_count} = {chunk_index}``, ``<key>`` being the key columns as the frame
    shows them, before anything groups or ranks them: every row of one key lands in the same
    chunk, and chunk ``i`` of ``n`` holds exactly the frame's rows whose key hashes to ``i``."""

    #: The frame's key columns (the chunk key); per-key expectations must include all of them.
    key: tuple[str, ...]
    #: SQL of a cheap count about the frame's rows (at least as many, usually), every key.
    rows_estimate: str
    #: The same when the feed has a mark (``{gated_load_id}``).
    rows_estimate_since_mark: str


def _per_key_columns(spec: Expectation) -> set[str]:
    if "column_list" in spec.kwargs:
        return set(spec.kwargs["column_list"])
    return {spec.kwargs["column"]}


def unchunkable(
    expectations: tuple[Expectation, ...], chunked: dict[str, ChunkedFrame]
) -> list[str]:
    """Why each expectation on a chunked frame could not be combined over chunks (none: [])."""
    problems = []
    for spec in expectations:
        chunking = chunked.get(spec.frame)
        if chunking is None:
            continue
        if spec.type not in CHUNKABLE_TYPES:
            problems.append(f"{spec.name} ({spec.type}) on chunked frame {spec.frame}")
        elif spec.type in PER_KEY_TYPES and not set(chunking.key) <= _per_key_columns(spec):
            problems.append(
                f"{spec.name} ({spec.type}) on chunked frame {spec.frame} does not include "
                f"the chunk key {', '.join(chunking.key)}"
            )
    return problems


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
    #: Frame name → how it is read in chunks (frames not named here are read whole).
    chunked_frames: dict[str, ChunkedFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = unchunkable(self.expectations, self.chunked_frames)
        if problems:
            raise ValueError(
                f"suite {self.name}: results over chunks cannot be combined for "
                + "; ".join(problems)
                + ". Supported on a chunked frame: "
                + ", ".join(sorted(CHUNKABLE_TYPES))
                + f" ({', '.join(sorted(PER_KEY_TYPES))} only with every chunk key column)"
            )
