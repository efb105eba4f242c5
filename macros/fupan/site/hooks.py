"""MkDocs hooks: ship the chart runtime and theme with the site (no CDN, works offline).

Vega, Vega-Lite and vega-embed come from the pinned vl-convert-python package (its
`javascript_bundle()`), wrapped in a function scope so its helper names stay out of the page's
globals; only `vegaEmbed` is usable on `window` (the bundle sets `window.vega` and
`window.vegaLite` to null, so the page script goes through vega-embed alone). Producing the
bundle is slow, so it is kept in the user cache (kind `vega`) by vl-convert's version.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

from fupan.site import editions, slides
from fupan.speed.cache import SEAL_VERSION, CacheRoot, cache_key, keep, read_sealed, user_cache_dir

__all__ = ["on_build_error", "on_config", "on_env", "on_files", "on_nav", "on_page_content", "on_page_markdown",
           "on_post_build", "on_post_page"]

ASSETS = Path(__file__).parents[1] / "assets"
THEME = Path(__file__).with_name("theme")  # template overrides: only templates, no static files
STATIC = {"assets/fupan-charts.js": "fupan-charts.js", "assets/fupan-tables.js": "fupan-tables.js",
          "assets/fupan.css": "fupan.css", "assets/fupan-print.css": "fupan-print.css",
          "assets/fupan-slides.css": "fupan-slides.css", "assets/fupan-slides.js": "fupan-slides.js"}


def vega_bundle(user_root: Path) -> str:
    """The chart runtime's bundle, kept in `<user_root>/vega/`: it depends only on vl-convert's
    version, so one copy serves every project."""
    import vl_convert

    version = getattr(vl_convert, "__version__", "unknown")
    path = CacheRoot(user_root, user=True).dir("vega") / f"{cache_key(version, SEAL_VERSION)[:16]}.js"
    kept = read_sealed(path)  # checked: a half-written bundle would draw no live chart
    if kept is not None:
        return kept.decode("utf-8")
    text = "/* Vega, Vega-Lite, vega-embed via vl-convert-python " + version + " */\n"
    text += "(function () {\n" + vl_convert.javascript_bundle() + "\n})();\n"
    keep(path, text)
    return text


def theme_script() -> str:
    """Both theme variants and the zh-CN number/time locales, for the page script."""
    import vl_convert

    from fupan.presentation.theme import theme_config

    payload = {
        "themes": {s: theme_config(s)["config"] for s in ("light", "dark")},
        "locales": {
            "zh-CN": {"time": vl_convert.get_time_format_locale("zh-CN"),
                      "number": vl_convert.get_format_locale("zh-CN")},
        },
    }
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    return f"window.FUPAN = {body};\n"


def on_config(config: Any) -> Any:
    """Chinese word segmentation kept between builds of this project (warmstart.py); fupan's
    theme templates (the 404 page) before Material's, after the project's own custom_dir."""
    from fupan.speed.warmstart import memoize_jieba

    project = config.get("config_file_path") or ""  # the project's mkdocs.yml
    memoize_jieba(user_cache_dir(), str(Path(project).resolve()) if project else "", editions.current())
    theme = config["theme"]
    if str(THEME) not in theme.dirs:
        theme.dirs.insert(1 if theme.custom_dir else 0, str(THEME))
    extra = config["extra"]
    if not editions.current() and extra.get("alternate") is None:  # the language switch (editions.py)
        switch = editions.alternate({"extra": extra}, current_code="", own_code=editions.own_code(extra))
        if switch:
            extra["alternate"] = switch
    return config


@event_priority(-100)  # after every plugin's: the editions build once this build is complete
def on_post_build(config: Any) -> None:
    """Keep the Chinese word segmentation of this build for the next one (warmstart.py); write
    the slide deck; then build the review's other editions (editions.py)."""
    jieba = sys.modules.get("jieba")
    save = getattr(getattr(jieba, "cut", None), "save", None)
    if save is not None:
        save()
    slides.write_deck(config)
    editions.build_editions(config)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """An edition's page without a translation says so (editions.py)."""
    return editions.mark_untranslated(markdown, page, config)


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """Put the macros' HTML back in place of the placeholders that went through Markdown."""
    slots = sys.modules.get("fupan.speed.slots")  # absent when the macros plugin is not used
    if slots is None:
        return html
    return slots.SLOTS.fill(html, getattr(page, "present_anchor_ids", None))


def on_post_page(output: str, page: Any, config: Any) -> str:
    """Put the SVGs of the page's charts in (drawn meanwhile by svgrender.py's worker)."""
    renderer = getattr(sys.modules.get("fupan.speed.svgrender"), "RENDERER", None)
    output = output if renderer is None else renderer.resolve(output)
    return slides.keep_page(output, page)  # the slide deck is cut from the pages as written


def on_build_error(error: Exception) -> None:
    """A failed build stops the chart worker too (its SVGs are not needed any more)."""
    renderer = getattr(sys.modules.get("fupan.speed.svgrender"), "RENDERER", None)
    if renderer is not None:
        renderer.close()


_NAV: dict[str, Any] = {}


def on_nav(nav: Any, config: Any, files: Files) -> Any:
    _NAV["nav"] = nav  # chapters without their data leave it once every page is read (on_env)
    return nav


def on_env(env: Any, config: Any, files: Files) -> Any:
    """Every page's Markdown is read by now: chapters without their data leave the navigation."""
    from fupan.speed.warmstart import cache_compiled_templates

    plugin = sys.modules.get("fupan.site.plugin")  # absent when the macros plugin is not used
    if plugin is not None:
        from fupan.site.chapters import settle_chapters

        settle_chapters(_NAV.pop("nav", None), plugin._BUILD.get("review"))

    env.globals["fupan_text"] = _theme_text(config)
    return cache_compiled_templates(env, user_cache_dir())


def _theme_text(config: Any) -> dict[str, str]:
    """The locale files' strings the theme templates show (the 404 page), in the review's language."""
    from fupan.presentation import fmt, i18n

    locale = fmt.normalize_locale(((config.get("extra") or {}).get("review") or {}).get("locale"))
    return {"not_found.title": i18n.text("not_found.title", locale),
            "not_found.text": i18n.text("not_found.text", locale),
            "not_found.home": i18n.text("not_found.home", locale)}


def on_files(files: Files, config: Any) -> Files:
    files = editions.select_files(files, config)
    files.append(File.generated(config, "assets/vendor/vega-bundle.js",
                                content=vega_bundle(user_cache_dir())))
    files.append(File.generated(config, "assets/fupan-theme.js", content=theme_script()))
    for target, name in STATIC.items():
        files.append(File.generated(config, target, abs_src_path=str(ASSETS / name)))
    return files
