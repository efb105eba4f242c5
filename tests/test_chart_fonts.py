"""Static chart SVGs do not depend on the build machine's fonts (issue 20, acceptance 3).

"A machine without CJK fonts" is this machine with a fontconfig that lists one empty folder
(FONTCONFIG_FILE), given to a fresh Python process that draws the charts; the same charts are
drawn by another process with the machine's fonts, and the bytes compared. A control draw
without fupan's fonts shows that the two environments really lay text out differently.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import xxhash
from fupan.presentation import charts, components, theme
from fupan.speed import svgrender
from fupan.speed.cache import cache_key

_DRAW = """
import json, sys
from pathlib import Path
from fupan.presentation import charts
from fupan.speed import svgrender

jobs, out, cache, register = json.loads(Path(sys.argv[1]).read_text("utf-8")), sys.argv[2], sys.argv[3], sys.argv[4]
if register == "no":  # the control: vl-convert left with this environment's fonts only
    svgrender.register_fonts = lambda folder: None
svgs = [svgrender.draw(charts._svg_request(spec, Path(cache), locale, charts.STATIC_WIDTH)) for spec, locale in jobs]
Path(out).write_text(json.dumps(svgs, ensure_ascii=False), "utf-8")
"""


def _no_cjk_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a process whose fontconfig knows no font at all."""
    empty = tmp_path / "no-fonts"
    empty.mkdir(exist_ok=True)
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                    f"  <dir>{empty}</dir>\n  <cachedir>{tmp_path / 'fc-cache'}</cachedir>\n</fontconfig>\n",
                    encoding="utf-8")
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def _draw(jobs: list[tuple[dict, str]], tmp_path: Path, name: str, env: dict[str, str],
          register: bool = True) -> list[str]:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "jobs.json").write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", _DRAW, str(folder / "jobs.json"), str(folder / "svgs.json"), str(folder / "cache"),
         "yes" if register else "no"], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads((folder / "svgs.json").read_text(encoding="utf-8"))


def _assert_same_without_cjk_fonts(jobs: list[tuple[dict, str]], tmp_path: Path) -> list[str]:
    with_fonts = _draw(jobs, tmp_path, "with-fonts", dict(os.environ))
    without = _draw(jobs, tmp_path, "without-cjk-fonts", _no_cjk_env(tmp_path))
    assert len(with_fonts) == len(without) == len(jobs)
    differing = [i for i, (a, b) in enumerate(zip(with_fonts, without, strict=True)) if a != b]
    assert not differing, f"{len(differing)} of {len(jobs)} charts differ without CJK fonts, first: {differing[0]}"
    # Every chart's text names fupan's font first, so a viewer that has it shows the layout as measured.
    families = {family for svg in with_fonts for family in re.findall(r'font-family="([^"]*)"', svg)}
    assert families and all(html.unescape(family).startswith(f'"{theme.CHART_FONT}",') for family in families)
    return with_fonts


@pytest.fixture(scope="module")
def builders() -> dict[str, object]:
    from test_components import chart_builders

    return chart_builders()


@pytest.fixture(scope="module")
def builder_jobs(builders) -> list[tuple[dict, str]]:
    return [(components.chart_spec(chart, 100), "zh-CN") for chart in builders.values()]


def test_every_kind_of_chart_is_the_same_without_cjk_fonts(tmp_path, builders, builder_jobs):
    svgs = _assert_same_without_cjk_fonts(builder_jobs, tmp_path)
    # Chinese labels keep every character (the funnel read 客/购/单/付 without a CJK font).
    funnel = svgs[list(builders).index("funnel")]
    assert all(f">{label}<" in funnel for label in ("访客", "加购", "下单", "支付"))


def test_the_environments_differ_without_fupans_fonts(tmp_path, builder_jobs):
    """The control: without the fonts fupan registers, the same charts come out otherwise in
    the two environments (so the test above is not comparing one environment with itself)."""
    with_fonts = _draw(builder_jobs, tmp_path, "with-fonts", dict(os.environ), register=False)
    without = _draw(builder_jobs, tmp_path, "without-cjk-fonts", _no_cjk_env(tmp_path), register=False)
    assert with_fonts != without


def test_the_sample_sites_charts_are_the_same_without_cjk_fonts(built_site, tmp_path):
    """Every chart of the built sample site, drawn again without CJK fonts, is byte for byte the
    SVG the build put in the page."""
    jobs: list[tuple[dict, str]] = []
    in_pages: list[str] = []
    figure = re.compile(r'data-spec="([^"]*)"></div><img[^>]*?src="data:image/svg\+xml;base64,([^"]+)"')
    pages = [built_site.site_dir / "index.html", *sorted((built_site.site_dir / "chapters").rglob("index.html"))]
    for page in pages:
        for spec, svg in figure.findall(page.read_text(encoding="utf-8")):
            jobs.append((json.loads(html.unescape(spec)), "zh-CN"))
            in_pages.append(_decode(svg))
    assert len(jobs) >= 20  # the home page's and every chapter's charts
    without = _draw(jobs, tmp_path, "without-cjk-fonts", _no_cjk_env(tmp_path))
    differing = [i for i, (a, b) in enumerate(zip(in_pages, without, strict=True)) if a != b]
    assert not differing, f"{len(differing)} of {len(jobs)} sample charts differ without CJK fonts"


def _decode(data: str) -> str:
    return base64.b64decode(data).decode("utf-8")


def _copy_fonts(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "fonts"
    folder.mkdir()
    installed = svgrender.font_files()
    assert installed, f"install {svgrender.FONT_PACKAGE}"
    for path in installed:
        shutil.copy(path, folder / path.name)
    return [folder / path.name for path in installed]


def _content_hash(path: Path) -> str:
    """XXH3-128 of the file, as data files are fingerprinted (computed here, not by fupan)."""
    return xxhash.xxh3_128_hexdigest(path.read_bytes())


def test_the_svg_key_changes_with_the_fonts(tmp_path, monkeypatch, builder_jobs):
    spec, locale = builder_jobs[0]
    cache = tmp_path / "cache"
    installed = charts._svg_request(spec, cache, locale, charts.STATIC_WIDTH)
    assert installed.fonts is not None
    assert sorted(path.name for path in installed.fonts.iterdir()) == sorted(svgrender.FONT_FILES)
    assert installed.key == charts._svg_request(spec, cache, locale, charts.STATIC_WIDTH).key  # stable
    # The same files elsewhere (another installation): the same fingerprint and key.
    copies = _copy_fonts(tmp_path)
    monkeypatch.setattr(svgrender, "font_files", lambda: copies)
    assert svgrender.chart_fonts(cache).fingerprint == cache_key([(p.name, _content_hash(p)) for p in copies])
    assert charts._svg_request(spec, cache, locale, charts.STATIC_WIDTH).key == installed.key
    # A font file with other content (an update of the font package): another fingerprint, key
    # and font folder.
    with copies[0].open("ab") as fh:
        fh.write(b"\0")
    os.utime(copies[0], ns=(1, 1))  # another mtime too: its memoised hash is not reused
    updated = charts._svg_request(spec, cache, locale, charts.STATIC_WIDTH)
    assert updated.key != installed.key and updated.fonts != installed.fonts
    assert svgrender.chart_fonts(cache).fingerprint == cache_key([(p.name, _content_hash(p)) for p in copies])
    assert (updated.fonts / copies[0].name).read_bytes() == copies[0].read_bytes()


def test_missing_fonts_warn_once_and_key_otherwise(tmp_path, monkeypatch, caplog, builder_jobs):
    spec, locale = builder_jobs[0]
    cache = tmp_path / "cache"
    installed = charts._svg_request(spec, cache, locale, charts.STATIC_WIDTH).key
    monkeypatch.setattr(svgrender, "font_files", lambda: [])
    monkeypatch.setattr(svgrender, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="fupan"):
        missing = charts._svg_request(spec, cache, locale, charts.STATIC_WIDTH)
        again = charts._svg_request(spec, cache, locale, charts.STATIC_WIDTH)
    assert missing.key == again.key != installed and missing.fonts is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "pip install weblate-fonts" in warnings[0] and "Chinese labels may be cut off" in warnings[0]
    assert svgrender.draw(missing).startswith("<svg")  # drawn all the same, with the machine's fonts


def test_the_theme_names_the_registered_family_first():
    files = svgrender.font_files()
    assert files, f"install {svgrender.FONT_PACKAGE}"
    assert theme.FONT.startswith(f'"{theme.CHART_FONT}",')
    # The family as the font files declare it (OpenType name table, UTF-16 big-endian).
    assert all(theme.CHART_FONT.encode("utf-16-be") in path.read_bytes() for path in files)
