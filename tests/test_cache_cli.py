"""`fupan cache`: every cache under one root per kind, listed with real counts, cleared by kind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import build_env, run_build
from fupan.errors import FupanError
from fupan.speed.cache import KINDS, CacheRoot, UnknownCacheKind, cache_key, write_atomically

PROJECT_KINDS = [k.name for k in KINDS.values() if not k.user]
USER_KINDS = [k.name for k in KINDS.values() if k.user]


def _fupan(project: Path, user_cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    fupan = Path(sys.executable).with_name("fupan")
    exe = [str(fupan)] if fupan.exists() else [sys.executable, "-m", "fupan"]
    return subprocess.run([*exe, *args], cwd=project, env={**build_env(), "XDG_CACHE_HOME": str(user_cache)},
                          capture_output=True, text=True, timeout=300, check=False)


def _files(folder: Path) -> dict[str, int]:
    """Every file under `folder` (relative path → size), listed with os.walk."""
    found = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = Path(parent) / name
            found[path.relative_to(folder).as_posix()] = path.stat().st_size
    return found


def _listed(output: str) -> dict[str, tuple[int, str]]:
    """`fupan cache` lines → kind: (files, folder)."""
    rows = {}
    for match in re.finditer(r"^  (\S+)\s+(\d+) files?\s+[\d.]+ [KMG]?B  (\S+)$", output, re.MULTILINE):
        rows[match.group(1)] = (int(match.group(2)), match.group(3))
    return rows


def _site(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tiny_project_factory, tmp_path_factory):
    """A tiny project built once, with its own user cache folder."""
    project = tiny_project_factory("cachecli")
    user_cache = tmp_path_factory.mktemp("usercache")
    site = project.parent / "site1"
    done = run_build(project, site, extra_env={"XDG_CACHE_HOME": str(user_cache)})
    assert done.returncode == 0, done.stderr[-3000:]
    return project, user_cache, site


def test_cache_key_is_one_hash_of_all_its_parts():
    assert cache_key("ab", "c") != cache_key("a", "bc")  # parts never run together
    assert cache_key({"b": 1, "a": [2, 3]}) == cache_key({"a": [2, 3], "b": 1})  # canonical JSON
    assert cache_key("x") == cache_key(b"x") != cache_key(["x"])
    assert re.fullmatch(r"[0-9a-f]{64}", cache_key(1, None, 2.5))


def test_cache_root_knows_its_kinds(tmp_path):
    assert CacheRoot(tmp_path).dir("results") == tmp_path / "results"
    assert CacheRoot(tmp_path, user=True).dir("vega") == tmp_path / "vega"
    with pytest.raises(UnknownCacheKind, match="valid kinds: results, macros") as info:
        CacheRoot(tmp_path).dir("resluts")
    assert isinstance(info.value, FupanError)  # a user's mistake: the one error base, with a hint
    assert info.value.hint is not None and info.value.hint.startswith("valid kinds: results, macros")
    with pytest.raises(UnknownCacheKind, match="add --user"):
        CacheRoot(tmp_path).dir("jinja")


def test_write_atomically_through_a_writer_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "models" / "m.parquet"
    write_atomically(target, lambda tmp: tmp.write_bytes(b"rows"))
    assert target.read_bytes() == b"rows"

    def broken(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(target, broken)
    assert target.read_bytes() == b"rows"
    # the temporary file is gone; the seal of the file written first stays beside it
    assert sorted(target.parent.iterdir()) == [target, target.with_name("m.parquet.seal")]


def test_show_lists_every_kind_with_its_real_counts(built):
    project, user_cache, _ = built
    done = _fupan(project, user_cache, "cache")
    assert done.returncode == 0, done.stderr
    listed = _listed(done.stdout)
    assert list(listed) == PROJECT_KINDS + USER_KINDS
    roots = {**{k: project / ".cache" / "fupan" for k in PROJECT_KINDS},
             **{k: user_cache / "fupan" for k in USER_KINDS}}
    for kind, (files, folder) in listed.items():
        assert Path(folder) == roots[kind] / kind
        assert files == len(_files(roots[kind] / kind)), kind
    # The build filled the caches it uses (the tiny project has no CSV/Excel file to stage).
    for kind in ("results", "macros", "models", "svg", "validation", "validation-counts",
                 "pages", "search", "jinja", "jieba", "vega"):
        assert listed[kind][0] > 0, kind
    # Nothing is kept outside the registered kinds' folders.
    assert {p.name for p in (project / ".cache" / "fupan").iterdir()} <= set(PROJECT_KINDS)
    assert {p.name for p in (user_cache / "fupan").iterdir()} <= set(USER_KINDS)
    assert "fupan cache [show]" in _fupan(project, user_cache, "--help").stdout


def test_clear_results_removes_only_them_and_the_next_build_is_the_same(built):
    project, user_cache, site = built
    root = project / ".cache" / "fupan"
    before = {kind: _files(root / kind) for kind in PROJECT_KINDS if kind != "results"}
    results = _files(root / "results")
    assert results
    done = _fupan(project, user_cache, "cache", "clear", "results")
    assert done.returncode == 0, done.stderr
    assert f"removed results ({len(results)} files" in done.stdout
    assert not (root / "results").exists()
    assert {kind: _files(root / kind) for kind in before} == before

    again = project.parent / "site2"
    rebuilt = run_build(project, again, extra_env={"XDG_CACHE_HOME": str(user_cache)})
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert _site(again) == _site(site)  # every macro output came from its cache: no query ran

    done = _fupan(project, user_cache, "cache", "clear", "macros", "results")
    assert done.returncode == 0, done.stderr
    assert not (root / "macros").exists() and not (root / "results").exists()
    third = project.parent / "site3"
    rebuilt = run_build(project, third, extra_env={"XDG_CACHE_HOME": str(user_cache)})
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert _site(third) == _site(site)
    # The queries ran again (not all the same ones: with the models stored, some are answered
    # from cheaper queries).
    assert len(set(_files(root / "results")) & set(results)) > len(results) // 2


def test_clear_user_kind_and_unknown_kinds(built):
    project, user_cache, _ = built
    vega = _files(user_cache / "fupan" / "vega")
    jieba = _files(user_cache / "fupan" / "jieba")
    assert vega and jieba

    unknown = _fupan(project, user_cache, "cache", "clear", "results", "nonsense")
    assert unknown.returncode == 1
    assert "unknown project cache kind 'nonsense'" in unknown.stderr
    assert "valid kinds: " + ", ".join(PROJECT_KINDS) in unknown.stderr
    assert "Traceback" not in unknown.stderr
    assert (project / ".cache" / "fupan" / "macros").exists()  # nothing removed on an error

    wrong_root = _fupan(project, user_cache, "cache", "clear", "vega")
    assert wrong_root.returncode == 1 and "add --user" in wrong_root.stderr
    assert _files(user_cache / "fupan" / "vega") == vega

    done = _fupan(project, user_cache, "cache", "clear", "--user", "vega")
    assert done.returncode == 0, done.stderr
    assert f"removed vega ({len(vega)} files" in done.stdout
    assert not (user_cache / "fupan" / "vega").exists()
    assert _files(user_cache / "fupan" / "jieba") == jieba
