"""The metric catalogue (`macros/metrics.yml`): models and metrics declared as data.

Loading validates everything before any page renders — unknown datasets, models, columns and
metrics, duplicate ids, cycles between derived metrics, bad kinds — and reports every problem at
once with its line in the YAML file.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fupan.data.contract import Contract, UnknownName, misspelt_dataset, split_hint, unknown_name_message
from fupan.errors import FileProblems, Issue, Location

CATALOGUE_PATH = Path(__file__).with_name("metrics.yml")
KINDS = ("aggregate", "per_entity", "ratio", "derived")
AGGS = {"sum": "SUM({})", "count": "COUNT({})", "count_distinct": "COUNT(DISTINCT {})",
        "avg": "AVG({})", "min": "MIN({})", "max": "MAX({})"}
UNITS = ("currency", "amount", "count", "percent", "ratio", "duration", "days", "decimal")
TIME_DIMENSIONS = ("month", "quarter", "date", "year")
PLACEHOLDERS = ("start", "end", "end_excl", "year", "days")
METRIC_KEYS = {"label", "description", "unit", "kind", "model", "agg", "expr", "filter", "entity",
               "inner", "outer", "numerator", "denominator", "formula", "broadcast", "additive", "better",
               "history", "change", "unit_text"}
MODEL_KEYS = {"description", "datasets", "select", "from", "where", "joins", "time", "dimensions", "people",
              "data_dimensions",
              "rolls_up_to"}
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# `dataset alias` after FROM, JOIN or at the start of a model's `from` (a join type such as
# "LEFT JOIN" is skipped, not taken for a table, so the table after it is found).
_TABLE_ALIAS = re.compile(r"(?:\bFROM|\bJOIN|^)\s*(?:(?:LEFT|RIGHT|FULL|INNER|OUTER|CROSS)\s+)*"
                          r"(?:JOIN\s+)?([A-Za-z_]\w*)\s+([A-Za-z_]\w*)", re.IGNORECASE)
_SQL_KEYWORDS = {"JOIN", "LEFT", "RIGHT", "FULL", "INNER", "OUTER", "CROSS", "ON", "USING", "WHERE",
                 "GROUP", "ORDER", "SELECT", "AS"}


class CatalogueError(FileProblems):
    """Every problem found in the catalogue, each with its location."""

    subject = "the metric catalogue"

    def __init__(self, path: Path, problems: list[str]):
        super().__init__(path, problems, _catalogue_issue)


_PROBLEM_AT = re.compile(r"line (\d+): (?:(model|metric) '([^']*)'(?=[: ]))?:? ?(.*)", re.DOTALL)


def _catalogue_issue(file: str, problem: str) -> Issue:
    """A problem ("line 15: metric 'x': unknown column …") located at its line and entry."""
    match = _PROBLEM_AT.fullmatch(problem)
    if match is None:
        message, hint = split_hint(problem)
        return Issue(message, Location(file), hint)
    line, kind, name, message = match.groups()
    message, hint = split_hint(message)
    key = f"{kind}s.{name}" if kind else None
    return Issue(message, Location(file, line=int(line), key=key), hint)


# libyaml's parser when PyYAML has it: much faster on the catalogue, which every build parses,
# with the same marks for line numbers.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):
    """SafeLoader that records each mapping key's line and refuses duplicate keys."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False):
    mapping: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            loader.duplicates.append(
                f"line {key_node.start_mark.line + 1}: duplicate id {key!r} "
                f"(first defined on line {lines[key]})"
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
        lines[key] = key_node.start_mark.line + 1
    loader.key_lines[id(mapping)] = lines
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True)
class Join:
    dataset: str
    sql: str
    select: tuple[str, ...]


@dataclass(frozen=True)
class RollUp:
    """A model's rows each belong to the row of `model` with the same `key` (order lines to
    their order); see rollup.py for what the engine does with it."""

    model: str
    key: str


@dataclass(frozen=True)
class Model:
    name: str
    description: str
    datasets: tuple[str, ...]
    select: tuple[str, ...]
    source: str
    where: str | None
    joins: tuple[Join, ...]
    time: str | None
    dimensions: dict[str, str]
    line: int
    people: str | None = None  # SQL counting the people in a group (privacy: small groups merge)
    rolls_up_to: RollUp | None = None

    def sql_texts(self) -> list[str]:
        """Every piece of SQL that makes the model's rows."""
        texts = [*self.select, self.source, self.where or ""]
        for join in self.joins:
            texts.extend([join.sql, *join.select])
        return texts

    def aliases(self) -> dict[str, str]:
        """Table aliases of its `from` and joins, to the dataset each names (`l` → order_lines)."""
        aliases: dict[str, str] = {}
        for text in [self.source] + [j.sql for j in self.joins]:
            for ds, alias in _TABLE_ALIAS.findall(text):
                if ds.upper() not in _SQL_KEYWORDS and alias.upper() not in _SQL_KEYWORDS:
                    aliases[alias] = ds
        return aliases

    def columns(self, available: set[str] | None = None) -> list[str]:
        """Names the model offers (its select aliases, plus those of joins that are available)."""
        items = list(self.select)
        for join in self.joins:
            if available is None or join.dataset in available:
                items.extend(join.select)
        return [alias_of(item) for item in items]

    def dimension_names(self, available: set[str] | None = None) -> list[str]:
        cols = set(self.columns(available))
        names = [d for d, expr in self.dimensions.items() if referenced_names(expr) <= cols]
        if self.time:
            names.extend(TIME_DIMENSIONS)
        return names


@dataclass(frozen=True)
class Metric:
    id: str
    label_zh: str
    label_en: str
    description_zh: str
    description_en: str
    unit: str
    kind: str
    line: int
    model: str | None = None
    agg: str | None = None
    expr: str | None = None
    filter: str | None = None
    entity: str | None = None
    inner: str | None = None
    outer: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    formula: str | None = None
    broadcast: tuple[str, ...] = ()
    additive: bool = False
    better: str = "higher"  # or "lower" (complaint rate, refund rate, costs): target attainment inverts
    history: bool = False  # needs data before the period (new vs returning): no comparison at data start
    change: str = "auto"  # "difference" for scores (CSAT, NPS, ROI): compare by subtraction, not %
    unit_text_zh: str = ""  # the word after a number whose kind carries none (28.4 小时, 3.9 年)
    unit_text_en: str = ""

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_zh

    def description(self, locale: str) -> str:
        return self.description_en if locale == "en" else self.description_zh

    def unit_text(self, locale: str) -> str:
        return self.unit_text_en if locale == "en" else self.unit_text_zh

    @property
    def is_rate(self) -> bool:
        """Rates change in percentage points; everything else in per cent."""
        return self.unit == "percent"

    @property
    def is_difference(self) -> bool:
        """Whether changes are differences (rates in pp, scores in points) rather than %."""
        return self.is_rate or self.change == "difference"

    @property
    def change_kind(self) -> str:
        """The fmt kind a change of this metric is shown with."""
        if self.is_rate:
            return "pp_change"
        if self.change == "difference":
            return "ratio_change" if self.unit == "ratio" else "decimal_change"
        return "pct_change"

    @property
    def dependencies(self) -> tuple[str, ...]:
        if self.kind == "ratio":
            return (str(self.numerator), str(self.denominator))
        if self.kind == "derived":
            return tuple(formula_metric_names(str(self.formula)))
        return ()


@dataclass
class Catalogue:
    path: Path
    models: dict[str, Model]
    metrics: dict[str, Metric]
    text: str = field(repr=False, default="")
    dimension_labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (zh, en)
    # the data files the review can read: id -> (zh name, en name, usual file name)
    dataset_labels: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    # Dimensions that describe people (`describes: people`): only their small groups merge.
    people_dimensions: frozenset[str] = frozenset()
    # Values the catalogue's own SQL writes (非会员, 推荐者 …): id -> {value -> English label}
    dimension_values: dict[str, dict[str, str]] = field(default_factory=dict)
    # Datasets with a row in every month a shop trades (`every_month: true`): a month without one
    # is missing data, not a zero.
    every_month: frozenset[str] = frozenset()

    def dimension_label(self, dimension: str, locale: str) -> str:
        """What a dimension is called on the site (the catalogue's `dimensions:` section)."""
        zh, en = self.dimension_labels.get(dimension, (dimension, dimension))
        return en if locale == "en" else zh

    def dimension_value_label(self, dimension: str, value: str, locale: str) -> str:
        """A value of a dimension as the site shows it: a value the catalogue's SQL writes in
        Chinese has its English label under the dimension's `values:`; data values stay as they are."""
        if locale != "en":
            return value
        return self.dimension_values.get(dimension, {}).get(value, value)

    def dataset_label(self, dataset: str, locale: str) -> str:
        """What a reader is told a data file holds, when the project does not declare it."""
        zh, en, _ = self.dataset_labels.get(dataset, (dataset, dataset, ""))
        return en if locale == "en" else zh

    def dataset_file(self, dataset: str) -> str:
        """The file a dataset usually comes in (data/<file>), for one the project does not declare."""
        return self.dataset_labels.get(dataset, ("", "", f"{dataset}.csv"))[2]

    def metric(self, metric_id: str) -> Metric:
        try:
            return self.metrics[metric_id]
        except KeyError:
            raise UnknownName(unknown_name_message("metric", metric_id, self.metrics)) from None

    def base_metrics(self, metric_id: str) -> list[Metric]:
        """The aggregate metrics a metric is computed from (itself when it is one)."""
        metric = self.metric(metric_id)
        if metric.kind in ("aggregate", "per_entity"):
            return [metric]
        out: list[Metric] = []
        for dep in metric.dependencies:
            for base in self.base_metrics(dep):
                if base not in out:
                    out.append(base)
        return out

    def datasets_of(self, metric_id: str) -> list[str]:
        names: list[str] = []
        for base in self.base_metrics(metric_id):
            model = self.models[str(base.model)]
            names.extend(d for d in model.datasets if d not in names)
            names.extend(j.dataset for j in model.joins if j.dataset not in names)
        return names

    def dimensions_of(self, metric_id: str, available: set[str] | None = None) -> list[str]:
        """Dimensions every base metric supports (broadcast components excepted)."""
        metric = self.metric(metric_id)
        if metric.kind in ("aggregate", "per_entity"):
            return self.models[str(metric.model)].dimension_names(available)
        sets = [
            set(self.dimensions_of(dep, available))
            for dep in metric.dependencies
            if dep not in metric.broadcast
        ]
        common = set.intersection(*sets) if sets else set()
        order = {name: i for i, name in enumerate(self._all_dimension_names())}
        return sorted(common, key=lambda d: order.get(d, 999))

    def _all_dimension_names(self) -> list[str]:
        names: list[str] = []
        for model in self.models.values():
            names.extend(d for d in model.dimensions if d not in names)
        return names + list(TIME_DIMENSIONS)


def alias_of(select_item: str) -> str:
    """The name a SELECT item is known by (its AS alias, else its column)."""
    match = re.search(r"\bAS\s+([A-Za-z_][A-Za-z0-9_]*)\s*$", select_item, flags=re.IGNORECASE)
    if match:
        return match[1]
    return select_item.split(".")[-1].strip()


SQL_WORDS = {
    "and", "or", "not", "is", "null", "in", "case", "when", "then", "else", "end", "as", "distinct",
    "true", "false", "like", "between", "date", "day", "inner_value", "count", "sum", "avg", "min",
    "max", "coalesce", "date_diff", "date_trunc", "cast", "double", "bigint", "varchar", "nullif",
}


@functools.cache  # a build asks about the same few expressions thousands of times
def referenced_names(sql: str) -> frozenset[str]:
    """Identifiers an expression refers to (strings, placeholders and SQL words removed)."""
    text = re.sub(r"'[^']*'", "", sql)
    text = re.sub(r"\{[a-z_]+\}", "", text)
    return frozenset(w for w in IDENT.findall(text) if w.lower() not in SQL_WORDS)


def formula_metric_names(formula: str) -> list[str]:
    text = re.sub(r"\{[a-z_]+\}", "", formula)
    names: list[str] = []
    for word in IDENT.findall(text):
        if word not in names:
            names.append(word)
    return names


def _text(value: Any, locale: str, default: str) -> str:
    if isinstance(value, dict):
        return str(value.get(locale) or value.get("zh") or default)
    return str(value) if value is not None else default


def load_catalogue(contract: Contract, path: Path = CATALOGUE_PATH) -> Catalogue:
    """Parse and validate the catalogue against the data contract."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    loader = _LineLoader(text)
    loader.duplicates = []
    loader.key_lines = {}
    try:
        raw = loader.get_single_data() or {}
    except yaml.YAMLError as exc:
        raise CatalogueError(path, [f"not valid YAML: {exc}"]) from None
    finally:
        loader.dispose()
    problems: list[str] = list(loader.duplicates)
    raw_models = raw.get("models") or {}
    raw_metrics = raw.get("metrics") or {}
    model_lines = loader.key_lines.get(id(raw_models), {})
    metric_lines = loader.key_lines.get(id(raw_metrics), {})

    models: dict[str, Model] = {}
    data_labels: dict[str, tuple[str, str]] = {}
    for name, spec in raw_models.items():
        line = model_lines.get(name, 0)
        where = f"line {line}: model {name!r}"
        spec = spec or {}
        for key in sorted(set(spec) - MODEL_KEYS):
            problems.append(f"{where}: {unknown_name_message('model setting', key, MODEL_KEYS)}")
        # A dataset the contract does not declare is optional data this shop does not have: the
        # models over it are unavailable (their sections show a notice). Only a name very close to
        # a declared one is taken for a misspelling.
        datasets = tuple(spec.get("datasets") or ())
        for ds in datasets:
            if _misspelt(ds, contract):
                problems.append(f"{where}: {unknown_name_message('dataset', ds, contract.datasets)}")
        joins = tuple(
            Join(dataset=j["dataset"], sql=j["sql"], select=tuple(j.get("select") or ()))
            for j in spec.get("joins") or ()
        )
        for join in joins:
            if _misspelt(join.dataset, contract):
                problems.append(
                    f"{where}: join {unknown_name_message('dataset', join.dataset, contract.datasets)}"
                )
        select, dimensions = _with_data_dimensions(spec, contract, data_labels)
        model = Model(
            name=name,
            description=str(spec.get("description", "")),
            datasets=datasets,
            select=select,
            source=str(spec.get("from", "")),
            where=spec.get("where"),
            joins=joins,
            time=spec.get("time"),
            dimensions=dimensions,
            line=line,
            people=spec.get("people"),
            rolls_up_to=_roll_up(spec.get("rolls_up_to"), where, problems),
        )
        problems.extend(_check_model_columns(model, contract, where))
        columns = set(model.columns())
        if model.time and model.time not in columns:
            problems.append(f"{where}: time column {model.time!r} is not among its columns")
        for dim, expr in model.dimensions.items():
            for ref in sorted(referenced_names(str(expr)) - columns):
                problems.append(
                    f"{where}: dimension {dim!r} uses {unknown_name_message('column', ref, columns)}"
                )
        models[name] = model

    problems.extend(_check_roll_ups(models))

    metrics: dict[str, Metric] = {}
    for metric_id, spec in raw_metrics.items():
        line = metric_lines.get(metric_id, 0)
        where = f"line {line}: metric {metric_id!r}"
        spec = spec or {}
        for key in sorted(set(spec) - METRIC_KEYS):
            problems.append(f"{where}: {unknown_name_message('metric setting', key, METRIC_KEYS)}")
        kind = spec.get("kind", "aggregate")
        unit = spec.get("unit", "decimal")
        if kind not in KINDS:
            problems.append(f"{where}: {unknown_name_message('kind', kind, KINDS)}")
        if unit not in UNITS:
            problems.append(f"{where}: {unknown_name_message('unit', unit, UNITS)}")
        if kind in ("aggregate", "per_entity"):
            model_name = spec.get("model")
            if model_name not in models:
                problems.append(f"{where}: {unknown_name_message('model', model_name, models)}")
            else:
                columns = set(models[model_name].columns())
                exprs = [spec.get("expr"), spec.get("filter"), spec.get("entity"), spec.get("inner")]
                for expr in exprs:
                    for ref in sorted(referenced_names(str(expr or "")) - columns):
                        problems.append(
                            f"{where}: {unknown_name_message('column', ref, columns)}"
                        )
            if kind == "aggregate" and spec.get("agg") not in AGGS:
                problems.append(f"{where}: {unknown_name_message('agg', spec.get('agg'), AGGS)}")
            if kind == "aggregate" and not spec.get("expr"):
                problems.append(f"{where}: an aggregate needs `expr`")
            if kind == "per_entity" and not all(spec.get(k) for k in ("entity", "inner", "outer")):
                problems.append(f"{where}: a per_entity metric needs `entity`, `inner` and `outer`")
        if spec.get("change", "auto") not in ("auto", "difference"):
            problems.append(f"{where}: `change` must be auto or difference")
        if spec.get("better", "higher") not in ("higher", "lower"):
            problems.append(f"{where}: `better` must be higher or lower")
        if kind == "ratio" and not (spec.get("numerator") and spec.get("denominator")):
            problems.append(f"{where}: a ratio needs `numerator` and `denominator`")
        if kind == "derived" and not spec.get("formula"):
            problems.append(f"{where}: a derived metric needs `formula`")
        label = spec.get("label") or {}
        description = spec.get("description") or {}
        metrics[metric_id] = Metric(
            id=metric_id,
            label_zh=_text(label, "zh", metric_id),
            label_en=_text(label, "en", metric_id),
            description_zh=_text(description, "zh", ""),
            description_en=_text(description, "en", ""),
            unit=unit,
            kind=kind,
            line=line,
            model=spec.get("model"),
            agg=spec.get("agg"),
            expr=spec.get("expr"),
            filter=spec.get("filter"),
            entity=spec.get("entity"),
            inner=spec.get("inner"),
            outer=spec.get("outer"),
            numerator=spec.get("numerator"),
            denominator=spec.get("denominator"),
            formula=spec.get("formula"),
            broadcast=tuple(spec.get("broadcast") or ()),
            additive=bool(spec.get("additive", False)),
            better=str(spec.get("better", "higher")),
            history=bool(spec.get("history", False)),
            change=str(spec.get("change", "auto")),
            unit_text_zh=_text(spec.get("unit_text"), "zh", ""),
            unit_text_en=_text(spec.get("unit_text"), "en", ""),
        )

    # References between metrics, then cycles.
    for metric in metrics.values():
        for dep in metric.dependencies:
            if dep not in metrics:
                problems.append(
                    f"line {metric.line}: metric {metric.id!r} refers to "
                    f"{unknown_name_message('metric', dep, metrics)}"
                )
    problems.extend(_find_cycles(metrics))
    labels = _dimension_labels(raw.get("dimensions"), loader.key_lines, models, problems, data_labels)
    dataset_labels = {}
    every_month = set()
    for name, spec in (raw.get("datasets") or {}).items():
        if not isinstance(spec, dict) or not {"zh", "en", "file"} <= set(spec):
            problems.append(f"datasets.{name}: expected {{zh: …, en: …, file: …}}")
            continue
        dataset_labels[str(name)] = (str(spec["zh"]), str(spec["en"]), str(spec["file"]))
        if spec.get("every_month", False) not in (True, False):
            problems.append(f"datasets.{name}.every_month: expected true or false, got {spec['every_month']!r}")
        elif spec.get("every_month"):
            every_month.add(str(name))
    people = _people_dimensions(raw.get("dimensions"), loader.key_lines, problems)
    values = _dimension_values(raw.get("dimensions"), problems)
    if problems:
        raise CatalogueError(path, problems)
    return Catalogue(path=path, models=models, metrics=metrics, text=text, dimension_labels=labels,
                     dataset_labels=dataset_labels, people_dimensions=people, dimension_values=values,
                     every_month=frozenset(every_month))


def _with_data_dimensions(spec: dict[str, Any], contract: Contract,
                          labels: dict[str, tuple[str, str]]) -> tuple[tuple[str, ...], dict[str, str]]:
    """A model's select and dimensions, plus the review dimensions the shop's exports declare
    (a region, a store, a ship mode …) at the levels the model's `data_dimensions` names, each
    read through the table alias given for its level ({order: o, line: l}). Their labels are
    the declaration's (collected into `labels`); a name the catalogue already has stays its own."""
    select = tuple(spec.get("select") or ())
    dimensions = dict(spec.get("dimensions") or {})
    levels = spec.get("data_dimensions") or {}
    for export in contract.exports.values():
        for column in export.dimensions.values():
            alias = levels.get(column.level)
            if alias is None or column.name in dimensions:
                continue
            select += (f"{alias}.{column.name} AS {column.name}",)
            dimensions[column.name] = column.name
            labels[column.name] = column.dimension
    return select, dimensions


def _dimension_labels(spec: Any, key_lines: dict[int, dict[Any, int]], models: dict[str, Model],
                      problems: list[str], data_labels: dict[str, tuple[str, str]] | None = None,
                      ) -> dict[str, tuple[str, str]]:
    """Every dimension a model offers, and every time grain, has one label per locale (the
    catalogue's, or the exports' declaration's for the dimensions from the data)."""
    if not isinstance(spec, dict):
        problems.append("the catalogue needs a `dimensions:` section: each dimension id with {zh: …, en: …}")
        return {}
    labels: dict[str, tuple[str, str]] = {}
    for name, label in spec.items():
        line = key_lines.get(id(spec), {}).get(name)
        where = f"line {line}: " if line else ""
        if not isinstance(label, dict) or not label.get("zh") or not label.get("en"):
            problems.append(f"{where}dimension {name!r} needs a label in both locales: {{zh: …, en: …}}")
            continue
        labels[str(name)] = (str(label["zh"]), str(label["en"]))
    for name, label in (data_labels or {}).items():
        labels.setdefault(name, label)
    offered = [*TIME_DIMENSIONS]
    for model in models.values():
        offered.extend(model.dimensions)
    for name in dict.fromkeys(offered):
        if name not in labels:
            problems.append(f"dimension {name!r} has no label: add `{name}: {{zh: …, en: …}}` under `dimensions:`")
    return labels


DIMENSION_KEYS = {"zh", "en", "describes", "values"}


def _dimension_values(spec: Any, problems: list[str]) -> dict[str, dict[str, str]]:
    """`values: {非会员: Non-members, …}` of each dimension: the English label of a value the
    catalogue's own SQL writes (a data value is the shop's and shows as it is)."""
    found: dict[str, dict[str, str]] = {}
    for name, entry in (spec.items() if isinstance(spec, dict) else ()):
        given = entry.get("values") if isinstance(entry, dict) else None
        if given is None:
            continue
        if not isinstance(given, dict) or not all(isinstance(v, str | int | float) for v in given.values()):
            problems.append(f"dimension {name!r}: write `values:` as a mapping from each value the SQL writes "
                            "to its English label, e.g. {非会员: Non-members}")
            continue
        found[str(name)] = {str(k): str(v) for k, v in given.items()}
    return found
DESCRIBES = ("people",)


def _people_dimensions(spec: Any, key_lines: dict[int, dict[Any, int]], problems: list[str]) -> frozenset[str]:
    """The dimensions declared `describes: people` (gender, city, member level, a team's
    function …): a breakdown by one of them merges groups of fewer than min_group_size people.
    Products, categories, channels and the like describe no one and are never merged."""
    if not isinstance(spec, dict):
        return frozenset()
    people = set()
    for name, entry in spec.items():
        if not isinstance(entry, dict):
            continue
        line = key_lines.get(id(spec), {}).get(name)
        where = f"line {line}: " if line else ""
        unknown = sorted(set(map(str, entry)) - DIMENSION_KEYS)
        if unknown:
            problems.append(f"{where}dimension {name!r}: unknown key(s) {', '.join(unknown)}; "
                            f"valid: {', '.join(sorted(DIMENSION_KEYS))}")
        describes = entry.get("describes")
        if describes is None:
            continue
        if describes not in DESCRIBES:
            problems.append(f"{where}dimension {name!r}: describes: {describes!r} is not known; "
                            f"write `describes: people` for a dimension that describes people, or leave it out")
            continue
        people.add(str(name))
    return frozenset(people)


def _misspelt(dataset: str, contract: Contract) -> bool:
    return misspelt_dataset(dataset, contract.datasets)


def _check_model_columns(model: Model, contract: Contract, where: str) -> list[str]:
    """Each `alias.column` in a model's SQL must exist in the dataset bound to that alias."""
    problems: list[str] = []
    aliases = model.aliases()
    for text in model.sql_texts():
        for alias, column in re.findall(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)", re.sub(r"'[^']*'", "", text)):
            ds = aliases.get(alias)
            if ds is None or ds not in contract.datasets:
                continue
            if column not in contract.datasets[ds].columns:
                problems.append(
                    f"{where}: {alias}.{column}: "
                    f"{unknown_name_message('column of ' + ds, column, contract.datasets[ds].columns)}"
                )
    return problems


def _roll_up(spec: Any, where: str, problems: list[str]) -> RollUp | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or set(spec) != {"model", "key"}:
        problems.append(f"{where}: `rolls_up_to` needs exactly `model` and `key`, "
                        "e.g. {model: paid_orders, key: order_id}")
        return None
    return RollUp(model=str(spec["model"]), key=str(spec["key"]))


def _check_roll_ups(models: dict[str, Model]) -> list[str]:
    """The model rolled up to exists and both models offer the key. Their rows must not depend
    on the period: the engine checks the keys agree once, over all rows."""
    problems: list[str] = []
    for model in models.values():
        if model.rolls_up_to is None:
            continue
        where = f"line {model.line}: model {model.name!r}: rolls_up_to"
        target = models.get(model.rolls_up_to.model)
        if target is None or target is model:
            others = [name for name in models if name != model.name]
            problems.append(f"{where}: {unknown_name_message('model', model.rolls_up_to.model, others)}")
            continue
        key = model.rolls_up_to.key
        for one in (model, target):
            if key not in one.columns():
                problems.append(f"{where}: key {unknown_name_message('column of ' + one.name, key, one.columns())}")
            if any("{" in text for text in one.sql_texts()):
                problems.append(f"{where}: model {one.name!r} uses a period placeholder in its rows; "
                                "a roll-up needs rows that are the same for every period")
    return problems


def _find_cycles(metrics: dict[str, Metric]) -> list[str]:
    problems: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done
    reported: set[frozenset[str]] = set()

    def visit(metric_id: str, trail: list[str]) -> None:
        if state.get(metric_id) == 2 or metric_id not in metrics:
            return
        if state.get(metric_id) == 1:
            cycle = trail[trail.index(metric_id):] + [metric_id]
            key = frozenset(cycle)
            if key not in reported:
                reported.add(key)
                problems.append(
                    f"line {metrics[metric_id].line}: metric {metric_id!r} depends on itself: "
                    + " → ".join(cycle)
                )
            return
        state[metric_id] = 1
        for dep in metrics[metric_id].dependencies:
            visit(dep, trail + [metric_id])
        state[metric_id] = 2

    for metric_id in metrics:
        visit(metric_id, [])
    return problems
