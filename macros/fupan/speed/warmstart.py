"""Start-up costs MkDocs pays on every build that do not depend on the review: made cheap.

Each keeps work that depends only on installed packages (like Python's own ``__pycache__``),
so it survives a cold build of the review. Loading jieba's dictionary, compiling Material's
templates and segmenting the pages' Chinese text again were most of a warm build beyond the
review's own work.

* `preload_jieba`: jieba's dictionary read from jieba's own cache file in one go;
* `cache_compiled_templates`: Jinja's bytecode cache, in the user cache (kind `jinja`);
* `MemoizedCut`: jieba's segmentation kept between builds, in the user cache (kind `jieba`);
* `cache_compiled_pages`: the pages' compiled Jinja code, in the review's cache (kind `pages`);
* `memoize_search_entries`: each page's search index entries, in the review's cache (kind
  `search`).

Each function takes the root it keeps its folder under (cache.py's `CacheRoot`).
"""

from __future__ import annotations

import marshal
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from fupan.speed.cache import SEAL_VERSION, CacheRoot, cache_key, read_sealed, write_atomically


def preload_jieba() -> bool:
    """Load jieba's default prefix dictionary from jieba's own cache file in one read.

    Material's search plugin segments Chinese text with jieba, whose first call loads a large
    cache with ``marshal.load(file)``: that reads the file in tiny pieces, several times slower
    than ``marshal.loads`` of the same bytes. The result is the same dictionary, so search
    output does not change. Anything unusual (no jieba, a custom dictionary, no cache
    file yet, an unreadable one) is left to jieba, which builds and writes its cache as before.
    Returns whether the dictionary was loaded here.
    """
    try:
        import jieba
    except ImportError:
        return False
    tokenizer = jieba.dt
    # Only the default dictionary with jieba's default cache location is handled here.
    if tokenizer.initialized or tokenizer.cache_file or tokenizer.dictionary != jieba.DEFAULT_DICT:
        return False
    cache = Path(tokenizer.tmp_dir or tempfile.gettempdir()) / "jieba.cache"
    try:
        freq, total = marshal.loads(cache.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return False
    if not isinstance(freq, dict) or not isinstance(total, int):
        return False
    with tokenizer.lock:
        if not tokenizer.initialized:
            tokenizer.FREQ, tokenizer.total = freq, total
            tokenizer.initialized = True
    return True


def cache_compiled_templates(env: Any, user_root: Path) -> Any:
    """Keep the theme's compiled Jinja templates between builds (Jinja's bytecode cache), in
    `<user_root>/jinja/`.

    Jinja checks each cached template against a checksum of its source and the Python
    version, so an edited or upgraded theme recompiles; entries are sealed (`SealedBytecodeCache`),
    so a damaged one is compiled again instead of failing the build.
    """
    if env.bytecode_cache is None:
        directory = CacheRoot(user_root, user=True).dir("jinja")
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:  # a read-only home: build without the cache
            return env
        if os.access(directory, os.W_OK):
            env.bytecode_cache = sealed_bytecode_cache(directory)
    return env


def sealed_bytecode_cache(directory: Path) -> Any:
    """Jinja's file bytecode cache with each entry sealed by `write_atomically` and checked by
    `read_sealed`: Jinja would unpickle a damaged entry's checksum and fail the build."""
    import jinja2

    class SealedBytecodeCache(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket: Any) -> None:
            data = read_sealed(Path(self._get_cache_filename(bucket)))
            if data is not None:
                bucket.bytecode_from_string(data)

        def dump_bytecode(self, bucket: Any) -> None:
            try:
                write_atomically(Path(self._get_cache_filename(bucket)), bucket.bytecode_to_string())
            except OSError:  # compiled again next time
                pass

    # Named apart from Jinja's own (unsealed) entries, which are never read as damaged ones.
    return SealedBytecodeCache(str(directory), pattern=f"{SEAL_VERSION}-%s.cache")


class KeptBetweenBuilds:
    """Entries kept in one marshal file between builds, like a build cache of Python's own:
    loaded at start; `save` writes (atomically) only the entries this build used, so the file
    never grows with text that is gone. Sealed (`write_atomically`); missing or damaged: start
    empty."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()
        data = read_sealed(path)
        try:
            loaded = marshal.loads(data) if data is not None else {}
        except (EOFError, ValueError, TypeError):
            loaded = {}
        self.known: dict[Any, Any] = loaded if isinstance(loaded, dict) else {}
        self.used: dict[Any, Any] = {}
        self.changed = False

    def get(self, key: Any) -> Any:
        """The kept value, or None."""
        with self.lock:
            value = self.known.get(key)
            if value is not None:
                self.used[key] = value
            return value

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.known[key] = value
            self.used[key] = value
            self.changed = True

    def save(self) -> None:
        """Keep the entries this build used; nothing to do when none was new or dropped."""
        with self.lock:
            if not self.changed and len(self.used) == len(self.known):
                return
            data = marshal.dumps(self.used)
            self.known, self.used, self.changed = self.used, {}, False
        try:
            write_atomically(self.path, data)
        except OSError:  # a read-only cache folder: compute again next time
            pass


class MemoizedCut:
    """`jieba.cut` with its results kept between builds.

    Material's search plugin segments every Chinese run of every page with `jieba.cut`, and a
    rebuild segments the same runs again, after loading jieba's dictionary. Segmentation depends
    only on the text and jieba's dictionary, so the results are kept in one file of the user
    cache's `jieba/` folder (only the runs the last build used). A build whose text was
    segmented before never loads the dictionary. Calls with other options, or with a custom
    dictionary, go to jieba unchanged.
    """

    def __init__(self, original: Any, path: Path):
        self.original = original
        self.kept = KeptBetweenBuilds(path)
        self.seen: list[Any] | None = None  # while set, the sentences asked for (search memo)

    def __call__(self, sentence: Any, cut_all: bool = False, HMM: bool = True,  # noqa: N803
                 use_paddle: bool = False) -> Any:
        import jieba

        if cut_all or not HMM or use_paddle or not isinstance(sentence, (str, bytes)) \
                or jieba.dt.dictionary != jieba.DEFAULT_DICT:
            return self.original(sentence, cut_all, HMM, use_paddle)
        if self.seen is not None:
            self.seen.append(sentence)
        words = self.kept.get(sentence)
        if words is None:
            preload_jieba()
            words = list(self.original(sentence))
            self.kept.put(sentence, words)
        return iter(words)

    def keep(self, sentences: list[Any]) -> None:
        """Count these runs as used by this build (a page whose search entries were kept
        stands for its runs: they stay for the build that changes the page)."""
        for sentence in sentences:
            self.kept.get(sentence)

    def save(self) -> None:
        """Keep the runs this build segmented (see `KeptBetweenBuilds.save`)."""
        self.kept.save()


def cache_compiled_pages(env: Any, cache_dir: Path, edition: str = "") -> KeptBetweenBuilds:
    """Keep the compiled code of the pages' Jinja sources between builds.

    mkdocs-macros renders each page with `Environment.from_string`, which compiles the page's
    Markdown to Python every build, a noticeable part of a warm rebuild. Jinja's bytecode cache
    only serves templates from a loader, so this keeps the code objects of `from_string`
    sources itself, keyed by the source and every setting of the environment that shapes the
    generated code (delimiters, extensions, filters and tests, autoescape, finalize), in
    `<cache_dir>/pages/`, in a file named by the Jinja and Python versions. A page that does not
    compile raises as before and is never kept.
    """
    import json
    import sys

    import jinja2

    original = getattr(env.compile, "original", env.compile)  # a rebuild in the same process
    name = cache_key(jinja2.__version__, sys.implementation.cache_tag, SEAL_VERSION, edition)[:16]
    kept = KeptBetweenBuilds(CacheRoot(cache_dir).dir("pages") / f"{name}.marshal")

    def settings() -> str:
        def name(value: Any) -> Any:
            return value if isinstance(value, (bool, type(None))) else getattr(value, "__qualname__", "?")

        return json.dumps([
            env.block_start_string, env.block_end_string, env.variable_start_string,
            env.variable_end_string, env.comment_start_string, env.comment_end_string,
            env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks,
            env.newline_sequence, env.keep_trailing_newline, sorted(env.extensions), env.optimized,
            env.is_async, name(env.autoescape), name(env.finalize), sorted(env.filters),
            sorted(env.tests)])

    def compile_kept(source: Any, name: str | None = None, filename: str | None = None,
                     raw: bool = False, defer_init: bool = False) -> Any:
        if raw or defer_init or name is not None or filename is not None or not isinstance(source, str):
            return original(source, name, filename, raw, defer_init)
        key = cache_key(settings(), source)
        stored = kept.get(key)
        if stored is not None:
            return marshal.loads(stored)
        code = original(source)
        kept.put(key, marshal.dumps(code))
        return code

    compile_kept.original = original  # type: ignore[attr-defined]
    env.compile = compile_kept
    return kept


def memoize_jieba(user_root: Path, project: str = "", edition: str = "") -> MemoizedCut | None:
    """Install `MemoizedCut` as `jieba.cut` (once per process and project), keeping its file in
    `<user_root>/jieba/`; None without jieba.

    Each project (its mkdocs.yml) keeps its own file: a file shared by two projects kept only
    what the last one used, so building them in turn segmented most runs again each time; for
    the same reason each edition of a review (site/editions.py) keeps its own."""
    try:
        import jieba
    except ImportError:
        return None
    name = cache_key(jieba.__version__, project, SEAL_VERSION, edition)[:16]
    path = CacheRoot(user_root, user=True).dir("jieba") / f"{name}.marshal"
    current = jieba.cut
    if isinstance(current, MemoizedCut) and current.kept.path == path:
        return current
    # Under `mkdocs serve` each build imports this module afresh: unwrap the earlier build's.
    original = getattr(current, "original", current)
    jieba.cut = MemoizedCut(original, path)
    return jieba.cut


def memoize_search_entries(cache_dir: Path, edition: str = "") -> KeptBetweenBuilds | None:
    """Keep the search index entries of each page between builds (Material's search plugin).

    The plugin parses every page's HTML with Python's HTML parser to split it into sections,
    slow for pages full of charts and tables, and done again for pages whose HTML did not
    change. A page's entries depend only on its HTML, its table of contents, URL, title and
    front matter, the plugin's settings and the versions of Python (its HTML parser), Material,
    jieba and backrefs (the Han-script pattern), so they are kept in `<cache_dir>/search/`, in a
    file named by those versions, under `cache_key` of all of those (only the pages the last
    build indexed), with the jieba runs each page segmented, which then stay in jieba's kept
    segmentation (`MemoizedCut.keep`). With a custom jieba dictionary, whose words can
    change under the same settings, every page is indexed as before. None without Material's
    search.
    """
    import sys
    from importlib.metadata import PackageNotFoundError, version

    try:
        from material.plugins.search import plugin as search
    except ImportError:
        return None
    versions = []
    for package in ("mkdocs-material", "jieba", "backrefs"):
        try:
            versions.append(version(package))
        except PackageNotFoundError:
            versions.append("none")
    index = search.SearchIndex
    original = getattr(index.add_entry_from_context, "original", index.add_entry_from_context)
    name = cache_key(sys.implementation.cache_tag, *versions, SEAL_VERSION, edition)[:16]
    kept = KeptBetweenBuilds(CacheRoot(cache_dir).dir("search") / f"{name}.marshal")
    python = sys.version  # patch releases have changed html.parser

    def toc_of(items: Any) -> list:
        return [[item.id, item.url, str(item.title), toc_of(item.children)] for item in items]

    def add_entry_kept(self: Any, page: Any) -> None:
        if self.config.get("jieba_dict") or self.config.get("jieba_dict_user"):
            return original(self, page)
        try:
            key = cache_key(python, sorted(self.config.items()), page.content, toc_of(page.toc), page.url,
                            str(page.title), page.meta)
        except (TypeError, ValueError):  # front matter keys that do not sort (2024: … beside title: …)
            return original(self, page)
        cut = search.jieba.cut if search.jieba is not None else None
        cut = cut if isinstance(cut, MemoizedCut) else None
        stored = kept.get(key)
        if isinstance(stored, list) and len(stored) == 2 and all(isinstance(part, list) for part in stored):
            entries, sentences = stored
            self.entries.extend(dict(entry) for entry in entries)
            if cut is not None:
                cut.keep(sentences)
            return None
        start = len(self.entries)
        if cut is not None:
            cut.seen = []
        try:
            original(self, page)
        finally:
            sentences = cut.seen if cut is not None else []
            if cut is not None:
                cut.seen = None
        added = [dict(entry) for entry in self.entries[start:]]
        try:
            marshal.dumps([added, sentences])  # only plain values can be kept (a front matter boost may not be)
        except ValueError:
            return None
        kept.put(key, [added, sentences])
        return None

    add_entry_kept.original = original  # type: ignore[attr-defined]
    index.add_entry_from_context = add_entry_kept
    return kept
