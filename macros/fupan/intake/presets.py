"""Platform presets as data: one YAML file per kind of seller-backend export
(`intake/presets/<name>.yml`), and which preset a file's header row looks like."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fupan.data.contract import UnknownName, unknown_name_message

PRESET_DIR = Path(__file__).with_name("presets")
# looks_like names only presets whose expected headers are mostly present: below this share a
# file is more likely another platform's export that happens to share a few common words.
MIN_SHARE = 0.5


@dataclass(frozen=True)
class Preset:
    """One platform export kind: its titles, the file name it comes as, how to get it out of the
    seller backend, and the export declaration it fills (the raw `export:` mapping)."""

    name: str
    title_zh: str
    title_en: str
    platform: str | None
    files: str
    guide_zh: tuple[str, ...]
    guide_en: tuple[str, ...]
    export: dict[str, Any]
    # The preset of the export holding these orders' lines (Taobao's 订单报表 → 宝贝报表).
    lines_preset: str | None = None

    def title(self, locale: str) -> str:
        """The title in `locale` (zh-CN or en)."""
        return self.title_en if locale == "en" else self.title_zh

    def guide(self, locale: str) -> tuple[str, ...]:
        """The export steps in `locale` (zh-CN or en)."""
        return self.guide_en if locale == "en" else self.guide_zh


def preset_names() -> list[str]:
    """Every preset's name, sorted."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yml"))


def load_preset(name: str) -> Preset:
    """The preset `name`, read afresh (its `export` mapping is the caller's to merge overrides
    into); an unknown name is an UnknownName listing the valid ones."""
    path = PRESET_DIR / f"{name}.yml"
    if name not in preset_names():
        raise UnknownName(unknown_name_message("preset", name, preset_names()))
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Preset(
        name=name,
        title_zh=raw["title"]["zh"],
        title_en=raw["title"]["en"],
        platform=raw.get("platform"),
        files=raw["files"],
        guide_zh=tuple(raw["guide"]["zh"]),
        guide_en=tuple(raw["guide"]["en"]),
        export=raw["export"],
        lines_preset=raw.get("lines_preset"),
    )


def declaration(preset: Preset, paths: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The `exports:` entries that read a file of this preset, with the export holding its lines
    when it has one (named `items`). `paths`: preset name → path (default: its `files` pattern)."""
    paths = paths or {}
    if preset.lines_preset:
        lines = load_preset(preset.lines_preset)
        return {"orders": {"preset": preset.name, "path": paths.get(preset.name, preset.files), "lines": "items"},
                "items": {"preset": lines.name, "path": paths.get(lines.name, lines.files)}}
    return {"shop": {"preset": preset.name, "path": paths.get(preset.name, preset.files)}}


def headers_of(spec: dict[str, Any]) -> list[str]:
    """A column declaration's headers (aliases), in declared order; none for a constant."""
    header = spec.get("header")
    if header is None:
        return []
    return [header] if isinstance(header, str) else list(header)


def expected_headers(preset: Preset) -> list[str]:
    """Every header the preset maps, the first alias of each, in declaration order."""
    return [headers_of(spec)[0] for spec in preset.export["columns"].values() if headers_of(spec)]


def _norm(header: str) -> str:
    """A header as compared: no surrounding spaces, tabs or BOM; full-width brackets half-width."""
    return str(header).strip(" \t\r\n\ufeff\u3000\u00a0").replace("（", "(").replace("）", ")")


def looks_like(headers: Sequence[str]) -> list[tuple[str, float]]:
    """The presets a file with this header row looks like, best first: (name, share of the
    preset's expected columns found under any of their aliases), only shares above one half."""
    present = {_norm(h) for h in headers}
    ranked = []
    for name in preset_names():
        columns = [headers_of(spec) for spec in load_preset(name).export["columns"].values()]
        columns = [aliases for aliases in columns if aliases]
        found = sum(any(_norm(a) in present for a in aliases) for aliases in columns)
        share = found / len(columns)
        if share > MIN_SHARE:
            ranked.append((name, share))
    return sorted(ranked, key=lambda item: (-item[1], item[0]))


def preset_settings(name: str) -> dict[str, Any]:
    """The preset as the exports declaration merges it: its export settings, titles and platform
    (an unknown name raises UnknownName, a KeyError listing the presets)."""
    preset = load_preset(name)
    return {"export": preset.export, "title": {"zh": preset.title_zh, "en": preset.title_en},
            "platform": preset.platform}
