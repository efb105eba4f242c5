"""The report's settings: the `extra.review` block of mkdocs.yml, checked and typed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fupan.data.contract import split_hint, unknown_name_message
from fupan.errors import FupanError, Issue, Location, render

REVIEW_KEYS = {
    "company", "year", "compare_year", "currency", "locale", "as_of", "data_dir", "cache_dir",
    "colors", "pp_label", "min_group_size", "max_chart_rows", "engine", "show_empty_chapters",
}
ENGINE_KEYS = {"name", "master", "tables", "conf"}
ENGINES = ("duckdb", "spark")
SPARK_MASTERS = ("local", "spark://", "sc://", "yarn", "k8s://")
CONFIG_FILE = "mkdocs.yml"
ENGINE_HINT = ("use `engine: duckdb` (the default) or a mapping such as "
               '`engine: {name: spark, master: "local[*]", tables: {orders: sales.orders}}`')


class ConfigError(FupanError, ValueError):
    """A mistake in `extra.review` of mkdocs.yml: one or several problems, each '<key>: …'."""

    def __init__(self, problems: str | list[str], *, key: str | None = None, hint: str | None = None):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        issues = [_config_issue(p, key) for p in self.problems]
        super().__init__("; ".join(self.problems), location=issues[0].location,
                         hint=hint or issues[0].hint)
        self.issues = issues

    def text(self) -> str:
        # The message already names each key; only the file is added.
        return render(self.message, Location(CONFIG_FILE), self.hint)


def _config_issue(problem: str, key: str | None) -> Issue:
    """'extra.review.colors: use …' located at its key of mkdocs.yml."""
    found, sep, message = problem.partition(": ")
    if sep and found.startswith("extra.review") and " " not in found:
        key = found
    else:
        message = problem
    message, hint = split_hint(message)
    return Issue(message, Location(CONFIG_FILE, key=key), hint)


@dataclass(frozen=True)
class EngineConfig:
    """Where the SQL runs: `duckdb` in this process, or `spark` (local mode, a cluster or Spark
    Connect). `tables` maps datasets to tables of the Spark catalog (instead of the contract's
    files); `conf` holds extra Spark settings."""

    name: str = "duckdb"
    master: str = "local[*]"
    tables: dict[str, str] = field(default_factory=dict, hash=False)
    conf: dict[str, str] = field(default_factory=dict, hash=False)


def _engine_config(value: Any, problems: list[str]) -> EngineConfig:
    if value in (None, "", "duckdb"):
        return EngineConfig()
    if value == "spark":
        return EngineConfig("spark")
    if not isinstance(value, dict):
        problems.append(f"extra.review.engine: {value!r} is not an engine; {ENGINE_HINT}")
        return EngineConfig()
    problems.extend(f"extra.review.engine: {unknown_name_message('setting', key, ENGINE_KEYS)}"
                    for key in sorted(set(value) - ENGINE_KEYS))
    name = str(value.get("name", "duckdb"))
    if name not in ENGINES:
        problems.append(f"extra.review.engine.name: {unknown_name_message('engine', name, ENGINES)}")
    master = str(value.get("master") or "local[*]")
    if not master.startswith(SPARK_MASTERS):
        problems.append(f"extra.review.engine.master: {master!r} is not a Spark master; use local[*], "
                        "spark://host:7077 (a cluster), sc://host:15002 (Spark Connect), yarn or k8s://…")
    mappings: dict[str, dict[str, str]] = {}
    for key in ("tables", "conf"):
        given = value.get(key) or {}
        if not isinstance(given, dict):
            problems.append(f"extra.review.engine.{key}: write a mapping (name: value)")
            given = {}
        mappings[key] = {str(k): str(v) for k, v in given.items()}
    if name == "duckdb" and (mappings["tables"] or "master" in value):
        problems.append("extra.review.engine: `master` and `tables` need `name: spark`")
    return EngineConfig(name, master, mappings["tables"], mappings["conf"])


def check_engine_tables(engine: EngineConfig, dataset_names: Any) -> None:
    """Every dataset named under `engine.tables` must be a dataset of the data contract."""
    problems = [f"extra.review.engine.tables: {unknown_name_message('dataset', name, list(dataset_names))}"
                for name in sorted(engine.tables) if name not in dataset_names]
    if problems:
        raise ConfigError(problems)


@dataclass(frozen=True)
class ReviewConfig:
    project_dir: Path
    company: str
    year: int
    compare_year: int
    currency: str
    locale: str
    as_of: dt.date | None
    data_dir: Path
    cache_dir: Path
    colors: str  # "red-up" (mainland convention) or "green-up"
    pp_label: str | None
    min_group_size: int
    max_chart_rows: int
    engine: EngineConfig = field(default_factory=EngineConfig)
    # a chapter none of whose data (front matter `data:`) is present stays in the navigation
    show_empty_chapters: bool = False
    # as_of not set but read from the data: the orders end before the review year does
    as_of_inferred: bool = False

    @property
    def currency_symbol(self) -> str:
        # An ISO code stays a code: fmt.currency_symbol gives each page's locale its symbol.
        return self.currency

    @property
    def contract_path(self) -> Path:
        return self.data_dir / "datasets.yml"


def _as_date(value: Any, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a date; write it as YYYY-MM-DD") from None


def review_config(extra: dict[str, Any] | None, project_dir: Path) -> ReviewConfig:
    """Build the typed settings from mkdocs.yml's `extra` mapping; raise ConfigError on mistakes."""
    review = dict((extra or {}).get("review") or {})
    problems = [
        f"extra.review: {unknown_name_message('setting', key, REVIEW_KEYS)}"
        for key in sorted(set(review) - REVIEW_KEYS)
    ]
    try:
        year = int(review.get("year", 0))
    except (TypeError, ValueError):
        year = 0
    if year < 2000:
        problems.append("extra.review.year: set the review year, e.g. `year: 2025`")
    compare_year = int(review.get("compare_year", year - 1))
    colors = str(review.get("colors", "red-up"))
    if colors not in ("red-up", "green-up"):
        problems.append("extra.review.colors: use `red-up` (mainland convention) or `green-up`")
    engine = _engine_config(review.get("engine"), problems)
    if problems:
        raise ConfigError(problems)
    from fupan.presentation.fmt import normalize_locale

    project_dir = Path(project_dir)
    return ReviewConfig(
        project_dir=project_dir,
        company=str(review.get("company", "")),
        year=year,
        compare_year=compare_year,
        currency=str(review.get("currency", "CNY")),
        locale=normalize_locale(review.get("locale", "zh-CN")),
        as_of=_as_date(review.get("as_of"), "extra.review.as_of"),
        data_dir=(project_dir / str(review.get("data_dir", "data"))).resolve(),
        cache_dir=(project_dir / str(review.get("cache_dir", ".cache/fupan"))).resolve(),
        colors=colors,
        pp_label=review.get("pp_label"),
        min_group_size=int(review.get("min_group_size", 5)),
        max_chart_rows=int(review.get("max_chart_rows", 2000)),
        engine=engine,
        show_empty_chapters=bool(review.get("show_empty_chapters", False)),
    )
