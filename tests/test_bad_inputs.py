"""Bad inputs from an adversarial run (issue 21, "Why"): each ends in fupan's own error with its
location and hint, a stated warning, or a correct site — never a traceback, never a changed
figure without a message.

Settings (`extra.review`) reach the page escaped: `<script>` in every text setting shows as text
in Chromium and no script runs.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

import pytest
from conftest import STUB_PAGES, free_port, run_build

# Every text setting of extra.review that can hold any text (the others are checked against a
# list: locale, colors, engine) gets a payload that runs script if it reaches the page as HTML.
SCRIPT = "<script>window.__fupan_xss = (window.__fupan_xss || 0) + 1</script>"
IMAGE = '<img src="x" onerror="window.__fupan_xss = (window.__fupan_xss || 0) + 1">'
HOSTILE_SETTINGS = {"company": SCRIPT + "山野", "currency": SCRIPT, "pp_label": IMAGE}
# Pages that print the company (Markdown text and the page title), formatted amounts (currency)
# and changes in percentage points (pp_label), in text, tables, findings and charts.
PAGES = ["", "chapters/01-introduction/", "chapters/02-overall/", "chapters/04-users/", "about/"]


def set_review(project: Path, **settings) -> None:
    """Change settings of extra.review in the project's mkdocs.yml (its `!ENV` tag kept)."""
    path = project / "mkdocs.yml"
    text = path.read_text(encoding="utf-8")
    # JSON is YAML: each value in flow style, quoted as needed.
    block = "".join(f"    {key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in settings.items())
    for key in settings:  # drop the setting as the repo's mkdocs.yml writes it
        text = "\n".join(line for line in text.split("\n") if not line.startswith(f"    {key}:"))
    path.write_text(text.replace("  review:\n", "  review:\n" + block), encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_site(tiny_project_factory, tmp_path_factory):
    project = tiny_project_factory("hostile", docs=STUB_PAGES)
    set_review(project, **HOSTILE_SETTINGS)
    port = free_port()
    site = tmp_path_factory.mktemp("hostile-site") / "site"
    result = run_build(project, site, f"http://127.0.0.1:{port}/", timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield site, f"http://127.0.0.1:{port}/"
    finally:
        server.shutdown()
        server.server_close()


def test_settings_show_literally_and_run_nothing(hostile_site, browser):
    site, base = hostile_site
    context = browser.new_context(service_workers="block")
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                  else route.abort())
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        seen = set()
        for path in PAGES:
            page.goto(base + path)
            page.wait_for_load_state("load")
            assert page.evaluate("window.__fupan_xss") is None, f"a setting ran script on /{path}"
            text = page.inner_text("body")
            seen |= {key for key, value in HOSTILE_SETTINGS.items() if value in text}
        assert not dialogs
    finally:
        context.close()
    # Each setting was printed somewhere, as the text written in mkdocs.yml.
    assert seen == set(HOSTILE_SETTINGS), f"not shown as text: {set(HOSTILE_SETTINGS) - seen}"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__fupan_xss" in home and "<script>window.__fupan_xss" not in home


def test_macros_get_settings_as_written():
    """A page passing a setting to a macro (`title=config.extra.review.company`) gives the macro
    the text as written: the macro escapes it once, as it escapes any argument."""
    from fupan.site.plugin import escaped
    from fupan.site.writer_errors import guard_macro

    settings = escaped({"company": "A&B <i>", "year": 2025, "names": ["<b>"]})
    assert settings == {"company": "A&amp;B &lt;i&gt;", "year": 2025, "names": ["&lt;b&gt;"]}
    seen = []
    guarded = guard_macro("demo", lambda title, names=(): seen.append((title, names)) or "")
    guarded(settings["company"], names=settings["names"])
    assert seen == [("A&B <i>", ["<b>"])] and type(seen[0][0]) is str
