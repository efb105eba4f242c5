"""Macros for the site's own pages: about this report, data sources and quality, and the
writers' macro reference (generated from the macros' docstrings, examples rendered live)."""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
from html import escape
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from fupan.data.backends import is_uri
from fupan.presentation import fmt, i18n
from fupan.presentation.export_rules import rule_rows
from fupan.site.context import Review
from fupan.site.provenance import last_change, provenance
from fupan.site.registry import macro

_BLANK_LINES = re.compile(r"\n[ \t]*\n")  # an example's own blank lines: HTML ignores them


def published_path(path: str, project_dir: Path, data_dir: Path) -> str:
    """A data file's path (or glob, or a list of them joined by ", " as an export's) as the
    published site shows it: nothing of the build machine, whose folders and user name mean
    nothing to a reader and are not theirs to know.

    Relative to the project folder when the file is inside it (data/orders.parquet), else to
    the data folder, else the file name alone; a cluster URI keeps its scheme, host and path
    but not its user, query or fragment; a file: URI is a path on this machine."""
    if ", " in path:
        return ", ".join(published_path(part, project_dir, data_dir) for part in path.split(", "))
    if is_uri(path) and not path.startswith("file:"):
        parts = urlsplit(path)
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    if path.startswith("file:"):
        path = urlsplit(path).path
    data_dir = Path(data_dir).resolve()
    full = Path(os.path.normpath(data_dir / path))  # an absolute path stays as it is
    for base in (Path(project_dir).resolve(), data_dir):
        if full.is_relative_to(base):
            return full.relative_to(base).as_posix()
    return full.name


def _published(review: Review, path: str) -> str:
    return published_path(path, review.config.project_dir, review.contract.data_dir)


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
    as_of = review.data_as_of()
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


@macro(kind="site", missing_notice=False, kept=False)
def reminders(review: Review, locale: str | None = None) -> str:
    """What to finish before publishing: commentary boxes still marked as samples (the locale's
    sample marker in their title) or not yet written, each with its page and line, orders that end
    before the review year does, and months of the review period without data. Read from the
    pages at every build (never a kept output: it follows edits).

    Example: {{ reminders() }}
    """
    from fupan.site.reminders import find_unfinished, months_without_data, orders_end

    loc = review.locale(locale)
    found = find_unfinished(Path(review.env.conf["docs_dir"]), loc)
    directory_urls = review.env.conf.get("use_directory_urls", True)

    def listed(boxes: tuple) -> str:
        items = []
        for box in boxes:
            url = re.sub(r"\.en\.md$", ".md", box.page)  # an English page has its Chinese one's URL
            url = re.sub(r"(^|/)index\.md$", r"\1", url)
            url = re.sub(r"\.md$", "/" if directory_urls else ".html", url)
            page = f'<a href="{escape(review.link(url))}">{escape(box.page)}</a>'
            items.append("<li>" + i18n.text("reminders.where", loc, page=page, line=box.line,
                                            title=escape(box.title)) + "</li>")
        return f"<ul>{''.join(items)}</ul>"

    def box(css: str, title: str, body: str) -> str:
        return f'<div class="admonition {css}"><p class="admonition-title">{escape(title)}</p>{body}</div>'

    parts = []
    if found.samples:
        marker = escape(i18n.text("reminders.sample_marker", loc))
        parts.append(box("warning", i18n.text("reminders.samples", loc, n=len(found.samples)),
                         f"<p>{i18n.text('reminders.samples_lead', loc, marker=marker)}</p>" + listed(found.samples)))
    if found.unwritten:
        marker = escape(i18n.text("reminders.unwritten_marker", loc))
        parts.append(box("info", i18n.text("reminders.unwritten", loc, n=len(found.unwritten)),
                         f"<p>{i18n.text('reminders.unwritten_lead', loc, marker=marker)}</p>"
                         + listed(found.unwritten)))
    last = orders_end(review)
    if last is not None:
        config = review.config
        text = i18n.text("reminders.partial_as_of" if config.as_of is not None else "reminders.partial_no_as_of",
                         loc, last=fmt.format_value(last, "date", loc), year=config.year,
                         compare_year=config.compare_year)
        parts.append(box("warning", i18n.text("reminders.partial", loc), f"<p>{escape(text)}</p>"))
    gaps = months_without_data(review)
    if gaps:
        sep = i18n.text("list.separator", loc)
        items = "".join("<li>" + escape(i18n.text(
            "reminders.no_data_item", loc, dataset=review.catalogue.dataset_label(name, loc),
            file=_published(review, review.contract.datasets[name].path),
            months=sep.join(fmt.format_value(m, "month", loc) for m in months))) + "</li>" for name, months in gaps)
        parts.append(box("warning", i18n.text("reminders.no_data", loc),
                         f"<p>{escape(i18n.text('reminders.no_data_lead', loc))}</p><ul>{items}</ul>"))
    if not parts:
        parts.append(box("success", i18n.text("reminders.none_title", loc), f"<p>{escape(i18n.text('reminders.none', loc))}</p>"))
    return "\n".join(parts)


@macro(kind="site", missing_notice=False)
def data_sources(review: Review, locale: str | None = None) -> str:
    """Every dataset of the data contract: description, source system, file, rows, date
    range, last change (from the data) and completeness of required fields.

    Example: {{ data_sources() }}
    """
    loc = review.locale(locale)
    none = i18n.text("about.none", loc)
    rows = []
    profiles = review.engine.profiles()
    # One unit for the column of row counts (never 20.0万 next to 3,974).
    unit = fmt.column_unit([p["rows"] for p in profiles if p["present"]], "count", loc)
    for profile in profiles:
        ds = review.contract.datasets[profile["dataset"]]
        name = escape(review.catalogue.dataset_label(ds.name, loc))  # a reader's word, not the contract's id
        if not profile["present"]:
            rows.append([name, escape(ds.description(loc)), escape(ds.source_in(loc)),
                         f"<code>{escape(_published(review, ds.path))}</code>", i18n.text("sources.absent", loc),
                         none, none, none])
            continue
        date_range = none
        # No rows, or no dates: the result cache gives a missing date back as the text "NaT".
        if profile["rows"] and not fmt.is_missing(profile["min_date"]) and str(profile["min_date"]) != "NaT":
            date_range = (f"{fmt.format_value(profile['min_date'], 'date', loc)} – "
                          f"{fmt.format_value(profile['max_date'], 'date', loc)}")
        rows.append([
            name, escape(ds.description(loc)), escape(ds.source_in(loc)),
            f"<code>{escape(_published(review, ds.path))}</code>",
            fmt.format_value(profile["rows"], "count", loc, unit=unit), date_range,
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
    # A check the derivation makes true (a derived dataset's key) is listed on its own row, saying so.
    grouped: dict[tuple[str, str, bool], list[int]] = {}
    for check in review.validation.checks:
        grouped.setdefault((check.dataset, check.rule, check.by_construction), []).append(check.failures)
    rows = []
    for (dataset, rule, by_construction), failures in grouped.items():
        problems = sum(failures)
        result = (i18n.text("checks.by_construction", loc) if by_construction
                  else i18n.text("checks.ok" if problems == 0 else "checks.fail", loc))
        rows.append([escape(dataset), fmt.format_value(len(failures), "count", loc), escape(rule),
                     fmt.format_value(problems, "count", loc), escape(result)])
    # A warning names its file as the build log does; the site names it as the data sources do.
    warnings = [dataclasses.replace(w, file=_published(review, w.file))
                if Path(w.file).is_absolute() or w.file.startswith("file:") else w
                for w in review.validation.warnings]
    notes = ("".join(f"<li>{escape(w.text())}</li>" for w in warnings)
             or f"<li>{escape(i18n.text('checks.no_warnings', loc))}</li>")
    # Marked, and said once under the table: a sentence in the result cell would widen the table.
    guaranteed = (f"<p><small>{escape(i18n.text('checks.by_construction_note', loc))}</small></p>"
                  if any(by_construction for _, _, by_construction in grouped) else "")
    return (_table(i18n.text("checks.head", loc), rows, "fupan-checks") + guaranteed
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
