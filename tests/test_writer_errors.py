"""Writers' mistakes stop the build with the page, the line, what was written and a suggestion."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tiny import make_project

PAGE = "---\ntitle: 测试页\n---\n# 测试\n\n一段文字。\n\n{call}\n"  # the call is on line 8 of the file


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("{{ kpi(['net_sales']) }}",
         ['unknown macro or variable "kpi"', 'Did you mean "kpis"?']),
        ("{{ kpis(['net_sale']) }}",
         ['kpis(): unknown metric "net_sale"', 'Did you mean "net_sales"?']),
        ("{{ ranking('net_sales', by='platfrom') }}",
         ['unknown dimension "platfrom"', 'Did you mean "platform"?']),
        ("{{ kpis(['net_sales'], perod='2025') }}",
         ["unexpected keyword argument 'perod'", 'Did you mean "period"?', "Valid: compare, locale, metrics, period"]),
        ("{{ kpis(['net_sales'] }}",
         ["Jinja syntax error", "unexpected '}', expected ')'"]),
    ],
)
def test_writer_error_names_page_line_and_suggestion(tmp_path, call, expected):
    project = make_project(tmp_path / "p", docs={"broken.md": PAGE.format(call=call)})
    site = project / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=project, capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "docs/broken.md, line 8" in output, output[-3000:]
    assert call in output  # what was written
    for text in expected:
        assert text in output, output[-3000:]
    assert "Traceback" not in output
