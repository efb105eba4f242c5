"""Everything one build shares: settings, contract, data, catalogue, engine and page state.

Created once per build by `define_env`, before any page renders: the settings, the contract
and the catalogue are checked here, so a mistake in any of them fails the build at once with
every problem listed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fupan.config import ReviewConfig, check_engine_tables, review_config
from fupan.data.backends import make_backend
from fupan.data.contract import Contract, load_contract
from fupan.data.store import COMPUTE_MEMORY_LIMIT, DataStore
from fupan.data.validation import DataValidationError, ValidationReport, date_limits, validate_cached
from fupan.presentation import fmt, i18n
from fupan.semantics.catalogue import Catalogue, load_catalogue
from fupan.semantics.engine import Engine
from fupan.semantics.periods import Period, inferred_as_of, parse_period, partial_months
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
    absent_on_page: dict[str, list[str]] = field(default_factory=dict)  # page → absent datasets it missed
    macro_registry: dict[str, Any] = field(default_factory=dict)
    outputs: Any = None  # the MacroOutputs cache (outputs.py), set when the macros are registered
    _ids: dict[str, int] = field(default_factory=dict)
    _ids_page: str | None = None
    _orders_span: tuple[dt.date | None, dt.date | None] | None = None  # first and last day of the orders

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

    def month_label(self, month: int, period: Period, locale: str) -> str:
        """A month's short name on a chart (1月, Jan), with the days it holds when the period or
        the data cover only some of them (12月（1–9日）)."""
        name = i18n.text("time.months", locale)[month - 1]
        return self.partial_month_text(name, self.partial_days(period, month), locale)

    def partial_days(self, period: Period, month: int) -> tuple[int, int] | None:
        """(first day, last day) of a month of `period` the period or the data cover only in part."""
        if self._orders_span is None:
            self._orders_span = orders_span(self.engine)
        return partial_months(period, self._orders_span[0]).get(month)

    @staticmethod
    def partial_month_text(name: str, days: tuple[int, int] | None, locale: str) -> str:
        return name if days is None else i18n.text("time.partial_month", locale, month=name, first=days[0],
                                                  last=days[1])

    def data_as_of(self) -> dt.date | None:
        """The date the data runs to: `as_of` when set (or inferred), else the orders' last day."""
        return self.config.as_of or orders_span(self.engine)[1]


def orders_span(engine: Engine) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day of the orders (their time column)."""
    first, last = engine.time_span("orders")
    return _as_day(first), _as_day(last)


def _as_day(value: Any) -> dt.date | None:
    if value is None or fmt.is_missing(value):
        return None
    if isinstance(value, str):  # a cached profile holds ISO text
        value = dt.datetime.fromisoformat(value)
    return value.date() if isinstance(value, dt.datetime) else value if isinstance(value, dt.date) else None


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
    if config.as_of is None:  # orders ending before the year does: like-for-like, said so
        last_day = orders_span(engine)[1]
        as_of = inferred_as_of(last_day, config.year)
        if as_of is not None:  # said in the build log and on the about page (reminders.py)
            config = replace(config, as_of=as_of, as_of_inferred=True)
    return Review(config=config, contract=contract, store=store, catalogue=catalogue,
                  engine=engine, validation=report)


def summarize_build(review: Review) -> None:
    """The build log's closing lines: cache use, sections showing a missing-data notice, and
    what to finish before publishing (unfinished commentary, orders ending before year end)."""
    cache = review.engine.cache
    log.info("fupan: %d results fresh from cache, %d computed", cache.fresh, cache.computed)
    if review.outputs is not None:
        log.info("fupan: %d macro outputs fresh from cache, %d rendered",
                 review.outputs.fresh, review.outputs.rendered)
    for section in review.missing_sections:
        log.info("fupan: missing optional data: %s", section)
    from fupan.site.reminders import log_months_without_data, log_partial_year, log_unfinished

    log_unfinished(Path(review.env.conf["docs_dir"]), review.config.locale)
    log_partial_year(review)
    log_months_without_data(review)
