"""fupan's caches: one root per project, one key function, one atomic-write helper.

Modelled on Observable Framework's loader cache. Every cache keeps its files in its own folder
`<root>/<kind>/`: the project's cache folder (`review.config.cache_dir`, `.cache/fupan/` by
default) for what depends on the review's data, settings or code, and the user cache folder
(`$XDG_CACHE_HOME/fupan` or `~/.cache/fupan`) for what depends only on installed packages and
so serves every project. `KINDS` says what each folder keeps and what it depends on (it is
what `fupan cache` lists and clears).

One freshness rule: an entry's name is `cache_key` of everything it depends on (the inputs'
fingerprint, the code version where the code shapes it, the settings), so a changed input
gives another name and a stale entry is never read; an entry that cannot be read is ignored
and made again. Writes go through `write_atomically` (a temporary file renamed into place).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash

from fupan.errors import FupanError

PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class CacheKind:
    """One cache: its folder's name, whether it lives in the user cache, what it keeps and what
    it depends on (one line each, shown by `fupan cache`)."""

    name: str
    user: bool
    keeps: str
    depends: str


KINDS: dict[str, CacheKind] = {kind.name: kind for kind in (
    CacheKind("results", False, "query results (JSON)", "SQL, data fingerprint, code version, engine"),
    CacheKind("macros", False, "macro outputs (HTML) and their side effects",
              "arguments, page, data, contract, extra settings, code version"),
    CacheKind("models", False, "each model's rows (Parquet)", "model SQL and its datasets' fingerprint"),
    CacheKind("svg", False, "charts' static SVGs", "chart spec, theme, locale, vl-convert version"),
    CacheKind("staged", False, "CSV and Excel files as all-text Parquet",
              "file content hash, format, encoding, sheet"),
    CacheKind("derived", False, "orders, lines and products derived from a shop's exports (Parquet)",
              "export declarations, the exports' content hashes, code version"),
    CacheKind("tidy", False, "text columns needing no trimming", "dataset settings, its files' fingerprint"),
    CacheKind("validation", False, "data check reports", "contract, data fingerprint, code version, engine"),
    CacheKind("validation-counts", False, "failure counts of each data check",
              "check SQL, its datasets' fingerprint, code version, engine"),
    CacheKind("pages", False, "the pages' compiled Jinja code", "page source, Jinja settings and version, Python"),
    CacheKind("search", False, "each page's search index entries",
              "page HTML, toc, URL, title, front matter, search settings, package versions"),
    CacheKind("duckdb-spill", False, "DuckDB's temporary files while a query spills out of memory",
              "nothing (DuckDB removes them when done)"),
    CacheKind("jinja", True, "the theme's compiled Jinja templates", "template source, Python version"),
    CacheKind("jieba", True, "Chinese word segmentation of the pages' text",
              "text, jieba version, the project's mkdocs.yml"),
    CacheKind("vega", True, "Vega, Vega-Lite and vega-embed bundle", "vl-convert version"),
)}


class UnknownCacheKind(FupanError, ValueError):
    """A cache kind not in `KINDS` (or not in the asked-for root)."""


def user_cache_dir() -> Path:
    """The user cache folder, for caches that depend only on installed packages."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fupan"


class CacheRoot:
    """A cache root: a project's cache folder, or (`user=True`) the user cache folder."""

    def __init__(self, path: Path | str, user: bool = False):
        self.path = Path(path)
        self.user = user

    @classmethod
    def for_user(cls) -> CacheRoot:
        return cls(user_cache_dir(), user=True)

    @property
    def kinds(self) -> list[CacheKind]:
        """The kinds kept under this root, in registry order."""
        return [kind for kind in KINDS.values() if kind.user == self.user]

    def check(self, name: str) -> CacheKind:
        """The kind called `name`, or UnknownCacheKind naming the valid ones."""
        kind = KINDS.get(name)
        if kind is None or kind.user != self.user:
            where = "user" if self.user else "project"
            valid = ", ".join(k.name for k in self.kinds)
            hint = ""
            if kind is not None:
                hint = f" ({name} is in the {'user' if kind.user else 'project'} cache"
                hint += ": add --user)" if kind.user else ": leave out --user)"
            raise UnknownCacheKind(f"unknown {where} cache kind {name!r}{hint}; valid kinds: {valid}",
                                   hint=f"valid kinds: {valid}")
        return kind

    def dir(self, name: str) -> Path:
        """`<root>/<kind>/` (not created)."""
        return self.path / self.check(name).name

    def usage(self, name: str) -> tuple[int, int]:
        """(number of files, bytes) kept for a kind."""
        return _usage([self.dir(name)])

    def others(self) -> tuple[int, int]:
        """(number of files, bytes) under the root outside every kind's folder (an older
        layout's files, say): listed by `fupan cache`, never removed by it."""
        names = {kind.name for kind in self.kinds}
        try:
            entries = [path for path in self.path.iterdir() if path.name not in names]
        except OSError:
            return 0, 0
        return _usage(entries)

    def clear(self, name: str) -> tuple[int, int]:
        """Remove a kind's folder; returns the (files, bytes) it held."""
        held = self.usage(name)
        shutil.rmtree(self.dir(name), ignore_errors=True)
        return held


def _usage(paths: list[Path]) -> tuple[int, int]:
    files = size = 0
    for top in paths:
        for path in [top, *top.rglob("*")] if top.is_dir() else [top]:
            try:
                if path.is_file():
                    files += 1
                    size += path.stat().st_size
            except OSError:  # removed meanwhile
                continue
    return files, size


def cache_dir(root: Path | str, name: str) -> Path:
    """`<root>/<kind>/` of a project's cache folder."""
    return CacheRoot(root).dir(name)


def user_dir(name: str) -> Path:
    """`<user cache>/<kind>/`."""
    return CacheRoot.for_user().dir(name)


def cache_key(*parts: Any) -> str:
    """The one cache key: sha256 (hex) of everything an entry depends on, in order. Text and
    bytes go in as they are, anything else as canonical JSON (sorted keys: raises TypeError
    for keys that do not sort); each part is length-prefixed, so parts never run together."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, bytes):
            data = part
        elif isinstance(part, str):
            data = part.encode("utf-8")
        else:
            data = json.dumps(part, sort_keys=True, ensure_ascii=False, default=str,
                              separators=(",", ":")).encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


@functools.cache
def code_version() -> str:
    """Hash of every file of the fupan package (code, catalogue, assets): the code part of the
    keys of caches whose entries the code shapes, so none outlives the code that made it."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """XXH3 (128 bits, hex) of a file's content, read in blocks."""
    digest = xxhash.xxh3_128()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomically(path: Path, content: str | bytes | Callable[[Path], None]) -> None:
    """Write `path` through a temporary file renamed into place: a reader never sees a
    half-written file, and a failed write leaves nothing behind. `content`: text (written as
    UTF-8), bytes, or a function writing the temporary file it is given (a DuckDB COPY, a
    Parquet writer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        if callable(content):
            os.close(fd)
            content(Path(tmp))
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


class ResultCache:
    """JSON files under `<cache_dir>/results/`, with fresh/recomputed counters for the log."""

    key = staticmethod(cache_key)

    def __init__(self, cache_dir: Path, enabled: bool = True):
        self.dir = CacheRoot(cache_dir).dir("results")
        self.enabled = enabled
        self.fresh = 0
        self.computed = 0

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
