"""Publishing pipeline: the workflow passes actionlint; the link checker finds broken links."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fupan.site.linkcheck import check_site

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "publish.yml"


def _actionlint() -> str:
    found = shutil.which("actionlint") or str(Path(__import__("sys").executable).parent / "actionlint")
    if not Path(found).exists():
        pytest.fail("actionlint is missing: pip install -e '.[test]' installs it")
    return found


def test_workflow_passes_actionlint():
    result = subprocess.run([_actionlint(), str(WORKFLOW)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("runs-on: ubuntu-latest", "runs-onn: x", 1))
    result = subprocess.run([_actionlint(), str(broken)], capture_output=True, text=True)
    assert result.returncode != 0


def test_workflow_runs_check_tests_build_links_and_deploys_main():
    text = WORKFLOW.read_text(encoding="utf-8")
    for step in ("fupan check", "python -m pytest", "fupan build", "fupan links site",
                 "actions/upload-pages-artifact", "actions/deploy-pages", "~/.cache/pip",
                 ".cache/fupan", "~/.cache/fupan"):
        assert step in text
    for path in ('"data/**"', '"docs/**"', '"macros/**"', '"mkdocs.yml"'):
        assert path in text


def _page(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")


def test_link_checker_reports_missing_pages_and_anchors(tmp_path):
    _page(tmp_path / "index.html", '<a href="a/">ok</a> <a href="a/#sec">ok</a> <a href="b/">missing</a>'
          ' <a href="a/#nope">bad anchor</a> <a href="#top">self</a> <a href="https://example.com/">ext</a>'
          ' <h1 id="top">t</h1> <img src="img/x.png">')
    _page(tmp_path / "a" / "index.html", '<h2 id="sec">s</h2><a href="../index.html#top">back</a>')
    broken = check_site(tmp_path)
    assert sorted((b.page, b.url, b.reason) for b in broken) == [
        ("index.html", "a/#nope", "no element with id 'nope'"),
        ("index.html", "b/", "no such file"),
        ("index.html", "img/x.png", "no such file"),
    ]
