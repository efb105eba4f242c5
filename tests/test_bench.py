"""The benchmark runs end to end from the repository with its documented command and writes its
JSON: every figure, the floor and the ratios to it (a tiny size, one run: no timing is checked)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_benchmark_writes_every_figure_with_its_ratio_to_the_floor(tmp_path):
    out = tmp_path / "result.json"
    env = {**os.environ, "FUPAN_BENCH_WORK": str(tmp_path / "work")}
    subprocess.run([sys.executable, "bench/run.py", "--sizes", "3000", "--runs", "1", "--no-sample-site",
                    "--out", str(out)], cwd=REPO, env=env, check=True, capture_output=True, timeout=900)
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["runs"] == 1 and [s["orders"] for s in report["sizes"]] == [3000]
    mini = report["sizes"][0]["minisite"]
    for figure in ("cold_s", "warm_s", "data_change_s", "floor_s"):
        assert mini[figure] > 0, figure
    for figure in ("cold_s", "warm_s", "data_change_s"):
        assert mini["ratios_to_floor"][figure] == round(mini[figure] / mini["floor_s"], 2)
    assert mini["peak_rss_mib"] > 50
    # The peers' three pages, each with its weight; the home page's first visit counts its CSS and JS.
    assert set(mini["pages"]) == {".", "categories", "channels"}
    home = mini["pages"]["."]
    assert home["first_visit_bytes"] > home["html_bytes"] > 0
    assert 0 < home["first_visit_gzip_bytes"] < home["first_visit_bytes"]
    assert all(page["embedded_data_bytes"] > 0 for page in mini["pages"].values())  # each has a chart or table
