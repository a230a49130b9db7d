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
    mask = None if valid is None else ~valid
    return pa.array(np.asarray(values, np.int64), pa.int64(), mask=mask)


def bools(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=bool), pa.bool_())


def lookup(
    values: Sequence[str] | pa.Array, index: np.ndarray, valid: np.ndarray | None = None
) -> pa.Array:
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


def codes(
    prefix: str | Sequence[str], numbers: np.ndarray, width: int, which: np.ndarray | None = None
) -> pa.Array:
    """Identifiers like ``ORD-001-00000042``: ASCII prefix + zero-padded number.

    ``prefix`` is one string, or several of equal length with ``which`` picking one per row.
    Built as one fixed-width byte matrix (a column per character) and handed to Arrow as the
    data buffer of a string array: no per-row work outside numpy.
    """
    heads = [prefix] if isinstance(prefix, str) else list(prefix)
    head = np.array([list(h.encode("ascii")) for h in heads], dtype=np.uint8)
    if head.ndim != 2:
        raise ValueError("prefixes must have the same length")
    w = head.shape[1] + width
    n = len(numbers)
    v = np.asarray(numbers, dtype=np.uint64).copy()
    if n and int(v.max()) >= 10**width:
        raise ValueError(f"number too wide for {width} digits")
    out = np.empty((n, w), dtype=np.uint8)
    out[:, : head.shape[1]] = head[0] if which is None else head[which]
    q = np.empty_like(v)
    for k in range(width):  # per character position, not per row
        np.floor_divide(v, 10, out=q)
        out[:, w - 1 - k] = v - q * 10 + ord("0")
        v, q = q, v
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out))


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
    """A bijection of ``[0, modulus)`` when ``multiplier`` is coprime to ``modulus``.

    Gives unique, random-looking numbers (phone numbers, cookie ids) from sequential indexes.
    """
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


#: Resolution of the inverse-CDF tables used for fast categorical draws.
TABLE_BITS = 16


def inverse_cdf_table(weights: Sequence[float]) -> np.ndarray:
    """Category per 1/65536 quantile of the distribution (draw = table[random uint16])."""
    w = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(w) / w.sum()
    mid = (np.arange(1 << TABLE_BITS) + 0.5) / (1 << TABLE_BITS)
    return np.minimum(np.searchsorted(cdf, mid, side="right"), len(w) - 1).astype(np.int32)


def draw_from(rng: np.random.Generator, table: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws from a quantile table (uniform pick of one of its entries)."""
    dtype = np.uint16 if len(table) <= 1 << 16 else np.int64  # 16-bit draws are the fastest
    return table[rng.integers(0, len(table), n, dtype=dtype)]


def pick_weighted(rng: np.random.Generator, weights: Sequence[float], n: int) -> np.ndarray:
    """Indexes drawn with the given weights."""
    return draw_from(rng, inverse_cdf_table(weights), n)


def pick_rowwise(
    rng: np.random.Generator, weight_rows: Sequence[Sequence[float]], row: np.ndarray
) -> np.ndarray:
    """Per element, an index drawn with the weights in ``weight_rows[row]``."""
    tables = np.stack([inverse_cdf_table(w) for w in weight_rows])
    return tables[row, rng.integers(0, tables.shape[1], len(row), dtype=np.uint16)]


def lognormal_table(median: float, sigma: float, size: int = 4096) -> np.ndarray:
    """Sorted quantiles of a lognormal distribution (fixed, seed-independent)."""
    return np.sort(np.random.default_rng(0).lognormal(np.log(median), sigma, size))


def poisson_table(mean: float, size: int = 1 << TABLE_BITS) -> np.ndarray:
    """Inverse-CDF table of a Poisson distribution (draw = table[random index])."""
    k = np.arange(int(mean * 6 + 20))
    log_pmf = k * np.log(mean) - mean - np.cumsum(np.log(np.maximum(k, 1)))
    pmf = np.exp(log_pmf)
    mid = (np.arange(size) + 0.5) / size
    return np.minimum(
        np.searchsorted(np.cumsum(pmf) / pmf.sum(), mid, side="right"), len(k) - 1
    ).astype(np.int32)


def unique_dictionary(values: Sequence[str]) -> tuple[pa.Array, np.ndarray]:
    """Distinct values (in first-seen order), and each position's index among them.

    Dictionaries handed to Arrow must not repeat values: the Parquet writer deduplicates
    them itself but then leaves unwritten (random) bytes in the dictionary page, which
    would make the files differ from run to run.
    """
    first: dict[str, int] = {}
    remap = [first.setdefault(v, len(first)) for v in values]  # per distinct value, not row
    return pa.array(list(first), pa.string()), np.asarray(remap, dtype=np.int32)


def categorical(
    values: Sequence[str] | pa.Array, index: np.ndarray, valid: np.ndarray | None = None
) -> pa.DictionaryArray:
    """``values[index]`` as a dictionary-encoded text column (cheap to build and write)."""
    names = values.to_pylist() if isinstance(values, pa.Array) else list(values)
    dictionary, remap = unique_dictionary(names)
    idx = pa.array(remap[np.asarray(index)], mask=None if valid is None else ~valid)
    return pa.DictionaryArray.from_arrays(idx, dictionary)
