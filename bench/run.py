"""fupan benchmark: build time, memory and page weight, as ratios to the MkDocs "floor".

    python bench/run.py                       # 1M and 10M orders, mini-site, 3 runs each
    python bench/run.py --sizes 1000000 --runs 3 --full-review
    python bench/run.py --with-100m           # adds 100M orders (slow: hours of generation)
    python bench/run.py --sizes 1000000 --ab ../old --runs 3   # this code against another checkout
    python bench/run.py --sizes 1000000 --layout jd --runs 3    # a platform's export against the canonical files
    python bench/run.py --sizes 1000000 --layout jd --ab ../old --runs 3   # … and against another checkout's code

`--ab CHECKOUT` compares this checkout's code with another one's (its own `.venv`), in one run:
the mini-site and the whole review of each size are built by both, cold and warm, the builds of
the two interleaved (ABBA) so that the machine's drift falls on both alike.

`--layout PRESET` builds the whole review cold from the sample written in a platform's export
layout (`fupan sample --layout`: orders and lines replaced by the export, everything else kept)
and from the canonical files, interleaved (ABBA), with this code. With `--ab CHECKOUT` as well,
the layout is also built with that checkout's code (its `macros` first on PYTHONPATH, this
checkout's Python), in the same interleaved runs.

For each size the sample generator streams orders to Parquet (bench/work/, git-ignored, reused
when present). Each build runs in a fresh process; wall time comes from time.perf_counter and
peak RSS from os.wait4's rusage (the same figure `/usr/bin/time -v` prints). Figures:

* cold   full build with an empty fupan cache
* warm   rebuild after editing only one page's text
* data   rebuild after changing one small data file (a product name in products.csv)
* floor  the same pages with every macro call replaced by a constant of the same output size,
         built by MkDocs without the macros plugin: what MkDocs itself costs

and, per page of the cold build: HTML bytes, embedded chart/table data bytes, and the bytes of
HTML + CSS + JS a first visit loads (raw and gzipped). Results go to bench/results/<date>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
WORK = Path(os.environ.get("FUPAN_BENCH_WORK") or BENCH / "work")  # the test suite's run uses its own
MINISITE = BENCH / "minisite"
PYTHON = sys.executable
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "NO_MKDOCS_2_WARNING": "1"}


def _tree_rss_kib(root: int) -> int:
    """The resident memory of a process and all its descendants now (from /proc), in KiB."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8", errors="replace") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry.name}/statm", encoding="ascii") as fh:
                resident = int(fh.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
        parents[int(entry.name)] = ppid
        rss[int(entry.name)] = resident * page_kib
    tree, grew = {root}, True
    while grew:
        added = {pid for pid, ppid in parents.items() if ppid in tree and pid not in tree}
        tree |= added
        grew = bool(added)
    return sum(rss.get(pid, 0) for pid in tree)


def run_measured(cmd: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run a command in a new process; wall seconds and peak RSS (MiB) of its process tree.

    A build draws chart SVGs in a worker process (macros/svgrender.py). `ru_maxrss` from wait4
    is the peak of the largest single process of the tree, not of their sum, so the sum is also
    sampled from /proc every 50 ms, and the larger of the two is reported."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env or ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak_tree_kib = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak_tree_kib[0] = max(peak_tree_kib[0], _tree_rss_kib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"command failed ({code}): {' '.join(cmd)}\n{output[-4000:]}")
    peak_kib = max(usage.ru_maxrss, peak_tree_kib[0])
    # CPU time of the process and the children it waited for (the SVG worker, the transcoding
    # child): steadier than wall time on a shared machine.
    cpu = usage.ru_utime + usage.ru_stime
    return {"seconds": round(seconds, 3), "cpu_s": round(cpu, 3), "peak_rss_mib": round(peak_kib / 1024, 1),
            "output": output}


def generate(size: int) -> Path:
    data = WORK / f"data-{size}"
    if (data / "orders.parquet").exists():
        return data
    tmp = WORK / f"data-{size}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"generating {size:,} orders …", flush=True)
    result = run_measured([PYTHON, "-m", "fupan.sample.generator", "--out", str(tmp), "--orders", str(size)], REPO)
    print(f"  generated in {result['seconds']:.0f} s, peak RSS {result['peak_rss_mib']:.0f} MiB", flush=True)
    shutil.copy(REPO / "data" / "datasets.yml", tmp / "datasets.yml")
    tmp.rename(data)
    (data / ".generation.json").write_text(json.dumps({k: v for k, v in result.items() if k != "output"}))
    return data


def minisite_data(data: Path) -> Path:
    """A data folder with only the three files the mini-site's pages use (and the contract):
    like the peers, which read only their orders file, it neither loads nor checks the
    optional datasets (traffic, ads, team, …) the generator also writes. Absent optional
    files are fine: the contract still declares them, as for any shop without them."""
    folder = WORK / f"{data.name}-minisite"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in ("datasets.yml", "orders.parquet", "order_lines.parquet", "products.csv"):
        (folder / name).symlink_to(data / name)
    return folder


def make_project(name: str, source: Path, data: Path) -> Path:
    """A project: mkdocs.yml + docs/ from `source`, the repo's macros, the generated data."""
    return ab_project(name, REPO, source, data)


def build(project: Path, env: dict | None = None) -> dict:
    return run_measured([PYTHON, "-m", "mkdocs", "build", "-q", "-d", str(project / "site")], project, env)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


# ---- page weight -------------------------------------------------------------------------------

class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.data_bytes = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.scripts.append(str(values["src"]))
        if tag == "link" and values.get("rel") == "stylesheet" and values.get("href"):
            self.styles.append(str(values["href"]))
        if values.get("data-spec"):
            self.data_bytes += len(str(values["data-spec"]).encode("utf-8"))


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6, mtime=0))


def page_weights(site: Path) -> dict:
    """Per page: HTML bytes, embedded data bytes, and first-visit bytes (HTML + CSS + JS)."""
    out = {}
    for page in sorted(site.rglob("index.html")):
        if "assets" in page.parts or "search" in page.parts or "slides" in page.parts:
            continue  # the slide deck is no page a reader browses: the peers have none to compare
        html = page.read_bytes()
        parser = _Assets()
        parser.feed(html.decode("utf-8"))
        tables = sum(len(m.encode("utf-8")) for m in re.findall(r'<div class="fupan-table".*?</table></div>',
                                                                 html.decode("utf-8"), flags=re.S))
        raw, gzipped = len(html), _gz(html)
        lazy = []
        for ref in parser.scripts + parser.styles:
            path = (page.parent / ref.split("?")[0]).resolve()
            if path.exists():
                body = path.read_bytes()
                # Scripts the page loads only when a chart needs them are not first-visit bytes.
                if "vega-bundle" in path.name and b"data-lazy-vega" in html:
                    lazy.append(path.name)
                    continue
                raw += len(body)
                gzipped += _gz(body)
        out[page.relative_to(site).parent.as_posix() or "/"] = {
            "html_bytes": len(html), "embedded_data_bytes": parser.data_bytes + tables,
            "first_visit_bytes": raw, "first_visit_gzip_bytes": gzipped, "deferred": lazy,
        }
    return out


def site_bytes(site: Path) -> int:
    return sum(p.stat().st_size for p in site.rglob("*") if p.is_file())


# ---- the floor ---------------------------------------------------------------------------------

MACRO_CALL = re.compile(r"\{\{.*?\}\}", re.S)


def floor_project(project: Path, name: str) -> Path:
    """Same pages, each top-level macro call replaced by a constant of its output's size, built
    without the macros plugin."""
    record = WORK / f"{name}-macros.jsonl"
    record.unlink(missing_ok=True)
    build(project, {**ENV, "FUPAN_RECORD_MACROS": str(record)})
    sizes: dict[str, list[int]] = {}
    for line in record.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        sizes.setdefault(item["page"], []).append(item["chars"])
    floor = WORK / name
    shutil.rmtree(floor, ignore_errors=True)
    shutil.copytree(project / "docs", floor / "docs")
    (floor / "macros").symlink_to(REPO / "macros")
    (floor / "data").symlink_to((project / "data").resolve())  # mkdocs.yml watches data/
    for page in (floor / "docs").rglob("*.md"):
        rel = page.relative_to(floor / "docs").as_posix()
        constants = ['<div class="floor">' + "x" * chars + "</div>" for chars in sizes.get(rel, [])]
        parts = MACRO_CALL.split(page.read_text(encoding="utf-8"))
        text = parts[0] + "".join(
            (constants[i] if i < len(constants) else "") + part for i, part in enumerate(parts[1:]))
        page.write_text(text, encoding="utf-8")
    config = (project / "mkdocs.yml").read_text(encoding="utf-8")
    config = re.sub(r"  - macros:\n(?:      .*\n)+", "", config)
    (floor / "mkdocs.yml").write_text(config, encoding="utf-8")
    return floor


# ---- one size ------------------------------------------------------------------------------------

def bench_project(project: Path, runs: int, edit_page: str) -> dict:
    cold, warm, data_change, rss = [], [], [], []
    page = project / "docs" / edit_page
    original = page.read_text(encoding="utf-8")
    products = project / "data" / "products.csv"
    products_text = products.read_bytes()
    for i in range(runs):
        shutil.rmtree(project / ".cache", ignore_errors=True)
        result = build(project)
        cold.append(result["seconds"])
        rss.append(result["peak_rss_mib"])
        page.write_text(original + f"\n\n编辑第 {i + 1} 次。\n", encoding="utf-8")
        result = build(project)
        warm.append(result["seconds"])
        rss.append(result["peak_rss_mib"])
        page.write_text(original, encoding="utf-8")
        lines = products_text.decode("utf-8").split("\n")
        lines[1] = lines[1].replace(",", f",改{i}", 1)  # rename the first product
        products.write_text("\n".join(lines), encoding="utf-8")
        result = build(project)
        data_change.append(result["seconds"])
        rss.append(result["peak_rss_mib"])
        products.write_bytes(products_text)
    build(project)  # leave a warm cache and a cold-equivalent site for the page weights
    return {"cold_s": _median(cold), "warm_s": _median(warm), "data_change_s": _median(data_change),
            "peak_rss_mib": max(rss), "runs": {"cold": cold, "warm": warm, "data_change": data_change}}


def bench_floor(project: Path, name: str, runs: int) -> dict:
    floor = floor_project(project, name)
    times = [build(floor)["seconds"] for _ in range(runs)]
    return {"floor_s": _median(times), "floor_runs": times}


def bench_size(size: int, runs: int, full_review: bool, review_runs: int | None = None) -> dict:
    data = generate(size)
    result: dict = {"orders": size, "data_bytes": sum(p.stat().st_size for p in data.iterdir() if p.is_file())}
    generation = data / ".generation.json"
    if generation.exists():
        result["generation"] = json.loads(generation.read_text())
    mini = make_project(f"mini-{size}", MINISITE, minisite_data(data))
    result["minisite"] = bench_project(mini, runs, "index.md")
    result["minisite"].update(bench_floor(mini, f"mini-{size}-floor", runs))
    result["minisite"]["pages"] = page_weights(mini / "site")
    result["minisite"]["site_bytes"] = site_bytes(mini / "site")
    if full_review:
        review = make_project(f"review-{size}", REPO, data)
        if review_runs is None:
            review_runs = max(1, runs if size <= 1_000_000 else 1)
        result["review"] = bench_project(review, review_runs, "index.md")
        result["review"].update(bench_floor(review, f"review-{size}-floor", max(1, min(runs, 2))))
        result["review"]["pages"] = page_weights(review / "site")
        result["review"]["site_bytes"] = site_bytes(review / "site")
    return result


def sample_site(runs: int) -> dict:
    """The repo's own site on its committed sample data, against its floor."""
    project = make_project("sample", REPO, REPO / "data")
    (project / "data").unlink()
    shutil.copytree(REPO / "data", project / "data")  # the data-change run edits a file
    out = bench_project(project, runs, "index.md")
    out.update(bench_floor(project, "sample-floor", runs))
    out["pages"] = page_weights(project / "site")
    out["site_bytes"] = site_bytes(project / "site")
    return out


def ratios(block: dict) -> dict:
    floor = block["floor_s"]
    return {k: round(block[k] / floor, 2) for k in ("cold_s", "warm_s", "data_change_s")}


# ---- two checkouts, interleaved -----------------------------------------------------------------

def ab_project(name: str, checkout: Path, site_source: Path, data: Path) -> Path:
    """A project whose pages, settings and macros come from `checkout` (same data for both)."""
    project = WORK / name
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    shutil.copy(site_source / "mkdocs.yml", project / "mkdocs.yml")
    shutil.copytree(site_source / "docs", project / "docs")
    (project / "macros").symlink_to(checkout / "macros")
    (project / "data").symlink_to(data)
    return project


def bench_ab(size: int, other: Path, runs: int) -> dict:
    """Cold and warm builds of the mini-site and the whole review, this code against `other`'s."""
    data = generate(size)
    other_python = str(other / ".venv" / "bin" / "python")
    out: dict = {"orders": size, "other": str(other)}
    sites = (("minisite", MINISITE, other / "bench" / "minisite", minisite_data(data)),
             ("review", REPO, other, data))
    for label, ours, theirs, folder in sites:
        builds = {"new": (ab_project(f"ab-new-{label}-{size}", REPO, ours, folder), PYTHON),
                  "old": (ab_project(f"ab-old-{label}-{size}", other, theirs, folder), other_python)}
        times: dict = {f"{code}_{kind}": [] for code in builds for kind in ("cold", "warm")}
        for i in range(runs):
            order = ["old", "new"] if i % 2 == 0 else ["new", "old"]
            for kind in ("cold", "warm"):
                for code in order:
                    project, python = builds[code]
                    page = project / "docs" / "index.md"
                    original = page.read_text(encoding="utf-8")
                    if kind == "cold":
                        shutil.rmtree(project / ".cache", ignore_errors=True)
                    else:
                        page.write_text(original + f"\n\n编辑第 {i + 1} 次。\n", encoding="utf-8")
                    command = [python, "-m", "mkdocs", "build", "-q", "-d", str(project / "site")]
                    times[f"{code}_{kind}"].append(run_measured(command, project)["seconds"])
                    page.write_text(original, encoding="utf-8")
        medians = {k: _median(v) for k, v in times.items()}
        out[label] = {"medians_s": medians, "runs_s": times,
                      "new_over_old": {kind: round(medians[f"new_{kind}"] / medians[f"old_{kind}"], 3)
                                       for kind in ("cold", "warm")}}
        print(json.dumps({label: out[label]["medians_s"], "new_over_old": out[label]["new_over_old"]}), flush=True)
    return out


def layout_data(data: Path, preset: str) -> Path:
    """The generated sample with its orders and lines as `preset`'s export (written once, reused)."""
    from fupan.sample.layouts import write_layout

    folder = WORK / f"{data.name}-{preset}"
    if (folder / "datasets.yml").exists():
        return folder
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for path in data.iterdir():
        if path.is_file() and path.name not in ("orders.parquet", "order_lines.parquet", "datasets.yml"):
            (tmp / path.name).symlink_to(path)
    started = time.perf_counter()
    exports = write_layout(preset, data, tmp)
    print(f"  wrote the {preset} layout in {time.perf_counter() - started:.0f} s", flush=True)
    import yaml

    contract = yaml.safe_load((data / "datasets.yml").read_text(encoding="utf-8"))
    for name in ("orders", "order_lines"):
        del contract["datasets"][name]
    contract["exports"] = exports
    (tmp / "datasets.yml").write_text(yaml.safe_dump(contract, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.rename(folder)
    return folder


def bench_layout(size: int, preset: str, runs: int, other: Path | None = None) -> dict:
    """Cold builds of the whole review from `preset`'s layout and from the canonical files; with
    `other` (a checkout), also from the layout with that checkout's code (its `macros` first on
    the import path), every run building each project in turn, the order reversed every other run."""
    data = generate(size)
    layout = layout_data(data, preset)
    projects = {"canonical": make_project(f"layout-canonical-{size}", REPO, data),
                preset: make_project(f"layout-{preset}-{size}", REPO, layout)}
    envs: dict[str, dict | None] = {name: None for name in projects}
    if other is not None:
        name = f"{preset} (other code)"
        projects[name] = ab_project(f"layout-{preset}-other-{size}", other, other, layout)
        envs[name] = {**ENV, "PYTHONPATH": str(other / "macros")}
    times: dict[str, list[float]] = {name: [] for name in projects}
    cpu: dict[str, list[float]] = {name: [] for name in projects}
    for i in range(runs):
        for name in (list(projects) if i % 2 == 0 else list(reversed(projects))):
            shutil.rmtree(projects[name] / ".cache", ignore_errors=True)
            result = build(projects[name], envs[name])
            times[name].append(result["seconds"])
            cpu[name].append(result["cpu_s"])
    medians = {name: _median(values) for name, values in times.items()}
    # Each run's two builds ran back to back: the median of their ratios is less moved by the
    # machine's drift over the runs than the ratio of the medians.
    pairs = [layout / canonical for layout, canonical in zip(times[preset], times["canonical"], strict=True)]
    out = {"orders": size, "preset": preset, "cold_runs_s": times, "cold_medians_s": medians,
           "layout_over_canonical": round(medians[preset] / medians["canonical"], 3),
           "layout_over_canonical_per_run": [round(r, 3) for r in pairs],
           "layout_over_canonical_median_of_runs": _median(pairs),
           "cold_cpu_s": cpu, "cpu_layout_over_canonical": round(_median(cpu[preset]) / _median(cpu["canonical"]), 3)}
    if other is not None:
        out["other"] = str(other)
        out["other_layout_over_canonical"] = round(medians[f"{preset} (other code)"] / medians["canonical"], 3)
        out["layout_over_other_layout"] = round(medians[preset] / medians[f"{preset} (other code)"], 3)
    print(json.dumps({k: v for k, v in out.items() if k != "cold_runs_s"}), flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--with-100m", action="store_true", help="add 100,000,000 orders")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--full-review", action="store_true", help="also build the whole review per size")
    parser.add_argument("--review-runs", type=int, default=None,
                        help="runs of the whole review (default: --runs up to 1M orders, 1 above)")
    parser.add_argument("--no-sample-site", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--ab", type=Path, default=None, metavar="CHECKOUT",
                        help="compare with another checkout's code (its .venv), interleaved")
    parser.add_argument("--layout", default=None, metavar="PRESET",
                        help="the whole review cold from a platform's export layout against the canonical files")
    args = parser.parse_args()
    sizes = list(args.sizes) + ([100_000_000] if args.with_100m else [])
    WORK.mkdir(parents=True, exist_ok=True)
    report: dict = {"date": dt.date.today().isoformat(), "machine": {"cpus": os.cpu_count(),
                                                                      "python": sys.version.split()[0]},
                    "runs": args.runs, "sizes": []}
    if args.layout is not None:
        other = args.ab.resolve() if args.ab is not None else None
        report["layout"] = [bench_layout(size, args.layout, args.runs, other) for size in sizes]
        out = args.out or BENCH / "results" / f"{report['date']}-layout-{args.layout}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out}")
        return 0
    if args.ab is not None:
        report["ab"] = [bench_ab(size, args.ab.resolve(), args.runs) for size in sizes]
        out = args.out or BENCH / "results" / f"{report['date']}-ab.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out}")
        return 0
    if not args.no_sample_site:
        print("sample site …", flush=True)
        report["sample_site"] = sample_site(args.runs)
        report["sample_site"]["ratios_to_floor"] = ratios(report["sample_site"])
        print(json.dumps({k: v for k, v in report["sample_site"].items() if k not in ("pages", "runs")}), flush=True)
    for size in sizes:
        print(f"{size:,} orders …", flush=True)
        entry = bench_size(size, args.runs, args.full_review, args.review_runs)
        entry["minisite"]["ratios_to_floor"] = ratios(entry["minisite"])
        if "review" in entry:
            entry["review"]["ratios_to_floor"] = ratios(entry["review"])
        report["sizes"].append(entry)
        print(json.dumps({k: v for k, v in entry["minisite"].items() if k not in ("pages", "runs")}), flush=True)
    out = args.out or BENCH / "results" / f"{report['date']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
