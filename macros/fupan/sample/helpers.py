"""Small building blocks of the sample generator: seeded random generators (one independent
stream per table or chunk), splitmix64 hashing of an index into a uniform number, integer allocation
and categorical draws, fixed-width ids, fixed number formatting, and the CSV and Parquet writers
whose fixed settings keep every file byte-identical from run to run."""

from __future__ import annotations

import csv
import pathlib
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 500_000  # Parquet row-group size of the streamed tables


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MASK64 = (1 << 64) - 1


def _rng(seed: int, *path: int) -> np.random.Generator:
    """An independent random generator for one table or chunk."""
    return np.random.default_rng(np.random.SeedSequence([seed, *path]))


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def _hash_unif(idx: np.ndarray, key: int, salt: int) -> np.ndarray:
    """A uniform number in [0, 1) for every index, fixed by (key, salt)."""
    offset = np.uint64(((key + salt * 0x632BE59BD9B4E019) * 0xD1B54A32D192ED03) & _MASK64)
    with np.errstate(over="ignore"):
        h = _mix64(idx.astype(np.uint64) * _GOLDEN + offset)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights (largest remainder, stable ties)."""
    share = weights / weights.sum() * total
    base = np.floor(share).astype(np.int64)
    rest = int(total - base.sum())
    if rest:
        order = np.argsort(-(share - base), kind="stable")
        base[order[:rest]] += 1
    return base


def _pick(u: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """Categorical draw: u in [0, 1) against rows of cumulative probabilities."""
    return np.minimum((u[:, None] >= cum).sum(axis=1), cum.shape[-1] - 1)


def _cum_rows(p: np.ndarray) -> np.ndarray:
    """Row-wise cumulative probabilities with the last column forced to 1."""
    c = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
    c[..., -1] = 1.0
    return c


def _id_array(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Fixed-width ids such as SO000000123 built without Python loops."""
    n = len(numbers)
    head = prefix.encode("ascii")
    w = len(head) + width
    buf = np.empty((n, w), dtype=np.uint8)
    buf[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    x = numbers.astype(np.int64).copy()
    for j in range(width - 1, -1, -1):
        buf[:, len(head) + j] = (x % 10 + 48).astype(np.uint8)
        x //= 10
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(buf.tobytes())
    ).cast(pa.string())


def _ids(prefix: str, numbers: Sequence[int], width: int) -> list[str]:
    """Fixed-width ids as Python strings (small tables)."""
    return [f"{prefix}{int(n):0{width}d}" for n in numbers]


def _take(values: Sequence[str], idx: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Strings by index (null where mask is True)."""
    return pa.array(list(values), pa.string()).take(pa.array(idx.astype(np.int32), mask=mask))


def _money(cents: int) -> str:
    """Cents as a fixed two-decimal string."""
    sign = "-" if cents < 0 else ""
    c = abs(int(cents))
    return f"{sign}{c // 100}.{c % 100:02d}"


def _num(x: float, digits: int) -> str:
    """A decimal rounded to `digits` places, without trailing zeros ("12.5", "3")."""
    text = f"{round(float(x), digits):.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _bool(b: bool) -> str:
    return "true" if b else "false"


def _write_csv(path: pathlib.Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """UTF-8 CSV, LF line ends, minimal quoting; every value already a string."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


class _ParquetStream:
    """Buffers record batches and writes fixed-size row groups with stable settings."""

    def __init__(self, path: pathlib.Path, schema: pa.Schema, dictionary: Sequence[str]):
        self.schema = schema
        self.writer = pq.ParquetWriter(
            path, schema, compression="zstd", compression_level=3,
            use_dictionary=list(dictionary), write_statistics=True, version="2.6",
            store_schema=True,
        )
        self.buffer: list[pa.Table] = []
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self.buffer.append(table)
        self.rows += table.num_rows
        while self.rows >= ROW_GROUP_ROWS:
            merged = pa.concat_tables(self.buffer)
            self.writer.write_table(merged.slice(0, ROW_GROUP_ROWS), row_group_size=ROW_GROUP_ROWS)
            rest = merged.slice(ROW_GROUP_ROWS)
            self.buffer = [rest] if rest.num_rows else []
            self.rows = rest.num_rows

    def close(self) -> None:
        if self.rows:
            self.writer.write_table(pa.concat_tables(self.buffer), row_group_size=ROW_GROUP_ROWS)
        self.writer.close()


def _write_parquet(path: pathlib.Path, table: pa.Table, dictionary: Sequence[str]) -> None:
    stream = _ParquetStream(path, table.schema, dictionary)
    stream.write(table)
    stream.close()
