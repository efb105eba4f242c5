"""Macros for the site's own pages: about this report, data sources and quality, and the
writers' macro reference (generated from the macros' docstrings, examples rendered live)."""

from __future__ import annotations

import inspect
import re
from html import escape

from fupan.presentation import fmt, i18n
from fupan.presentation.export_rules import rule_rows
from fupan.site.context import Review
from fupan.site.provenance import last_change, provenance
from fupan.site.registry import macro

_BLANK_LINES = re.compile(r"\n[ \t]*\n")  # an example's own blank lines: HTML ignores them


def _table(head: list[str], rows: list[list[str]], css: str = "") -> str:
    """A plain HTML table (cells already escaped) in Material's table wrapper."""
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    # The class goes on the wrapper: Material styles only class-less tables.
    return (f'<div class="md-typeset__table {css}"><table><thead><tr>{header}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


@macro(kind="site", missing_notice=False)
def about(review: Review, locale: str | None = None) -> str:
    """About this report: review period, data as-of date, data fingerprint, code version
    and build time (reproducible: from SOURCE_DATE_EPOCH or the commit, never the clock).

    Example: {{ about() }}
    """
    loc = review.locale(locale)
    p = review.period()
    prov = provenance(review.config.project_dir)
    as_of = review.config.as_of or next(pr["max_date"] for pr in review.engine.profiles() if pr["dataset"] == "orders")
    none = i18n.text("about.none", loc)
    rows = [
        [i18n.text("about.company", loc), escape(review.config.company or none)],
        [i18n.text("about.period", loc),
         f"{fmt.format_value(p.start, 'date', loc)} – {fmt.format_value(p.end, 'date', loc)}"],
        [i18n.text("about.as_of", loc), fmt.format_value(as_of, "date", loc)],
        [i18n.text("about.fingerprint", loc), f"<code>{review.store.fingerprint()[:12]}</code>"],
        [i18n.text("about.commit", loc), f"<code>{escape(prov.commit)}</code>" if prov.commit else none],
        [i18n.text("about.built", loc),
         escape(prov.build_time.strftime("%Y-%m-%d %H:%M UTC")) if prov.build_time else none],
    ]
    return _table(["", ""], rows, "fupan-about")


@macro(kind="site", missing_notice=False)
def data_sources(review: Review, locale: str | None = None) -> str:
    """Every dataset of the data contract: description, source system, file, rows, date
    range, last change (from the data) and completeness of required fields.

    Example: {{ data_sources() }}
    """
    loc = review.locale(locale)
    none = i18n.text("about.none", loc)
    rows = []
    for profile in review.engine.profiles():
        ds = review.contract.datasets[profile["dataset"]]
        if not profile["present"]:
            rows.append([escape(ds.name), escape(ds.description(loc)), escape(ds.source),
                         f"<code>data/{escape(ds.path)}</code>", i18n.text("sources.absent", loc), none, none, none])
            continue
        date_range = none
        # No rows, or no dates: the result cache gives a missing date back as the text "NaT".
        if profile["rows"] and not fmt.is_missing(profile["min_date"]) and str(profile["min_date"]) != "NaT":
            date_range = (f"{fmt.format_value(profile['min_date'], 'date', loc)} – "
                          f"{fmt.format_value(profile['max_date'], 'date', loc)}")
        rows.append([
            escape(ds.name), escape(ds.description(loc)), escape(ds.source),
            f"<code>data/{escape(ds.path)}</code>",
            fmt.format_value(profile["rows"], "count", loc), date_range,
            fmt.format_value(last_change(review.config.project_dir, profile["files"]), "date", loc),
            fmt.format_value(profile["completeness"], "percent", loc),
        ])
    return _table(i18n.text("sources.head", loc), rows, "fupan-datasets")


@macro(kind="site", missing_notice=False)
def export_rules(review: Review, locale: str | None = None) -> str:
    """How the shop's own exports became the review's orders, lines and products: every rule
    (status words, excluded rows, returns, computed columns, order keys, …) in words, with the
    number of rows it touched. Empty when the data contract declares no exports.

    Example: {{ export_rules() }}
    """
    intake = review.store.intake
    if intake is None or not intake.rules:
        return ""
    loc = review.locale(locale)
    several = len({rule.export for rule in intake.rules}) > 1  # else the export's name says nothing
    rows = []
    for export, sentence, count in rule_rows(intake.rules, loc):
        rows.append([escape(export), escape(sentence), count] if several else [escape(sentence), count])
    head = i18n.text("intake.head" if several else "intake.head_one", loc)
    return (f"<p>{escape(i18n.text('intake.lead', loc))}</p>\n\n"
            + _table(head, rows, "fupan-export-rules"))


@macro(kind="site", missing_notice=False)
def data_checks(review: Review, locale: str | None = None) -> str:
    """The data-quality checks that ran on this build's data, grouped by dataset and rule,
    with their results, followed by any warnings.

    Example: {{ data_checks() }}
    """
    loc = review.locale(locale)
    grouped: dict[tuple[str, str], list[int]] = {}
    for check in review.validation.checks:
        grouped.setdefault((check.dataset, check.rule), []).append(check.failures)
    rows = []
    for (dataset, rule), failures in grouped.items():
        problems = sum(failures)
        rows.append([escape(dataset), fmt.format_value(len(failures), "count", loc), escape(rule),
                     fmt.format_value(problems, "count", loc),
                     i18n.text("checks.ok" if problems == 0 else "checks.fail", loc)])
    warnings = review.validation.warnings
    notes = ("".join(f"<li>{escape(w.text())}</li>" for w in warnings)
             or f"<li>{escape(i18n.text('checks.no_warnings', loc))}</li>")
    return (_table(i18n.text("checks.head", loc), rows, "fupan-checks")
            + f'<div class="admonition info"><p class="admonition-title">{escape(i18n.text("checks.warnings", loc))}'
            f"</p><ul>{notes}</ul></div>")


@macro(kind="site", missing_notice=False)
def macro_reference(review: Review) -> str:
    """The writers' reference of every macro: signature, description and a live example.

    Example: (this page)
    """
    env = review.env
    parts = []
    for name in sorted(review.macro_registry):
        fn = review.macro_registry[name]
        doc = inspect.getdoc(fn) or ""
        signature = str(inspect.signature(fn))
        lines = [line for line in doc.splitlines() if not line.startswith("Example:")]
        example = next((line[len("Example:"):].strip() for line in doc.splitlines()
                        if line.startswith("Example:")), "")
        # `code` in docstrings shows as code (escaped first, so data can't inject HTML).
        body = "<br>".join(re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(line))
                           for line in lines if line.strip())
        rendered = ""
        if example and "{{" in example:
            # Rendered through the same Jinja environment as the pages: a broken example
            # breaks the build.
            rendered = env.env.from_string(example).render(**env.variables)
            rendered = _BLANK_LINES.sub("\n", rendered)
            rendered = f'<div class="fupan-example">{rendered}</div>'
        parts.append(
            f'<h2 id="{escape(name)}">{escape(name)}</h2>'
            f"<p><code>{escape(name + signature)}</code></p><p>{body}</p>"
            + (f"<p><code>{escape(example)}</code></p>{rendered}" if example else "")
        )
    # One run of HTML without blank lines: Markdown passes it through as is, so it is set
    # aside while Markdown runs (slots.py) instead of being parsed (the page is ~800 KB).
    return "\n".join(parts)
