"""fupan's caches: one root per project, one key function, one atomic-write helper.

Modelled on Observable Framework's loader cache. Every cache keeps its files in its own folder
`<root>/<kind>/`: the project's cache folder (`review.config.cache_dir`, `.cache/fupan/` by
default) for what depends on the review's data, settings or code, and the user cache folder
(`$XDG_CACHE_HOME/fupan` or `~/.cache/fupan`) for what depends only on installed packages and
so serves every project. `KINDS` says what each folder keeps and what it depends on (it is
what `fupan cache` lists and clears).

One freshness rule: an entry's name is `cache_key` of everything it depends on (the inputs'
fingerprint, the code version where the code shapes it, the settings), so a changed input
gives another name and a stale entry is never read.

One integrity rule: writes go through `write_atomically` (a temporary file renamed into place),
which seals what it writes with its length and XXH3 checksum: in a header line for entries
fupan reads itself (`read_sealed`), in a `.seal` file beside it for files other programs read
(Parquet scanned by DuckDB: `sealed_file_ok`). A file that is missing is made; one whose seal
does not match (truncated, zeroed, overwritten) is removed and made again, with one log line
naming it, so a damaged cache never fails a build nor reaches a page.

A cache folder that cannot be written (read-only, a file in its place, no space left) is
bypassed: `CacheRoot.dir` then gives a temporary folder for this process, with one warning
naming the folder.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import logging
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash

from fupan.errors import FupanError

PACKAGE = Path(__file__).resolve().parents[1]
log = logging.getLogger("mkdocs.plugins.fupan")
# In the names of entries whose names do not change with fupan's code (SVGs, staged files, the
# warm-start files): files written before entries were sealed are never taken for damaged ones.
SEAL_VERSION = "sealed-1"
_SEAL = b"fupan-sealed "  # a sealed entry's first line: b"fupan-sealed <length> <xxh3-128 hex>\n"
SEAL_SUFFIX = ".seal"  # the seal of a file other programs read, beside it


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
    CacheKind("svg", False, "charts' static SVGs and the fonts they are laid out with",
              "chart spec, theme, locale, vl-convert version, font files' fingerprint"),
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
        """`<root>/<kind>/` (not created) where this process keeps a kind: under a temporary
        folder instead when the root cannot be written (see `usable_root`)."""
        folder = usable_root(self.path, self.user) / self.check(name).name
        if folder not in _KIND_CHECKED:
            _KIND_CHECKED.add(folder)
            if folder.exists() and not folder.is_dir():  # a file in its place: the kind's entries are lost
                _damaged(folder, "a file where the folder should be")
        return folder

    def usage(self, name: str) -> tuple[int, int]:
        """(number of files, bytes) kept for a kind."""
        return _usage([self.path / self.check(name).name])

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
        shutil.rmtree(self.path / self.check(name).name, ignore_errors=True)
        return held


_USABLE: dict[Path, Path] = {}
_KIND_CHECKED: set[Path] = set()


def usable_root(root: Path, user: bool = False) -> Path:
    """`root` when this process can write into it (created if missing), else a temporary folder
    (removed at exit) that stands in for it: the build goes on without the kept entries, and one
    warning names the folder (not the data). Checked once per folder and process."""
    root = Path(root).absolute()
    if root in _USABLE:
        return _USABLE[root]
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=root, prefix=".tmp-probe-")
        os.close(fd)
        os.unlink(probe)
        usable = root
    except OSError as exc:
        usable = Path(tempfile.mkdtemp(prefix="fupan-cache-"))
        atexit.register(shutil.rmtree, usable, True)
        setting = "XDG_CACHE_HOME" if user else "`cache_dir` in extra.review"
        log.info("fupan warning (does not stop the build): the cache folder %s cannot be written (%s); "
                 "this build keeps its cache in a temporary folder instead, and reuses nothing kept there. "
                 "Hint: make the folder writable (or remove the file in its place), or point %s elsewhere",
                 root, exc.strerror or exc, setting)
    _USABLE[root] = usable
    return usable


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


def _seal_line(length: int, digest: str) -> bytes:
    return b"%s%d %s\n" % (_SEAL, length, digest.encode("ascii"))


def _read_seal(data: bytes) -> tuple[int, str, int] | None:
    """(length, digest, where the payload starts) of a seal line at the start of `data`."""
    if not data.startswith(_SEAL):
        return None
    end = data.find(b"\n", 0, 128)
    fields = data[len(_SEAL):end].split(b" ") if end > 0 else []
    if len(fields) != 2 or not fields[0].isdigit() or len(fields[1]) != 32:
        return None
    return int(fields[0]), fields[1].decode("ascii", "replace"), end + 1


def write_atomically(path: Path, content: str | bytes | Callable[[Path], None], seal: bool = True) -> None:
    """Write `path` through a temporary file renamed into place: a reader never sees a
    half-written file, and a failed write leaves nothing behind. `content`: text (written as
    UTF-8), bytes, or a function writing the temporary file it is given (a DuckDB COPY, a
    Parquet writer).

    Sealed (unless `seal=False`) with the content's length and checksum: text and bytes get a
    seal line before them (read them with `read_sealed`), a file written by a function gets a
    `.seal` file beside it, put in place before the file itself (check it with
    `sealed_file_ok`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        if callable(content):
            os.close(fd)
            content(Path(tmp))
            if seal:
                write_atomically(_seal_path(path), _seal_line(Path(tmp).stat().st_size, file_digest(Path(tmp))),
                                 seal=False)
        else:
            data = content.encode("utf-8") if isinstance(content, str) else content
            with os.fdopen(fd, "wb") as fh:
                if seal:
                    fh.write(_seal_line(len(data), xxhash.xxh3_128_hexdigest(data)))
                fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def keep(path: Path, content: str | bytes) -> bool:
    """`write_atomically` for an entry the build can do without: a folder that turned out not
    writable, or full, loses the entry (it is made again next time) instead of the build.
    Whether it was kept."""
    try:
        write_atomically(path, content)
        return True
    except OSError as exc:
        _warn_unwritable(path, exc)
        return False


def write_file(path: Path, writer: Callable[[Path], None]) -> Path:
    """`write_atomically` for a file the build reads back (a model's rows, a staged file): where
    the cache folder cannot take it (not writable, full), it goes to a temporary folder of this
    process instead, with one warning naming the folder. The path it was written to."""
    try:
        write_atomically(path, writer)
        return path
    except Exception as exc:
        if not _io_error(exc):
            raise
        _warn_unwritable(path, exc)
    spare = _spare_dir() / path.parent.name / path.name
    write_atomically(spare, writer)
    return spare


def _io_error(exc: BaseException) -> bool:
    """An error writing a file: the OS's, or DuckDB's own (a COPY into a full folder)."""
    duckdb = sys.modules.get("duckdb")
    return isinstance(exc, OSError) or (duckdb is not None and isinstance(exc, duckdb.IOException))


@functools.cache
def _spare_dir() -> Path:
    spare = Path(tempfile.mkdtemp(prefix="fupan-cache-"))
    atexit.register(shutil.rmtree, spare, True)
    return spare


_WARNED: set[Path] = set()


def _warn_unwritable(path: Path, exc: BaseException) -> None:
    folder = path.parent
    if folder in _WARNED:
        return
    _WARNED.add(folder)
    reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0][:200]
    log.info("fupan warning (does not stop the build): the cache folder %s cannot be written (%s); "
             "what this build makes there is not kept. Hint: free space there or make it writable",
             folder, reason)


def seal_file(path: Path) -> None:
    """Seal a file another program wrote in place (`sealed_file_ok` checks it)."""
    write_atomically(_seal_path(path), _seal_line(path.stat().st_size, file_digest(path)), seal=False)


def _seal_path(path: Path) -> Path:
    return path.with_name(path.name + SEAL_SUFFIX)


def read_sealed(path: Path) -> bytes | None:
    """The content `write_atomically` sealed into `path`; None when there is none, or when the
    file does not match its seal (then it is removed, and one log line says it is made again)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:  # a folder in its place, unreadable
        _damaged(path, exc.strerror or str(exc))
        return None
    seal = _read_seal(data)
    if seal is None:
        _damaged(path, "no valid seal line")
        return None
    length, digest, start = seal
    payload = data[start:]
    if len(payload) != length:
        _damaged(path, f"{len(payload)} bytes where {length} were written")
        return None
    if xxhash.xxh3_128_hexdigest(payload) != digest:
        _damaged(path, "content differs from its checksum")
        return None
    return payload


def sealed_file_ok(path: Path) -> bool:
    """Whether a file written by a function (`write_atomically`) is there and matches the seal
    beside it; a damaged one is removed (one log line) so the caller makes it again."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    except OSError as exc:
        _damaged(path, exc.strerror or str(exc))
        return False
    try:
        seal = _read_seal(_seal_path(path).read_bytes())
    except OSError:
        seal = None
    if seal is None:
        _damaged(path, f"its seal ({_seal_path(path).name}) is missing or damaged")
        return False
    length, digest, _ = seal
    if size != length:
        _damaged(path, f"{size} bytes where {length} were written")
        return False
    try:
        actual = file_digest(path)
    except OSError as exc:
        _damaged(path, exc.strerror or str(exc))
        return False
    if actual != digest:
        _damaged(path, "content differs from its checksum")
        return False
    return True


DAMAGED: list[Path] = []  # the damaged entries this process found (and removed), in order


def _damaged(path: Path, reason: str) -> None:
    kind = next((KINDS[p.name] for p in (path, *path.parents) if p.name in KINDS), None)
    what = f"{kind.keeps} ({kind.name})" if kind else "cache file"
    log.info("fupan: damaged cache file made again: %s %s: %s", what, path, reason)
    DAMAGED.append(path)
    for stale in (path, _seal_path(path)):
        try:
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale)
            else:
                stale.unlink(missing_ok=True)
        except OSError:  # a read-only folder: the entry is made again but cannot replace it
            pass


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
        data = read_sealed(path)
        if data is None:
            return None  # missing or damaged: recompute
        try:
            payload = json.loads(data)
            if not isinstance(payload, dict) or "columns" not in payload or "rows" not in payload:
                return None
        except ValueError:
            return None
        self.fresh += 1
        return payload

    def put(self, key: str, columns: list[str], rows: list[list[Any]]) -> None:
        self.computed += 1
        if not self.enabled:
            return
        payload = {"columns": columns, "rows": [[_clean(v) for v in row] for row in rows]}
        keep(self.dir / key[:2] / f"{key}.json", json.dumps(payload, ensure_ascii=False))
