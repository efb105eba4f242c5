"""Static chart SVGs drawn by a worker process while the pages render (macros/svgrender.py):
the written page gets exactly the SVG vl-convert draws on the spot."""

from __future__ import annotations

import base64
import os
import re
import signal

import pytest
from fupan.presentation import charts, components
from fupan.speed import svgrender
from fupan.speed.svgrender import SvgRenderer, tokens_missing_svg


@pytest.fixture(scope="module")
def specs():
    from test_components import chart_builders

    builders = chart_builders()
    return [components.chart_spec(builders[name], 100) for name in ("bars", "trend")]


def _svgs_in(html: str) -> list[str]:
    return [base64.b64decode(data).decode("utf-8")
            for data in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)]


def _page(sources: list[str]) -> str:
    return "<main>" + "".join(components.static_image(s) for s in sources) + "</main>"


def test_the_written_page_has_the_svgs_drawn_on_the_spot(tmp_path, specs):
    expected = [charts.static_svg(spec, tmp_path / "direct", "zh-CN") for spec in specs]
    assert all(svg.startswith("<svg") for svg in expected)
    renderer = svgrender.start(tmp_path / "cache")
    try:
        # During the build the page holds tokens; the same chart twice is drawn once.
        sources = [charts.static_image_source(spec, tmp_path / "cache", "zh-CN") for spec in specs]
        sources.append(charts.static_image_source(specs[0], tmp_path / "cache", "zh-CN"))
        assert all(s.startswith("fupan-svg:") for s in sources) and sources[0] == sources[2]
        assert len(renderer._pending) == 2
        page = _page(sources)
        assert tokens_missing_svg(page, tmp_path / "cache")  # not kept until the page is written
        written = renderer.resolve(page)
        assert "fupan-svg:" not in written
        assert _svgs_in(written) == [*expected, expected[0]]
        assert not tokens_missing_svg(page, tmp_path / "cache")  # kept for the next build
        assert not list((tmp_path / "cache" / "svg").rglob(".tmp-*"))
    finally:
        renderer.close()
        svgrender.RENDERER = None
    # The next build: the kept SVGs, nothing handed to a worker.
    renderer = svgrender.start(tmp_path / "cache")
    try:
        assert renderer.image_source(charts._svg_request(specs[1], tmp_path / "cache", "zh-CN", 680)) \
            == sources[1]
        assert renderer._pending == {} and renderer._pool is None
        assert _svgs_in(renderer.resolve(page)) == [*expected, expected[0]]
    finally:
        renderer.close()
        svgrender.RENDERER = None
    # Outside a build: the data URL at once.
    assert charts.static_image_source(specs[0], tmp_path / "cache", "zh-CN") == svgrender.data_url(expected[0])


def test_a_dead_worker_leaves_the_drawing_to_the_build(tmp_path, specs):
    expected = charts.static_svg(specs[0], tmp_path / "direct", "zh-CN")
    renderer = SvgRenderer(tmp_path / "cache")
    try:
        pool = renderer._worker()
        assert pool.submit(len, "ab").result() == 2  # the worker is up
        for process in list(pool._processes.values()):
            os.kill(process.pid, signal.SIGKILL)
            process.join()
        request = charts._svg_request(specs[0], tmp_path / "cache", "zh-CN", 680)
        page = _page([renderer.image_source(request)])
        assert _svgs_in(renderer.resolve(page)) == [expected]
    finally:
        renderer.close()


def test_ctrl_c_while_the_worker_starts_waits_for_the_start_and_the_worker_ignores_it(tmp_path, specs):
    """A SIGINT between spawning the worker and handing it its start-up data left the worker
    reading a closed pipe, and its traceback in the build's log (seen in CI). The start now
    holds the signal back until it is done; the worker ignores Ctrl+C (a terminal sends it to
    the whole process group), so only the build is interrupted, and it kills the worker."""
    renderer = SvgRenderer(tmp_path / "cache")
    request = charts._svg_request(specs[0], tmp_path / "cache", "zh-CN", 680)
    interrupted = False
    try:
        with svgrender._uninterrupted():
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl+C as the first chart starts the worker
            renderer.image_source(request)
    except KeyboardInterrupt:
        interrupted = True
    try:
        assert interrupted  # delivered once the start was done, not lost
        workers = list(renderer._pool._processes.values())
        assert len(workers) == 1
        renderer._pending[request.key][0].result()  # drawn: vl-convert's runtime is up in the worker
        with open(f"/proc/{workers[0].pid}/status", encoding="ascii") as status:
            ignored = int(next(line for line in status if line.startswith("SigIgn:")).split()[1], 16)
        assert ignored & (1 << (signal.SIGINT - 1))
        os.kill(workers[0].pid, signal.SIGINT)  # Ctrl+C reaching the worker too
        assert renderer._pool.submit(len, "ab").result() == 2  # still there, no traceback
        own = signal.pthread_sigmask(signal.SIG_BLOCK, set())
        assert signal.SIGINT not in own and signal.SIGTERM not in own  # the build's own mask is back
    finally:
        renderer.kill()


def test_a_chart_vl_convert_cannot_draw_fails_the_build(tmp_path):
    renderer = SvgRenderer(tmp_path / "cache")
    try:
        broken = svgrender.svg_request({"mark": "no-such-mark", "data": {"values": []}}, {},
                                       "zh-CN", "zh-CN", tmp_path / "cache")
        page = _page([renderer.image_source(broken)])
        with pytest.raises(ValueError, match="Vega-Lite to SVG conversion failed"):
            renderer.resolve(page)
        assert tokens_missing_svg(page, tmp_path / "cache")  # nothing kept
    finally:
        renderer.close()


def test_a_chart_is_drawn_the_same_whatever_was_drawn_before(tmp_path, specs):
    """vl-convert numbers clip paths by how many charts its process drew before: the SVG's ids
    are numbered from 1, so a build that drew other charts first gives the same bytes."""
    request = charts._svg_request(specs[0], tmp_path, "zh-CN", 680)
    first, again = svgrender.draw(request), svgrender.draw(request)
    assert first == again
    assert re.findall(r'id="(clip\d+)"', first) == ["clip1", "clip2"]
    assert 'clip-path="url(#clip1)"' in first and "clip3" not in first


@pytest.mark.parametrize(("svg", "stable"), [
    ('<g clip-path="url(#clip7)"/><clipPath id="clip7"/><clipPath id="clip9"/><g clip-path="url(#clip9)"/>',
     '<g clip-path="url(#clip1)"/><clipPath id="clip1"/><clipPath id="clip2"/><g clip-path="url(#clip2)"/>'),
    ('<linearGradient id="gradient_12"/><rect fill="url(#gradient_12)"/><clipPath id="clip4"/>'
     '<text>clip4 gradient_12</text>',
     '<linearGradient id="gradient_1"/><rect fill="url(#gradient_1)"/><clipPath id="clip1"/>'
     '<text>clip4 gradient_12</text>'),
    ('<clipPath id="clip1"/><clipPath id="clip12"/><use href="#clip12"/>',
     '<clipPath id="clip1"/><clipPath id="clip2"/><use href="#clip2"/>'),
    ("<svg><rect/></svg>", "<svg><rect/></svg>"),
])
def test_stable_ids(svg, stable):
    assert svgrender.stable_ids(svg) == stable


def test_a_rebuild_without_the_kept_svgs_writes_the_same_site(tiny_project_factory, tmp_path):
    """Macro outputs kept between builds hold tokens: with the SVG cache gone, they are made
    again, and the site is byte for byte the first build's (charts drawn in the worker)."""
    import filecmp
    import shutil

    from conftest import STUB_PAGES, run_build

    project = tiny_project_factory("svg-rebuild", docs=STUB_PAGES)
    first, second = tmp_path / "first", tmp_path / "second"
    result = run_build(project, first)
    assert result.returncode == 0, result.stderr[-3000:]
    shutil.rmtree(project / ".cache" / "fupan" / "svg")
    result = run_build(project, second)
    assert result.returncode == 0, result.stderr[-3000:]
    pages = sorted(p.relative_to(first) for p in first.rglob("*.html"))
    images = sum((first / p).read_text(encoding="utf-8").count('src="data:image/svg+xml;base64,')
                 for p in pages)
    assert images >= 5 and not any("fupan-svg:" in (first / p).read_text(encoding="utf-8") for p in pages)
    assert [str(p) for p in pages if not filecmp.cmp(first / p, second / p, shallow=False)] == []
    assert list((project / ".cache" / "fupan" / "svg").rglob("*.svg"))


def test_the_benchmark_floor_records_the_size_as_written(tmp_path, specs, monkeypatch):
    """The MkDocs floor replaces each macro by a constant of its output's size: the size of the
    page as written, with each chart's SVG in it, not of the token that stands for it."""
    import json

    from fupan.speed.recording import record

    log = tmp_path / "sizes.jsonl"
    monkeypatch.setenv("FUPAN_RECORD_MACROS", str(log))
    renderer = svgrender.start(tmp_path / "cache")
    try:
        def chart() -> str:
            return _page([charts.static_image_source(specs[0], tmp_path / "cache", "zh-CN")])

        out = record("chart", chart, lambda: "index.md")()
        assert "fupan-svg:" in out
        written = renderer.resolve(out)
        assert json.loads(log.read_text(encoding="utf-8"))["chars"] == len(written) > len(out) + 1000
    finally:
        renderer.close()
        svgrender.RENDERER = None


def test_without_a_worker_the_build_draws_the_charts_itself(tmp_path, specs, monkeypatch):
    """Where no process can be started (no working semaphores in some containers), the charts
    are drawn in the build's own process, with the same bytes."""
    import concurrent.futures

    def unavailable(*args, **kwargs):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(svgrender, "ProcessPoolExecutor", unavailable)
    assert concurrent.futures.ProcessPoolExecutor is not unavailable
    expected = charts.static_svg(specs[1], tmp_path / "direct", "zh-CN")
    renderer = SvgRenderer(tmp_path / "cache")
    try:
        request = charts._svg_request(specs[1], tmp_path / "cache", "zh-CN", 680)
        assert _svgs_in(renderer.resolve(_page([renderer.image_source(request)]))) == [expected]
    finally:
        renderer.close()
