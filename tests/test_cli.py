"""The `fupan` command: check, build (swap on success), links; serve's code reload."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import run_fupan as _fupan
from tiny import make_project

REPO = Path(__file__).resolve().parents[1]


def test_check_passes_on_good_data_and_fails_on_bad(tmp_path):
    project = make_project(tmp_path / "p")
    ok = _fupan(project, "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 error(s)" in ok.stdout
    products = project / "data" / "products.csv"
    products.write_text(products.read_text(encoding="utf-8").replace(",10,", ",十元,", 1), encoding="utf-8")
    bad = _fupan(project, "check")
    assert bad.returncode == 1
    assert "data/products.csv, row 2, column 标价 (list_price): value '十元'" in bad.stdout


def test_build_swaps_the_new_site_in_and_links_are_whole(tmp_path):
    project = make_project(tmp_path / "p")
    (project / "site").mkdir()
    (project / "site" / "stale.html").write_text("old", encoding="utf-8")
    result = _fupan(project, "build")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (project / "site" / "index.html").exists()
    assert not (project / "site" / "stale.html").exists()  # replaced whole, not merged
    assert not list(project.glob(".fupan-build-*")) and not (project / "site.old").exists()
    links = _fupan(project, "links", "site")
    assert links.returncode == 0, links.stdout
    assert "0 broken internal link(s)" in links.stdout


def test_serve_starts_the_preview_again_when_fupan_code_changes(tmp_path):
    """`fupan serve` runs MkDocs in a child process and starts it again on a code change, so the
    preview runs the edited code (a module imported once is never imported again)."""
    watched = tmp_path / "package"
    watched.mkdir()
    (watched / "engine.py").write_text("x = 1\n")
    starts = tmp_path / "starts.txt"
    child = f"open({str(starts)!r}, 'a').write('start\\n'); import time; time.sleep(120)"
    runner = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from fupan.cli import run_restarting; "
         f"sys.exit(run_restarting([sys.executable, '-c', {child!r}], Path({str(watched)!r}), 0.1))"],
        # as from a terminal: a runner started in the background (a CI script's `&`) ignores Ctrl+C
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 30
        while not starts.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert starts.read_text() == "start\n"
        (watched / "engine.py").write_text("x = 2\n")
        while starts.read_text().count("start") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert starts.read_text() == "start\nstart\n"
    finally:
        runner.send_signal(signal.SIGINT)  # as Ctrl+C: the preview it started stops too
        runner.wait(timeout=30)
