"""Editions: one build gives the review in its own language and in each language of
`extra.review.editions`, each in a folder of the site named by its language (`site/en/`).

The writers keep one source: a page's translation is the same path with the edition's suffix
(`chapters/02-overall.en.md` beside `chapters/02-overall.md`), as mkdocs-static-i18n's suffix
layout, which writers may know. An edition is a second MkDocs build of the same project, run
when the first has finished (`build_editions`, from the hooks' last `on_post_build`), with:
- the edition's locale in `extra.review` (every macro formats, labels and words by it) and the
  theme's language (search, Material's own words, `<html lang>`);
- each page taken from its translation, at the original page's address, so links and the
  navigation name the same files in every edition (`select_files`);
- a page without a translation shown as written, under a notice that says it is not
  translated (`mark_untranslated`), and named in the log: never silently in the other language;
- the navigation's titles from the edition's `nav` mapping (a page without one takes the title
  of its translation's first heading); `site_name`, `site_description`, `company` from the edition.
The language switch (Material's `extra.alternate`) links each page to itself in the other
editions (theme/partials/alternate.html).

Being a build of its own, an edition shares the data, the query results and the SVG cache with
the first build, and fails a strict build the same way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fupan.errors import FupanError

log = logging.getLogger("fupan")  # outside MkDocs' logger: an untranslated page must not fail a strict build

EDITION_KEYS = {"site_name", "site_description", "company", "nav"}
TRANSLATION_CODES = ("zh", "en")  # the languages fupan's locale files speak
# The edition being built and the project's own `extra` (empty: the review's own language)
_ACTIVE: list[tuple[str, dict[str, Any]]] = []
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]")
_MACRO = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|`[^`]*`", re.S)


@dataclass(frozen=True)
class Edition:
    """One more language of the review: `code` names its folder and its pages' suffix."""

    code: str
    locale: str
    site_name: str | None = None
    site_description: str | None = None
    company: str | None = None
    nav: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def suffix(self) -> str:
        return f".{self.code}.md"


def declared(extra: dict[str, Any] | None) -> list[Edition]:
    """The editions of `extra.review.editions` (a mapping language → its settings), checked;
    a ConfigError lists every mistake."""
    from fupan.config import ConfigError
    from fupan.data.contract import unknown_name_message
    from fupan.presentation.fmt import normalize_locale

    review = (extra or {}).get("review") or {}
    given = review.get("editions") if isinstance(review, dict) else None
    if not given:
        return []
    if not isinstance(given, dict):
        raise ConfigError("extra.review.editions: write a mapping of languages, e.g. `editions: {en: {site_name: …}}`")
    problems: list[str] = []
    own = _locale_or_none(review.get("locale", "zh-CN"))
    editions = []
    for code, settings in given.items():
        where = f"extra.review.editions.{code}"
        settings = settings or {}
        locale = _locale_or_none(code)
        if locale is None:
            try:
                normalize_locale(str(code))
            except (FupanError, ValueError) as exc:
                problems.append(f"{where}: {exc}")
            continue
        if locale == own:
            problems.append(f"{where}: the review is already written in {locale} (extra.review.locale); "
                            "name another language")
            continue
        if not isinstance(settings, dict):
            problems.append(f"{where}: write the edition's settings as a mapping (site_name: …, nav: …)")
            continue
        problems.extend(f"{where}: {unknown_name_message('setting', key, EDITION_KEYS)}"
                        for key in sorted(set(settings) - EDITION_KEYS))
        nav = settings.get("nav") or {}
        if not isinstance(nav, dict):
            problems.append(f"{where}.nav: write a mapping from each title of `nav` to its translation")
            nav = {}
        text = {key: None if settings.get(key) is None else str(settings[key])
                for key in ("site_name", "site_description", "company")}
        editions.append(Edition(str(code), locale, nav={str(k): str(v) for k, v in nav.items()}, **text))
    if problems:
        raise ConfigError(problems)
    return editions


def _locale_or_none(value: Any) -> str | None:
    from fupan.presentation.fmt import normalize_locale

    try:
        return normalize_locale(str(value))
    except (FupanError, ValueError):
        return None


def current() -> str:
    """The code of the edition being built, '' for the review's own language."""
    return _ACTIVE[-1][0] if _ACTIVE else ""


@contextmanager
def building(code: str, project_extra: dict[str, Any]) -> Iterator[None]:
    _ACTIVE.append((code, project_extra))
    try:
        yield
    finally:
        _ACTIVE.pop()


def edition_extra(extra: dict[str, Any], code: str) -> dict[str, Any]:
    """`extra` as the edition `code` reads it (its locale and company); '' is the review's own.
    A code that is not declared is a ConfigError naming the declared ones."""
    if not code:
        return extra
    from fupan.config import ConfigError
    from fupan.data.contract import unknown_name_message

    edition = next((e for e in declared(extra) if e.code == code), None)
    if edition is None:
        raise ConfigError(f"extra.review.editions: {unknown_name_message('edition', code, [e.code for e in declared(extra)])}",
                          hint="declare the edition under extra.review.editions, or leave out --edition")
    review = {k: v for k, v in (extra.get("review") or {}).items() if k != "editions"}
    review["locale"] = edition.locale
    if edition.company:
        review["company"] = edition.company
    return {**extra, "review": review}


def _active_edition(config: Any) -> Edition | None:
    code = current()
    if not code:
        return None
    return next((e for e in declared(_own_extra(config)) if e.code == code), None)


def _own_extra(config: Any) -> dict[str, Any]:
    """The project's `extra` as written (an edition's config carries its edition's settings)."""
    return _ACTIVE[-1][1] if _ACTIVE else (config.get("extra") or {})


# -- files -------------------------------------------------------------------------------------

def select_files(files: Any, config: Any) -> Any:
    """The pages of the edition being built: the review's own language leaves the translations
    out; an edition puts each translation at its original's address."""
    editions = declared(_own_extra(config))
    edition = _active_edition(config)
    # A translation is never a page of its own, also of a language no edition declares (a
    # project that drops its English edition keeps its .en.md files out of the Chinese site).
    suffixes = tuple(f".{code}.md" for code in TRANSLATION_CODES) + tuple(e.suffix for e in editions)
    translations = {f.src_uri: f for f in files if f.src_uri.endswith(suffixes)}
    for translation in translations.values():
        files.remove(translation)
    if edition is None:
        return files
    from mkdocs.structure.files import File

    UNTRANSLATED.clear()  # this build's, also after an edition's build that failed
    TRANSLATED_FROM.clear()
    for original in [f for f in files if f.is_documentation_page()]:
        translated = translations.get(original.src_uri[: -len(".md")] + edition.suffix)
        if translated is None:
            UNTRANSLATED[original.src_uri] = original.src_uri[: -len(".md")] + edition.suffix
            continue
        files.remove(original)
        replacement = File.generated(config, original.src_uri, abs_src_path=translated.abs_src_path,
                                     inclusion=original.inclusion)
        files.append(replacement)
        TRANSLATED_FROM[original.src_uri] = translated.src_uri
    if UNTRANSLATED:
        log.warning("fupan: %d page(s) have no %s translation: the %s edition shows them as written, marked as "
                    "not translated; write these files to translate them:\n%s", len(UNTRANSLATED), edition.code,
                    edition.code, "\n".join(f"  docs/{wanted}" for _, wanted in sorted(UNTRANSLATED.items())))
    return files


UNTRANSLATED: dict[str, str] = {}  # page → the translation it lacks, in the edition being built
TRANSLATED_FROM: dict[str, str] = {}  # page → the translation file shown at its address


def source_uri(file: Any) -> str:
    """The file a writer edits for a page (its translation in an edition), under docs/."""
    src_uri = getattr(file, "src_uri", None) or "?"
    return TRANSLATED_FROM.get(src_uri, src_uri) if current() else src_uri


def mark_untranslated(markdown: str, page: Any, config: Any) -> str:
    """A page without a translation gets a notice under its title that says so; a translation
    that still holds text in the review's own language is named in the log, line by line."""
    edition = _active_edition(config)
    if edition is None:
        return markdown
    src_uri = getattr(page.file, "src_uri", "")
    if src_uri in UNTRANSLATED:
        from fupan.presentation import i18n

        notice = ('!!! warning "' + i18n.text("edition.untranslated_title", edition.locale) + '"\n    '
                  + i18n.text("edition.untranslated", edition.locale) + "\n")
        lines = markdown.split("\n")
        at = next((i + 1 for i, line in enumerate(lines) if line.startswith("# ")), 0)
        return "\n".join([*lines[:at], "", notice, *lines[at:]])
    if src_uri in TRANSLATED_FROM:
        _log_leftovers(Path(page.file.abs_src_path), TRANSLATED_FROM[src_uri], config)
    return markdown


def _log_leftovers(path: Path, shown_as: str, config: Any) -> None:
    company = str(((_own_extra(config).get("review") or {}).get("company")) or "")
    text = path.read_text(encoding="utf-8-sig")
    for number, line in enumerate(text.splitlines(), start=1):
        prose = _MACRO.sub("", line)
        if company:
            prose = prose.replace(company, "")
        if _CJK.search(prose):
            log.warning("fupan: docs/%s, line %d: text not translated: %s", shown_as, number, line.strip()[:80])


# -- the edition's build -----------------------------------------------------------------------

def build_editions(config: Any) -> None:
    """After the review's own build: build each edition into its folder of the site."""
    if current():
        return
    editions = declared(config.get("extra") or {})
    if not editions:
        return
    from mkdocs.commands.build import build

    for edition in editions:
        log.info("fupan: building the %s edition into %s/", edition.code, edition.code)
        edition_config = load_edition_config(config, edition)
        with building(edition.code, config.get("extra") or {}):
            build(edition_config, dirty=False)


def load_edition_config(config: Any, edition: Edition) -> Any:
    """The project's mkdocs.yml as the edition builds it (see the module's docstring)."""
    from mkdocs.utils import yaml_load

    from fupan.config import load_mkdocs_config
    from fupan.presentation import i18n

    config_file = config["config_file_path"]
    with open(config_file, "rb") as stream:
        raw = yaml_load(stream) or {}
    extra = edition_extra(dict(raw.get("extra") or {}), edition.code)
    review = extra["review"]
    theme = dict(raw.get("theme") or {"name": "material"}) if isinstance(raw.get("theme"), dict) else {
        "name": raw.get("theme") or "mkdocs"}
    theme["language"] = i18n.text("edition.theme_language", edition.locale)
    theme["palette"] = _palette(theme.get("palette"), edition.locale)
    own_code = _code(str(review_locale(raw)))
    extra["alternate"] = alternate(raw, current_code=edition.code, own_code=own_code)
    site_url = str(config.get("site_url") or "")
    overrides: dict[str, Any] = {
        "site_dir": str(Path(config["site_dir"]) / edition.code),
        "site_url": (site_url.rstrip("/") + "/" + edition.code + "/") if site_url else None,
        "site_name": edition.site_name or i18n.text("edition.site_name", edition.locale,
                                                    company=review.get("company", ""), year=review.get("year", "")),
        "theme": theme,
        "extra": extra,
        "strict": config.get("strict", False),
    }
    if edition.site_description or raw.get("site_description"):
        overrides["site_description"] = edition.site_description or ""
    if raw.get("nav"):
        overrides["nav"] = translate_nav(raw["nav"], edition)
    return load_mkdocs_config(config_file, **overrides)


def review_locale(raw: dict[str, Any]) -> str:
    return str(((raw.get("extra") or {}).get("review") or {}).get("locale") or "zh-CN")


def own_code(extra: dict[str, Any]) -> str:
    """The code of the review's own language (zh for zh-CN)."""
    return _code(review_locale({"extra": extra}))


def _code(locale: str) -> str:
    return locale.split("-")[0].lower()


def alternate(raw: dict[str, Any], *, current_code: str, own_code: str) -> list[dict[str, str]] | None:
    """Material's language switch for a page of the `current_code` edition: each language's
    address relative to this edition's root (the partial adds the page's own address)."""
    from fupan.presentation import i18n

    if (raw.get("extra") or {}).get("alternate"):
        return raw["extra"]["alternate"]
    editions = declared(raw.get("extra") or {})
    if not editions:
        return None
    own_locale = review_locale(raw)
    up = "../" if current_code else ""
    entries = [{"name": i18n.text("edition.language_name", own_locale), "link": up, "lang": own_code,
                "fupan_root": up}]
    for edition in editions:
        root = "" if edition.code == current_code else up + edition.code + "/"
        entries.append({"name": i18n.text("edition.language_name", edition.locale), "link": root,
                        "lang": edition.code, "fupan_root": root})
    return entries


def _palette(palette: Any, locale: str) -> Any:
    """The light/dark toggles named in the edition's language."""
    from fupan.presentation import i18n

    if not isinstance(palette, list):
        return palette
    named = []
    for entry in palette:
        entry = dict(entry)
        if isinstance(entry.get("toggle"), dict):
            name = (i18n.text("edition.to_light", locale) if entry.get("scheme") == "slate"
                    else i18n.text("edition.to_dark", locale))
            entry["toggle"] = {**entry["toggle"], "name": name}
        named.append(entry)
    return named


def translate_nav(items: Any, edition: Edition) -> Any:
    """`nav` with the edition's titles: a title in the edition's `nav` mapping is replaced; a page
    without one takes its translation's title; a section without one keeps its title (logged)."""
    if isinstance(items, list):
        return [translate_nav(item, edition) for item in items]
    if isinstance(items, dict):
        translated = {}
        for title, target in items.items():
            new = edition.nav.get(str(title))
            if new is None and isinstance(target, str):
                return translate_nav(target, edition)  # the page's own title
            if new is None:
                log.warning("fupan: the navigation's section %r has no %s title: add it under "
                            "extra.review.editions.%s.nav", title, edition.code, edition.code)
                new = str(title)
            translated[new] = translate_nav(target, edition)
        return translated
    return items
