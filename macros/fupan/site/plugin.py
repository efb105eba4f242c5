"""fupan's mkdocs-macros module: registers the writer macros, nothing else.

mkdocs-macros calls `define_env` once per build, before any page renders; building the review
context there checks the settings, the data contract, the catalogue and the data first, and a
problem in any of them stops the build with the full report (and leaves `site/` untouched).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_BUILD: dict[str, Any] = {}  # the current build's review context, for the post-build summary


def define_env(env: Any) -> None:
    """Build the review context and register every writer macro."""
    from mkdocs.exceptions import PluginError

    from fupan.errors import FupanError
    from fupan.site.context import build_review
    from fupan.site.provenance import provenance
    from fupan.site.registry import register_all
    from fupan.site.writer_errors import register_formatters

    project_dir = Path(env.conf["config_file_path"]).parent
    try:
        review = build_review(env.conf.get("extra") or {}, project_dir)
    except FupanError as exc:  # a mistake in the settings, contract, catalogue or data; others are bugs
        raise PluginError(f"fupan: the review cannot be built.\n{exc.text()}") from None
    review.env = env
    _BUILD.clear()  # a build's kept files belong to it (a preview rebuilds, an edition builds, in one process)
    _BUILD["review"] = review
    escape_review_settings(env)
    from fupan.speed import svgrender

    svgrender.start(review.config.cache_dir)  # charts' static SVGs drawn while pages render
    from fupan.site import figures

    figures.start(lambda: (review.page_path, str(getattr(review.page, "url", "") or "")))
    register_formatters()
    writer_errors = (FupanError,)  # any other exception in a macro is a bug: it keeps its traceback
    built_from = provenance(project_dir)  # pins SOURCE_DATE_EPOCH to the commit time when unset
    register_all(env, review, writer_errors, site_key=f"{built_from.commit}|{built_from.build_time}")


def escaped(value: Any) -> Any:
    """A setting as pages may print it: text HTML-escaped (a `Markup` string, which Jinja prints
    as it is and markupsafe never escapes twice), mappings and lists item by item."""
    from markupsafe import escape

    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {key: escaped(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [escaped(item) for item in value]
    return value


def escape_review_settings(env: Any) -> None:
    """Pages print the settings of `extra.review` (`{{ config.extra.review.company }}`, or
    `{{ review.company }}`) into Markdown, which lets HTML through: they are escaped in the
    pages' variables, as every data value is, so a company name with `<script>` shows as text.
    MkDocs' own config keeps the settings as written; macros get them back as plain text
    (writer_errors.guard_macro) and escape them themselves."""
    settings = (env.conf.get("extra") or {}).get("review")
    variables = getattr(env, "variables", None)
    if not isinstance(settings, dict) or variables is None:
        return
    safe = escaped(settings)
    if isinstance(variables.get("extra"), dict):
        variables["extra"] = {**variables["extra"], "review": safe}
    config = variables.get("config")
    if config is not None and config is not env.conf:  # mkdocs-macros' copy: MkDocs' own stays as written
        config["extra"] = {**(config.get("extra") or {}), "review": safe}
    variables["review"] = safe


def on_pre_page_macros(env: Any) -> None:
    """Before each page: undefined names fail with the page, line and a suggestion; the pages'
    compiled code and search entries are kept between builds (warmstart.py)."""
    from fupan.site.writer_errors import FupanUndefined, set_page

    review = _BUILD.get("review")
    if "pages" not in _BUILD and review is not None:  # the Jinja environment exists by now
        from fupan.site.editions import current
        from fupan.speed.warmstart import cache_compiled_pages, memoize_search_entries

        # each edition keeps its own: these files keep only what the last build used
        _BUILD["pages"] = cache_compiled_pages(env.env, review.config.cache_dir, current())
        _BUILD["search"] = memoize_search_entries(review.config.cache_dir, current())
    env.env.undefined = FupanUndefined
    set_page(env.page, list(env.variables) + list(env.macros))


def on_post_page_macros(env: Any) -> None:
    """After a page's macros: keep the HTML placeholders only where Markdown would not touch
    the HTML (macros/slots.py)."""
    from fupan.site.absent import settle
    from fupan.site.report_macros import missing_notice
    from fupan.speed.slots import SLOTS

    review = _BUILD.get("review")
    if review is not None:
        settled = settle(env.markdown, lambda datasets: missing_notice(review, datasets, review.locale()))
        env.markdown = settled.markdown
        review.absent_on_page[review.page_path] = settled.absent
    env.markdown = SLOTS.settle(env.markdown)


def on_post_build(env: Any) -> None:
    """Keep the pages' compiled code and search entries for the next build; stop the chart
    worker; write the figures file and the tables' CSV files into the site; log how many
    results came from the cache and which sections lacked optional data."""
    for kept in (_BUILD.get("pages"), _BUILD.get("search")):
        if kept is not None:
            kept.save()
    from fupan.speed import svgrender

    if svgrender.RENDERER is not None:  # every page is written: its charts were put in
        svgrender.RENDERER.close()
    from fupan.site import figures

    figures.write(Path(env.conf["site_dir"]))  # figures.json and the tables' CSV files
    figures.stop()
    review = _BUILD.get("review")
    if review is not None:
        from fupan.site.context import summarize_build

        summarize_build(review)
