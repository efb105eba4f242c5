"""On-disk cache of query results, keyed by content (Observable Framework's loader-cache idea).

A key is a hash of everything a result depends on: the SQL (which spells out the metric
definition, period, breakdown and filters), the fingerprint of the input files it reads, and the
version of the code that produced it. Writes are atomic (temporary file, then rename); an entry
that cannot be read is ignored and recomputed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[1]


@functools.cache
def code_version() -> str:
    """Hash of every file of the fupan package (code, catalogue, assets): the one code part of
    every cache key, so no kept entry outlives the code that made it."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


class ResultCache:
    """JSON files under `<cache_dir>/results/`, with fresh/recomputed counters for the log."""

    def __init__(self, cache_dir: Path, enabled: bool = True):
        self.dir = Path(cache_dir) / "results"
        self.enabled = enabled
        self.fresh = 0
        self.computed = 0

    @staticmethod
    def key(*parts: str) -> str:
        digest = hashlib.sha256()
        for part in parts:
            digest.update(part.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()

    def has(self, key: str) -> bool:
        """Whether an entry exists (without reading it or counting it as used)."""
        return self.enabled and (self.dir / key[:2] / f"{key}.json").exists()

    def get(self, key: str) -> dict[str, list] | None:
        if not self.enabled:
            return None
        path = self.dir / key[:2] / f"{key}.json"
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(payload, dict) or "columns" not in payload or "rows" not in payload:
                return None
        except (OSError, ValueError):
            return None  # missing or corrupt: recompute
        self.fresh += 1
        return payload

    def put(self, key: str, columns: list[str], rows: list[list[Any]]) -> None:
        self.computed += 1
        if not self.enabled:
            return
        payload = {"columns": columns, "rows": [[_clean(v) for v in row] for row in rows]}
        write_atomically(self.dir / key[:2] / f"{key}.json", json.dumps(payload, ensure_ascii=False))


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write `content` (text as UTF-8, or bytes) to `path` through a temporary file renamed
    into place: a reader never sees a half-written file, and a failed write leaves nothing
    behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
