"""`fupan serve` in Chromium: it prints its URL, survives a writer's typo, shows the error (page,
line, did-you-mean) in the page, and reloads the page with its content once the typo is fixed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import STUB_PAGES, build_env, free_port
from conftest import processes_in as _processes_in
from tiny import make_project

ERROR = "#fupan-preview-error"
GOOD = '{{ monthly_trend("net_sales") }}'
TYPO = '{{ monthly_trand("net_sales") }}'


def _wait_for_text(path: Path, text: str, process: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return
        assert process.poll() is None, f"fupan serve ended ({process.returncode}):\n{path.read_text()[-4000:]}"
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not printed:\n{path.read_text()[-4000:]}")


def _start_serve(project: Path, tmp_path: Path) -> tuple[subprocess.Popen, str, Path, Path]:
    """`fupan serve` on a free port, its output in a file, its temporary folders in one of ours."""
    port = free_port()
    log = tmp_path / "serve.log"
    temp = tmp_path / "temp"
    temp.mkdir()
    with log.open("w", encoding="utf-8") as out:
        serve = subprocess.Popen([sys.executable, "-m", "fupan", "serve", "-a", f"127.0.0.1:{port}"],
                                 cwd=project, env={**build_env(), "TMPDIR": str(temp)},
                                 stdout=out, stderr=subprocess.STDOUT,
                                 # as from a terminal: started in the background (a CI script's `&`)
                                 # it would ignore the Ctrl+C the test sends
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    return serve, f"http://127.0.0.1:{port}/", log, temp


def _gone(project: Path, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while _processes_in(project) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _processes_in(project)


def test_serve_shows_a_typo_in_the_page_and_reloads_when_fixed(tmp_path, browser):
    project = make_project(tmp_path / "p", docs=STUB_PAGES)
    index = project / "docs" / "index.md"
    good_text = index.read_text(encoding="utf-8")
    assert GOOD in good_text
    typo_text = good_text.replace(GOOD, TYPO)
    typo_line = typo_text.splitlines().index(TYPO) + 1
    index.write_text(typo_text, encoding="utf-8")  # the first build already fails

    serve, url, log, temp = _start_serve(project, tmp_path)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    try:
        _wait_for_text(log, f"fupan serve: {url} (Ctrl+C stops)", serve)
        page = context.new_page()
        page.set_default_timeout(180_000)

        # No good build yet: the page is the error.
        page.goto(url)
        shown = page.locator(ERROR)
        shown.wait_for()
        text = shown.inner_text()
        assert f"docs/index.md, line {typo_line}: unknown macro or variable \"monthly_trand\"" in text, text
        assert TYPO in text and 'Did you mean "monthly_trend"?' in text, text

        # Fixed: the same tab reloads by itself and shows the page.
        index.write_text(good_text, encoding="utf-8")
        page.locator("h2", has_text="月度净销售额").wait_for()
        assert page.locator(ERROR).count() == 0
        assert page.locator(".fupan-chart").count() >= 1

        # A typo again: the last good page stays, the error over it; the server keeps serving.
        index.write_text(typo_text, encoding="utf-8")
        shown.wait_for()
        assert f"docs/index.md, line {typo_line}" in shown.inner_text()
        assert page.locator("h2", has_text="年度核心指标").count() == 1  # the last good build's page
        assert serve.poll() is None, "fupan serve ended on a typo"

        index.write_text(good_text, encoding="utf-8")
        shown.wait_for(state="detached")
        assert page.locator("h2", has_text="月度净销售额").count() == 1
        assert serve.poll() is None
    finally:
        context.close()
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=60)
    assert _gone(project), "a preview process outlived fupan serve"
    assert "Traceback" not in log.read_text(encoding="utf-8"), log.read_text(encoding="utf-8")[-4000:]
    assert list(temp.glob("fupan-preview-*")) == [], "the preview left its build folders"


def test_a_killed_serve_takes_its_preview_with_it(tmp_path):
    """SIGKILL to `fupan serve`: its preview (a child process) notices, stops and removes its
    folders, so the port and the disk are free again."""
    project = make_project(tmp_path / "p", docs=STUB_PAGES)
    serve, url, log, temp = _start_serve(project, tmp_path)
    try:
        _wait_for_text(log, f"fupan serve: {url} (Ctrl+C stops)", serve)
        assert len(_processes_in(project)) >= 2  # fupan serve and its preview
    finally:
        serve.kill()
        serve.wait()
    try:
        assert _gone(project), "the preview outlived a killed fupan serve"
    finally:  # a preview left by a broken fupan is this test's to stop
        for pid in _processes_in(project):
            os.kill(pid, signal.SIGKILL)
    assert list(temp.glob("fupan-preview-*")) == [], "the preview left its build folders"
