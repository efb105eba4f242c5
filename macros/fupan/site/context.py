"""Everything one build shares: settings, contract, data, catalogue, engine and page state.

Created once per build by `define_env`, before any page renders: the settings, the contract
and the catalogue are checked here, so a mistake in any of them fails the build at once with
every problem listed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fupan.config import ReviewConfig, check_engine_tables, review_config
from fupan.data.backends import make_backend
from fupan.data.contract import Contract, load_contract
from fupan.data.store import COMPUTE_MEMORY_LIMIT, DataStore
from fupan.data.validation import DataValidationError, ValidationReport, date_limits, validate_cached
from fupan.presentation import fmt
from fupan.semantics.catalogue import Catalogue, load_catalogue
from fupan.semantics.engine import Engine
from fupan.semantics.periods import Period, parse_period
from fupan.speed.cache import ResultCache

log = logging.getLogger("mkdocs.plugins.fupan")


@dataclass
class Review:
    config: ReviewConfig
    contract: Contract
    store: DataStore
    catalogue: Catalogue
    engine: Engine
    validation: ValidationReport
    env: Any = None  # mkdocs-macros environment (for the current page)
    missing_sections: list[str] = field(default_factory=list)
    missing_paths: list[str] = field(default_factory=list)  # the files of each notice, in order
    macro_registry: dict[str, Any] = field(default_factory=dict)
    outputs: Any = None  # the MacroOutputs cache (outputs.py), set when the macros are registered
    _ids: dict[str, int] = field(default_factory=dict)
    _ids_page: str | None = None

    # -- pages -------------------------------------------------------------------------------
    @property
    def page(self) -> Any:
        return getattr(self.env, "page", None) if self.env is not None else None

    @property
    def page_path(self) -> str:
        page = self.page
        return page.file.src_uri if page is not None and page.file is not None else "?"

    def locale(self, arg: str | None = None) -> str:
        """Macro argument → page front matter → extra.review → zh-CN."""
        meta = getattr(self.page, "meta", None) or {}
        return fmt.resolve_locale(arg, meta, {"locale": self.config.locale})

    def link(self, target: str) -> str:
        """A link from the current page to a site path such as 'definitions/#net_sales'."""
        page = self.page
        url = getattr(page, "url", "") or ""
        depth = url.count("/") if not url.endswith(".html") else url.count("/")
        return "../" * depth + target

    def note_missing(self, paths: str) -> None:
        """Record (for the post-build summary) and log that this page shows a notice for the
        absent optional data files `paths`."""
        self.missing_sections.append(f"{self.page_path}: needs {paths}")
        self.missing_paths.append(paths)
        log.info("fupan: %s shows a notice: optional data %s is absent", self.page_path, paths)

    def ids_on_page(self) -> dict[str, int]:
        """The element ids used so far on the current page (base → times used)."""
        return dict(self._ids) if self._ids_page == self.page_path else {}

    def claim_ids(self, counts: dict[str, int]) -> None:
        """Mark ids as used on the current page, as a cached macro output used them."""
        if self._ids_page != self.page_path:
            self._ids_page, self._ids = self.page_path, {}
        self._ids.update(counts)

    def unique_id(self, base: str) -> str:
        """Stable element ids: the same content gets the same id; repeats on a page get -2, -3."""
        page = self.page_path
        if page != self._ids_page:
            self._ids_page = page
            self._ids = {}
        count = self._ids.get(base, 0) + 1
        self._ids[base] = count
        return base if count == 1 else f"{base}-{count}"

    # -- periods -----------------------------------------------------------------------------
    def period(self, spec: str | int | None = None) -> Period:
        return parse_period(spec if spec not in (None, "") else self.config.year, self.config.as_of)


def build_review(extra: dict[str, Any], project_dir: Path) -> Review:
    """Load and check settings, contract, data and catalogue (raises on the first failing layer,
    listing every problem of that layer)."""
    config = review_config(extra, project_dir)
    contract = load_contract(config.contract_path)
    check_engine_tables(config.engine, contract.datasets)
    catalogue = load_catalogue(contract)
    store = DataStore(contract, config.cache_dir, make_backend(config.engine))
    report = validate_cached(store, config.cache_dir, limits=date_limits(config.year))
    if report.errors:
        raise DataValidationError(report)
    for problem in report.warnings:
        log.info("fupan data warning (does not stop the build): %s", problem.text())
    if report.missing_optional:
        log.info("fupan: optional data not provided: %s", ", ".join(report.missing_optional))
    store.set_memory_limit(COMPUTE_MEMORY_LIMIT)
    engine = Engine(store, catalogue, ResultCache(config.cache_dir), config.min_group_size)
    return Review(config=config, contract=contract, store=store, catalogue=catalogue,
                  engine=engine, validation=report)


def summarize_build(review: Review) -> None:
    """The build log's closing lines: cache use and sections showing a missing-data notice."""
    cache = review.engine.cache
    log.info("fupan: %d results fresh from cache, %d computed", cache.fresh, cache.computed)
    if review.outputs is not None:
        log.info("fupan: %d macro outputs fresh from cache, %d rendered",
                 review.outputs.fresh, review.outputs.rendered)
    for section in review.missing_sections:
        log.info("fupan: missing optional data: %s", section)
