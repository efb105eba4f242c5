"""Caches verify what they read, and data files are recognised by their content (issue 21,
items 2 and 3).

One tiny project is built clean once; every other build of it must give the same site byte for
byte: after every cached file of every kind was truncated, zeroed or overwritten with garbage
(or only the seals beside the Parquet files were), and with a cache folder that cannot be
written. An edit of a data file in place that keeps its size and its modification time must
change the site.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import STUB_PAGES, run_build
from fupan.speed.cache import (
    KINDS,
    SEAL_SUFFIX,
    file_digest,
    read_sealed,
    sealed_file_ok,
    write_atomically,
)

DAMAGED = re.compile(r"fupan: damaged cache file made again: .* \((?P<kind>[a-z-]+)\) (?P<path>\S+): ")


def _site(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def _cached_files(project: Path, user_cache: Path) -> dict[str, list[Path]]:
    """Every cached file by kind (the seals beside Parquet files under their file's kind)."""
    found: dict[str, list[Path]] = {}
    for root in (project / ".cache" / "fupan", user_cache / "fupan"):
        for kind_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            files = sorted(p for p in kind_dir.rglob("*") if p.is_file())
            if files:
                found[kind_dir.name] = files
    return found


def _damage(path: Path, mode: str, seed: int) -> None:
    data = path.read_bytes()
    if mode == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif mode == "zero":
        path.write_bytes(bytes(len(data)))
    else:  # garbage of the same length
        path.write_bytes(random.Random(seed).randbytes(len(data)))


class Project:
    def __init__(self, root: Path):
        self.root = root
        self.project = root / "project"
        self.user_cache = root / "usercache"
        self.builds = 0

    def build(self) -> tuple[dict[str, bytes], str]:
        self.builds += 1
        site = self.root / f"site{self.builds}"
        done = run_build(self.project, site, extra_env={"XDG_CACHE_HOME": str(self.user_cache)})
        log = done.stdout + done.stderr
        assert done.returncode == 0, log[-4000:]
        assert "Traceback" not in log
        return _site(site), log


@pytest.fixture(scope="module")
def clean(tiny_project_factory, tmp_path_factory) -> tuple[Project, dict[str, bytes]]:
    """The tiny project, built once from empty caches: the site every other build must give."""
    project = tiny_project_factory("integrity", docs=STUB_PAGES)
    settings = project / "mkdocs.yml"  # the tiny shop's 3 buyers: show its products by name
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("    locale: zh-CN\n", "    locale: zh-CN\n    min_group_size: 1\n", 1),
                        encoding="utf-8")
    assert "min_group_size: 1" in settings.read_text(encoding="utf-8")
    built = Project(project.parent)
    site, log = built.build()
    assert "damaged cache file" not in log
    return built, site


@pytest.mark.parametrize("mode", ["truncate", "zero", "garbage", "seals"])
def test_damaged_caches_are_made_again_and_never_reach_the_site(clean, mode):
    built, expected = clean
    cached = _cached_files(built.project, built.user_cache)
    # What the build keeps: the review's and the user's caches, every kind it uses.
    assert {"results", "macros", "models", "svg", "staged", "tidy", "validation", "validation-counts",
            "pages", "search", "jinja", "jieba", "vega"} <= set(cached)
    damaged: dict[str, list[Path]] = {}
    for kind, files in cached.items():
        for i, path in enumerate(files):
            is_seal = path.name.endswith(SEAL_SUFFIX)
            if (mode == "seals") != is_seal:
                continue
            _damage(path, "garbage" if mode == "seals" else mode, i)
            damaged.setdefault(kind, []).append(path)
    if mode == "seals":
        # Only the Parquet files DuckDB reads have seals beside them; they are read when queries
        # run, so the kept results and macro outputs go (gone, not damaged: nothing to say).
        assert set(damaged) == {"models", "staged"}
        for kind in ("results", "macros", "validation", "validation-counts"):
            shutil.rmtree(built.project / ".cache" / "fupan" / kind)
    site, log = built.build()
    assert site == expected
    found: dict[str, set[str]] = {}
    for match in DAMAGED.finditer(log):
        found.setdefault(match["kind"], set()).add(match["path"])
    # Every kind is read by a build whose caches are all damaged, and each says what it made again.
    assert set(found) == set(damaged), log[-3000:]
    for kind, paths in found.items():
        shown = {str(p) for p in damaged[kind]}
        if mode == "seals":  # the seal is damaged: the file it seals is made again
            shown = {p[: -len(SEAL_SUFFIX)] for p in shown}
        assert paths <= shown, kind
        for path in map(Path, paths):  # made again sound, or (an entry no page needed) gone
            if path.suffix == ".parquet":
                assert sealed_file_ok(path) or not path.exists(), path
            else:
                assert read_sealed(path) is not None or not path.exists(), path


def test_edit_in_place_keeping_size_and_mtime_changes_the_site(clean):
    built, expected = clean
    products = built.project / "data" / "products.csv"
    original = products.read_bytes()
    stat = products.stat()
    edited = original.replace("坚果礼盒".encode(), "核桃礼盒".encode())
    assert edited != original and len(edited) == len(original)
    try:
        with products.open("r+b") as fh:  # in place: same file, same size
            fh.write(edited)
        os.utime(products, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert (products.stat().st_size, products.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
        site, _ = built.build()
        page = site["chapters/03-products/index.html"].decode()
        assert "核桃礼盒" in page and "坚果礼盒" not in page
        assert "坚果礼盒" in expected["chapters/03-products/index.html"].decode()
    finally:
        products.write_bytes(original)
        os.utime(products, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _read_only(folder: Path) -> list[str]:
    """Make `folder` read-only for this process: a read-only bind mount for root (whom file
    modes do not stop), the modes otherwise. Returns the command that undoes it."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)], check=True)
        return ["umount", str(folder)]
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555)
    return ["chmod", "-R", "u+w", str(folder)]


def test_read_only_cache_folders_are_bypassed_with_a_warning(clean):
    built, expected = clean
    folders = [built.project / ".cache" / "fupan", built.user_cache / "fupan"]
    before = {folder: {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} for folder in folders}
    undo = []
    try:
        for folder in folders:
            undo.append(_read_only(folder))
        with pytest.raises(OSError):
            (folders[0] / "probe").write_text("x")
        site, log = built.build()
    finally:
        for command in undo:
            subprocess.run(command, check=True)
    assert site == expected
    for folder in folders:
        assert f"fupan warning (does not stop the build): the cache folder {folder} cannot be written" in log
        assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before[folder]
    assert "data/" not in "\n".join(line for line in log.splitlines() if "cache folder" in line)


def test_a_file_in_place_of_the_cache_folder_is_bypassed_with_a_warning(clean):
    built, expected = clean
    cache = built.project / ".cache" / "fupan"
    kept = built.root / "kept-cache"
    cache.rename(kept)
    try:
        cache.write_text("not a folder", encoding="utf-8")
        site, log = built.build()
        assert cache.read_text(encoding="utf-8") == "not a folder"
    finally:
        cache.unlink()
        kept.rename(cache)
    assert site == expected
    assert f"the cache folder {cache} cannot be written" in log


# ---- the seal itself ---------------------------------------------------------------------------

def test_sealed_entries_round_trip_and_any_damage_is_caught(tmp_path, caplog):
    entry = tmp_path / "results" / "ab" / "x.json"
    write_atomically(entry, '{"rows": [[1]]}')
    assert read_sealed(entry) == b'{"rows": [[1]]}'
    sealed = entry.read_bytes()
    for damaged in (sealed[:-1], sealed + b" ", sealed.replace(b"[[1]]", b"[[2]]"), b"", b"\0" * len(sealed),
                    b'{"rows": [[1]]}'):  # shortened, lengthened, same length changed, empty, zeroed, unsealed
        entry.write_bytes(damaged)
        caplog.clear()
        with caplog.at_level("INFO", logger="mkdocs.plugins.fupan"):
            assert read_sealed(entry) is None
        assert not entry.exists()  # removed, so the entry is made again
        assert [r.getMessage() for r in caplog.records] == [
            f"fupan: damaged cache file made again: query results (JSON) (results) {entry}: "
            + caplog.records[0].getMessage().rsplit(": ", 1)[1]]
    assert read_sealed(tmp_path / "missing.json") is None  # missing: nothing to say


def test_a_file_written_by_another_program_is_sealed_beside_it(tmp_path):
    target = tmp_path / "models" / "m.parquet"
    write_atomically(target, lambda tmp: tmp.write_bytes(b"PAR1 rows PAR1"))
    seal = target.with_name(target.name + SEAL_SUFFIX)
    assert target.read_bytes() == b"PAR1 rows PAR1"  # the file itself is as written
    assert seal.read_bytes() == b"fupan-sealed 14 " + file_digest(target).encode() + b"\n"
    assert sealed_file_ok(target)
    target.write_bytes(b"PAR1 rowz PAR1")  # same length, other content
    assert not sealed_file_ok(target) and not target.exists() and not seal.exists()
    assert not sealed_file_ok(target)  # missing: made by the caller


def test_file_digest_is_of_the_content_only(tmp_path):
    one, two = tmp_path / "a.csv", tmp_path / "b.csv"
    one.write_bytes(b"sku,name\nP1,x\n")
    two.write_bytes(b"sku,name\nP1,y\n")
    os.utime(two, ns=(one.stat().st_atime_ns, one.stat().st_mtime_ns))
    assert file_digest(one) != file_digest(two)
    shutil.copy(one, two)
    assert file_digest(one) == file_digest(two)
    assert set(KINDS) >= {"staged", "models", "svg", "vega"} and "hashes" not in KINDS


def test_damaged_derived_files_are_derived_again(tmp_path):
    """The derivation from a shop's exports (kind `derived`): its report and each derived file."""
    import tiny_exports as te
    from test_intake_shapes import make_export_project

    project = make_export_project(tmp_path / "lines", te.write_lines_shape)
    env = {"XDG_CACHE_HOME": str(tmp_path / "usercache")}
    first = run_build(project, tmp_path / "site1", extra_env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    derived = sorted(p for p in (project / ".cache" / "fupan" / "derived").rglob("*") if p.is_file())
    assert {p.name for p in derived} >= {"intake.json", "orders.parquet", "order_lines.parquet",
                                         "orders.parquet" + SEAL_SUFFIX}
    damaged = set()
    for i, path in enumerate(derived):
        if not path.name.endswith(SEAL_SUFFIX):
            _damage(path, ("truncate", "zero", "garbage")[i % 3], i)
            damaged.add(path.name)
    for kind in ("results", "macros", "validation"):  # so that the build reads the data again
        shutil.rmtree(project / ".cache" / "fupan" / kind, ignore_errors=True)
    second = run_build(project, tmp_path / "site2", extra_env=env)
    log = second.stdout + second.stderr
    assert second.returncode == 0, log[-3000:]
    assert _site(tmp_path / "site2") == _site(tmp_path / "site1")
    named = {Path(m["path"]).name for m in DAMAGED.finditer(log) if m["kind"] == "derived"}
    assert named == damaged  # the report first, then each file where the new derivation goes
    again = sorted(p for p in (project / ".cache" / "fupan" / "derived").rglob("*") if p.is_file())
    assert all(sealed_file_ok(p) for p in again if p.suffix == ".parquet")


def test_a_file_in_place_of_a_kind_folder_is_removed_and_named(tmp_path, caplog):
    from fupan.speed.cache import CacheRoot

    (tmp_path / "svg").write_text("not a folder", encoding="utf-8")
    with caplog.at_level("INFO", logger="mkdocs.plugins.fupan"):
        folder = CacheRoot(tmp_path).dir("svg")
    assert folder == tmp_path / "svg" and not folder.exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"fupan: damaged cache file made again: charts' static SVGs and the fonts they are laid out with (svg) "
        f"{folder}: a file where the folder should be"]
