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
    "editions",  # other languages of the review, checked by site/editions.py
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


def _whole_number(review: dict[str, Any], key: str, default: int, problems: list[str], *,
                  minimum: int, example: str) -> int:
    """A setting that must be a whole number ≥ `minimum` (YAML gives int; "2024" as text is
    accepted, 去年 or 2024.5 are problems)."""
    value = review.get(key, default)
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        number = None
    else:
        try:
            number = int(str(value).strip()) if isinstance(value, str) else int(value)
        except (TypeError, ValueError):
            number = None
    if number is None or number < minimum:
        problems.append(f"extra.review.{key}: {value!r} is not a whole number (≥ {minimum}); write it as "
                        f"e.g. `{key}: {example}`")
        return default
    return number


def _text_setting(review: dict[str, Any], key: str, default: str | None, problems: list[str]) -> str | None:
    """A setting written as text (a number is taken as its text); a list or mapping is a problem."""
    value = review.get(key, default)
    if value is None:
        return default
    if isinstance(value, dict | list):
        problems.append(f"extra.review.{key}: write a single text value, not a {type(value).__name__}")
        return default
    return str(value)


def review_config(extra: dict[str, Any] | None, project_dir: Path) -> ReviewConfig:
    """Build the typed settings from mkdocs.yml's `extra` mapping; raise ConfigError listing
    every mistake (unknown keys, values of the wrong type)."""
    from fupan.presentation.fmt import normalize_locale

    review_value = (extra or {}).get("review")
    if review_value is not None and not isinstance(review_value, dict):
        raise ConfigError("extra.review: write the review's settings as a mapping (company: …, year: 2025)")
    review = dict(review_value or {})
    problems = [
        f"extra.review: {unknown_name_message('setting', key, REVIEW_KEYS)}"
        for key in sorted(set(review) - REVIEW_KEYS)
    ]
    year = _whole_number(review, "year", 0, problems, minimum=2000, example="2025")
    if year < 2000 and not any(p.startswith("extra.review.year:") for p in problems):
        problems.append("extra.review.year: set the review year, e.g. `year: 2025`")
    compare_year = _whole_number(review, "compare_year", year - 1, problems, minimum=1900,
                                 example=str(year - 1 if year >= 2000 else 2024))
    colors = str(review.get("colors", "red-up"))
    if colors not in ("red-up", "green-up"):
        problems.append("extra.review.colors: use `red-up` (mainland convention) or `green-up`")
    engine = _engine_config(review.get("engine"), problems)
    company = _text_setting(review, "company", "", problems) or ""
    currency = _text_setting(review, "currency", "CNY", problems) or "CNY"
    pp_label = _text_setting(review, "pp_label", None, problems)
    data_dir = _text_setting(review, "data_dir", "data", problems) or "data"
    cache_dir = _text_setting(review, "cache_dir", ".cache/fupan", problems) or ".cache/fupan"
    min_group_size = _whole_number(review, "min_group_size", 5, problems, minimum=1, example="5")
    max_chart_rows = _whole_number(review, "max_chart_rows", 2000, problems, minimum=1, example="2000")
    locale = "zh-CN"
    try:
        locale = normalize_locale(review.get("locale", "zh-CN"))
    except FupanError as exc:
        problems.append(f"extra.review.locale: {exc}")
    as_of = None
    try:
        as_of = _as_date(review.get("as_of"), "extra.review.as_of")
    except ConfigError as exc:
        problems.extend(exc.problems)
    from fupan.site.editions import declared

    try:
        declared(extra)
    except ConfigError as exc:
        problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    project_dir = Path(project_dir)
    return ReviewConfig(
        project_dir=project_dir,
        company=company,
        year=year,
        compare_year=compare_year,
        currency=currency,
        locale=locale,
        as_of=as_of,
        data_dir=(project_dir / data_dir).resolve(),
        cache_dir=(project_dir / cache_dir).resolve(),
        colors=colors,
        pp_label=pp_label,
        min_group_size=min_group_size,
        max_chart_rows=max_chart_rows,
        engine=engine,
        show_empty_chapters=bool(review.get("show_empty_chapters", False)),
    )


def yaml_mark(exc: BaseException) -> tuple[int | None, int | None, str]:
    """Where a YAML error is (line and column as an editor counts them, from 1) and what it is,
    without PyYAML's '<unicode string>' lines."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    text = str(problem)
    if context and context_mark is not None and context_mark is not mark:
        text += f" ({context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
    if mark is None:
        return None, None, text
    return mark.line + 1, mark.column + 1, text


YAML_HINT = ("check the indentation (spaces, not tabs) and the brackets and quotes around that place; "
             "text with a colon followed by a space or starting with [ { * & ! | > ' \" % @ needs quotes")


def load_mkdocs_config(config_file: str, **overrides: Any) -> Any:
    """MkDocs' config of the review, its mistakes as a ConfigError: a YAML error with its line
    and column, a missing file or a setting MkDocs rejects (instead of MkDocs' traceback)."""
    import yaml
    from mkdocs.config import load_config
    from mkdocs.exceptions import ConfigurationError

    shown = CONFIG_FILE if Path(config_file).name == CONFIG_FILE else config_file
    path = Path(config_file)
    if not path.is_file():
        raise ConfigError(f"{shown} not found (looked for {path.resolve()})",
                          hint="run fupan in the review's folder, or name its config with -f")
    try:
        return load_config(config_file=config_file, **overrides)
    except ConfigurationError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, yaml.YAMLError):  # MkDocs re-raises PyYAML's error: it knows where
            line, column, problem = yaml_mark(cause)
            raise MkDocsYamlError(shown, line, column, problem) from None
        message = " ".join(str(exc).split())
        raise ConfigError(message, hint="see the settings of mkdocs.yml in MkDocs' documentation"
                          ) from None


class MkDocsYamlError(ConfigError):
    """mkdocs.yml is not valid YAML: where (line, column) and what."""

    def __init__(self, shown: str, line: int | None, column: int | None, problem: str):
        self.file, self.line, self.column = shown, line, column
        FupanError.__init__(self, f"not valid YAML: {problem}",
                            location=Location(shown, line=line, column=None if column is None else str(column)),
                            hint=YAML_HINT)
        self.problems = [self.message]
        self.issues = [Issue(self.message, self.location, self.hint)]

    def text(self) -> str:
        return render(self.message, self.location, self.hint)
