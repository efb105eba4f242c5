"""The guide pages on importing platform exports: each page's body is rendered from its preset
file (`fupan/intake/presets/<name>.yml`), so the steps, headers and status words are written once."""

from __future__ import annotations

from html import escape
from typing import Any

import yaml

from fupan.intake.presets import Preset, declaration, headers_of, load_preset
from fupan.presentation import i18n
from fupan.presentation.export_rules import column_label
from fupan.site.context import Review
from fupan.site.registry import macro

_STATUS_KINDS = ("paid", "refunded", "cancelled", "unpaid")


def _status_meaning(kind: str, loc: str) -> str:
    return {"paid": i18n.text("export_guide.paid", loc), "refunded": i18n.text("export_guide.refunded", loc),
            "cancelled": i18n.text("export_guide.cancelled", loc),
            "unpaid": i18n.text("export_guide.unpaid", loc)}[kind]


def _shape(shape: str, loc: str) -> str:
    return {"lines": i18n.text("export_guide.shape_lines", loc),
            "first_line": i18n.text("export_guide.shape_first_line", loc),
            "orders": i18n.text("export_guide.shape_orders", loc)}[shape]


def _code(text: Any) -> str:
    return f"<code>{escape(str(text))}</code>"


def _label(title: str) -> str:
    return f"<p><strong>{escape(title)}</strong></p>"


def _column_rows(preset: Preset, loc: str) -> list[list[str]]:
    sep = i18n.text("list.separator", loc)
    rows = []
    for name, spec in preset.export["columns"].items():
        dimension = spec.get("dimension")
        # A declared dimension brings its own label ({zh: …, en: …}); the locale is zh-CN or en.
        meaning = dimension[loc[:2]] if dimension else column_label(name, loc)
        if "value" in spec:
            source = i18n.text("export_guide.constant", loc, value=spec["value"])
        else:
            source = " / ".join(_code(h) for h in headers_of(spec))
            if spec.get("format"):
                source += "<br>" + escape(i18n.text("export_guide.formats", loc, formats=sep.join(spec["format"])))
        rows.append([escape(str(meaning)), _code(name), source])
    if preset.platform:
        rows.append([escape(column_label("platform", loc)), _code("platform"),
                     escape(i18n.text("export_guide.constant", loc, value=preset.platform))])
    for name, formula in (preset.export.get("rules", {}).get("compute") or {}).items():
        meaning = column_label(name, loc)
        rows.append([escape(str(meaning)), _code(name),
                     escape(i18n.text("export_guide.computed", loc, formula=formula))])
    return rows


def _matcher(entry: dict[str, Any], preset: Preset, loc: str) -> str:
    spec = preset.export["columns"].get(entry["column"], {})
    column = (headers_of(spec) or [entry["column"]])[0]
    value = next((entry[k] for k in ("below", "above", "starts_with", "values") if k in entry), None)
    if isinstance(value, list):
        value = i18n.text("list.separator", loc).join(map(str, value))
    if "below" in entry:
        return i18n.text("export_guide.below", loc, column=column, value=value)
    if "above" in entry:
        return i18n.text("export_guide.above", loc, column=column, value=value)
    if "starts_with" in entry:
        return i18n.text("export_guide.starts_with", loc, column=column, value=value)
    if "values" in entry:
        return i18n.text("export_guide.values", loc, column=column, value=value)
    return i18n.text("export_guide.empty", loc, column=column)


def _rules(preset: Preset, loc: str) -> str:
    rules = preset.export.get("rules") or {}
    parts = []
    status = rules.get("status")
    if status:
        spec = preset.export["columns"].get(status["column"], {})
        header = (headers_of(spec) or [status["column"]])[0]
        words = i18n.text("list.separator", loc)
        items = "".join(
            "<li>" + i18n.text("format.described", loc, caption=words.join(_code(w) for w in status[kind]),
                               items=escape(_status_meaning(kind, loc))) + "</li>"
            for kind in _STATUS_KINDS if status.get(kind))
        parts.append(f"<p>{escape(i18n.text('export_guide.status', loc, header=header))}</p><ul>{items}</ul>")
    else:
        parts.append(f"<p>{escape(i18n.text('export_guide.no_status', loc))}</p>")
    sep = i18n.text("list.semicolon", loc)
    if rules.get("returns"):
        described = sep.join(_matcher(e, preset, loc) for e in rules["returns"])
        parts.append(f"<p>{escape(i18n.text('export_guide.returns', loc, rules=described))}</p>")
    if rules.get("exclude"):
        described = sep.join(_matcher(e, preset, loc) for e in rules["exclude"])
        parts.append(f"<p>{escape(i18n.text('export_guide.exclude', loc, rules=described))}</p>")
    return "".join(parts)


@macro
def export_guide(review: Review, preset: str, locale: str | None = None) -> str:
    """How to bring one platform's export into the review, from its preset file: the export
    steps in the seller backend, where the file goes, the `datasets.yml` lines, the headers it
    reads and the status words and rules. `preset`: a preset name such as `jd` or `shopify`.

    Example: {{ export_guide("jd") }}
    """
    loc = review.locale(locale)
    p = load_preset(preset)
    steps = "".join(f"<li>{escape(step)}</li>" for step in p.guide(loc))
    shape = _shape(p.export["shape"], loc)
    if p.lines_preset:
        shape += " " + i18n.text("export_guide.lines", loc, title=load_preset(p.lines_preset).title(loc))
    encoding = (i18n.text("export_guide.encoding", loc, encoding=p.export["encoding"]) if p.export.get("encoding")
                else i18n.text("export_guide.encoding_detected", loc))
    snippet = yaml.safe_dump({"exports": declaration(p)}, allow_unicode=True, sort_keys=False).rstrip()
    head = i18n.text("export_guide.head", loc)
    header_row = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in _column_rows(p, loc))
    return "".join([
        '<div class="fupan-export-guide">',
        _label(i18n.text("export_guide.how", loc)), f"<ol>{steps}</ol>",
        _label(i18n.text("export_guide.where", loc)),
        f"<p>{escape(i18n.text('export_guide.where_text', loc, files=p.files))}</p>",
        _label(i18n.text("export_guide.declare", loc)),
        f"<p>{escape(i18n.text('export_guide.declare_text', loc))}</p>",
        # Newlines as character references: the output stays one line of HTML, which Markdown
        # passes through unchanged whether or not it is set aside (slots.py).
        f"<pre><code>{escape(snippet).replace(chr(10), '&#10;')}</code></pre>",
        _label(i18n.text("export_guide.shape", loc)), f"<p>{escape(shape)} {escape(encoding)}</p>",
        _label(i18n.text("export_guide.columns", loc)),
        f'<div class="md-typeset__table fupan-export-columns"><table><thead><tr>{header_row}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>",
        _label(i18n.text("export_guide.rules", loc)), _rules(p, loc),
        "</div>",
    ])
