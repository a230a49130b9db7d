"""Vectorised builders of Arrow columns from numpy arrays (ids, timestamps, text lookups)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: "Never happens" marker for event times (far beyond any cutoff).
NEVER = np.iinfo(np.int64).max // 4

Strings = pa.Array | pa.ChunkedArray | pa.Scalar | str


def timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Naive (JST wall-clock) timestamp[s] column; null where ``valid`` is False."""
    values = np.asarray(seconds, dtype=np.int64).view("datetime64[s]")
    return pa.array(values, type=pa.timestamp("s"), mask=None if valid is None else ~valid)


def dates(days_since_epoch: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days_since_epoch, dtype=np.int64).astype(np.int32), pa.date32())


def ints(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, np.int64), pa.int64(), mask=None if valid is None else ~valid)


def bools(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=bool), pa.bool_())


def lookup(values: Sequence[str] | pa.Array, index: np.ndarray,
           valid: np.ndarray | None = None) -> pa.Array:  # fmt: skip
    """``values[index]`` as a plain string column; null where ``valid`` is False."""
    dictionary = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    idx = pa.array(np.asarray(index, dtype=np.int32), mask=None if valid is None else ~valid)
    return pc.take(dictionary, idx)


def digits(numbers: np.ndarray, width: int) -> pa.Array:
    """Zero-padded decimal text of non-negative integers."""
    text = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(text, width=width, padding="0")


def join(*parts: Strings) -> pa.Array:
    """Element-wise concatenation of text columns and literals (null if any part is null)."""
    return pc.binary_join_element_wise(*parts, "")


def codes(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Identifiers like ``ORD-001-00000042``: ``prefix`` + zero-padded number."""
    return join(prefix, digits(numbers, width))


def base36(numbers: np.ndarray, width: int) -> pa.Array:
    """Fixed-width lower-case base-36 text of non-negative integers (vectorised)."""
    alphabet = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
    n = np.asarray(numbers, dtype=np.int64)
    out = np.empty((len(n), width), dtype=np.uint8)
    for k in range(width - 1, -1, -1):  # per character position, not per row
        out[:, k] = alphabet[n % 36]
        n = n // 36
    return pc.cast(pa.array(out.view(f"S{width}").ravel(), pa.binary()), pa.string())


def with_nulls(column: pa.Array, keep: np.ndarray) -> pa.Array:
    """``column`` with nulls where ``keep`` is False."""
    return pc.if_else(pa.array(keep), column, pa.scalar(None, column.type))


def scramble(index: np.ndarray, modulus: int, multiplier: int, offset: int) -> np.ndarray:
    """A bijection of ``[0, modulus)`` (``multiplier`` coprime to ``modulus``): unique, random-looking."""
    idx = np.asarray(index, dtype=np.int64) % modulus
    # (a * b) % m without overflow: split the multiplier.
    hi, lo = divmod(multiplier, 1 << 20)
    prod = ((idx * hi) % modulus * (1 << 20) + idx * lo) % modulus
    return (prod + offset) % modulus


def group_starts(counts: np.ndarray) -> np.ndarray:
    """Offsets of groups of the given sizes in a flat array."""
    starts = np.zeros(len(counts), dtype=np.int64)
    if len(counts) > 1:
        np.cumsum(counts[:-1], out=starts[1:])
    return starts


def rank_in_group(counts: np.ndarray) -> np.ndarray:
    """0, 1, ... within each group for a flat array grouped by ``np.repeat(..., counts)``."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(group_starts(counts), counts)


def pick_weighted(rng: np.random.Generator, weights: Sequence[float], n: int) -> np.ndarray:
    """Indexes drawn with the given weights."""
    w = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(w) / w.sum()
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(w) - 1)


def pick_rowwise(rng: np.random.Generator, cdf_rows: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Per element, an index drawn from the CDF in ``cdf_rows[row]``."""
    u = rng.random(len(row))
    return np.minimum((u[:, None] >= cdf_rows[row]).sum(axis=1), cdf_rows.shape[1] - 1)


def cdf_matrix(rows: Sequence[Sequence[float]]) -> np.ndarray:
    m = np.asarray(rows, dtype=np.float64)
    return np.cumsum(m, axis=1) / m.sum(axis=1, keepdims=True)
