"""Build safety: the published site is never missing, one build of a project runs at a time,
interrupted builds leave no temporary folder and no worker process behind."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import STUB_PAGES, build_env
from conftest import processes_in as _processes_in
from fupan.site import publish
from tiny import make_project

OLD = {"index.html": "old home", "a/page.html": "old a", "old-only.txt": "only in the old site"}
NEW = {"index.html": "new home", "a/page.html": "new a", "b/c/deep.html": "new deep"}


def write_tree(root: Path, files: dict[str, str], mode: int = 0o644) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(mode)
    return root


def read_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*")) if p.is_file()}


# Runs one swap in a fresh process that dies (os._exit, as SIGKILL: no clean-up runs) just before
# its N-th change to the file system: every rename, exchange, chmod, unlink and rmdir it makes.
CRASHING_SWAP = r"""
import os, sys
from pathlib import Path
from fupan.site import publish

built, target, limit, mode = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
calls = 0

def dying(function):
    def wrapper(*args, **kwargs):
        global calls
        if calls == limit:
            os._exit(137)
        calls += 1
        return function(*args, **kwargs)
    return wrapper

for name in ("rename", "replace", "unlink", "rmdir", "chmod", "rmtree"):
    module = __import__("shutil") if name == "rmtree" else os
    setattr(module, name, dying(getattr(module, name)))
if mode == "fallback":
    def no_exchange(first, second):
        raise publish.ExchangeUnsupported(38, "not on this file system")
    publish.exchange = no_exchange
else:
    publish.exchange = dying(publish.exchange)
publish.swap_into_place(built, target)
print(calls)
"""


def _crash_swap(tmp_path: Path, limit: int, mode: str) -> tuple[subprocess.CompletedProcess, Path]:
    parent = tmp_path / f"{mode}-{limit}"
    target = write_tree(parent / "site", OLD)
    built = publish.BuildDir.create(target)  # as a build makes it: 0755, locked
    write_tree(built.path, NEW, mode=0o600)  # as written under umask 077: the swap opens it up
    built.path.chmod(0o700)
    built.close()  # the build's process is the one that dies
    result = subprocess.run([sys.executable, "-c", CRASHING_SWAP, str(built.path), str(target), str(limit), mode],
                            capture_output=True, text=True, timeout=60)
    return result, target


@pytest.mark.parametrize("mode", ["exchange", "fallback"])
def test_a_kill_at_any_step_of_the_swap_leaves_a_complete_site(tmp_path, mode):
    """The swap is killed before each of its file system changes in turn, until one run gets
    through. With the exchange, site/ is the old site or the new one after every kill; with the
    two-rename fallback, it is after the next build's first step (recover). Either way the next
    build's clean-up leaves nothing but site/."""
    if mode == "exchange" and publish._exchange_call() is None:
        pytest.skip("this system has no atomic exchange (the fallback is tested)")
    limit = 0
    while True:
        result, target = _crash_swap(tmp_path, limit, mode)
        if result.returncode == 0:
            break
        assert result.returncode == 137, result.stderr
        if mode == "exchange":
            assert read_tree(target) in (OLD, NEW), f"killed before change {limit}: site/ is incomplete"
        publish.recover(target)  # what the next build does first, under the project's lock
        publish.clean_stale(target)
        assert read_tree(target) in (OLD, NEW), f"killed before change {limit}: site/ is incomplete"
        assert sorted(p.name for p in target.parent.iterdir()) == ["site"], f"killed before change {limit}"
        limit += 1
    # At least 4 chmods (the top folder, 3 files), the swap itself and the old site's removal.
    assert limit >= 6
    assert int(result.stdout) == limit
    assert read_tree(target) == NEW
    assert sorted(p.name for p in target.parent.iterdir()) == ["site"]
    for path in [target, *target.rglob("*")]:
        mode_bits = stat.S_IMODE(path.stat().st_mode)
        wanted = 0o755 if path.is_dir() else 0o644
        assert mode_bits & wanted == wanted, f"{path} is {oct(mode_bits)}: not world-readable"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_the_swap_is_one_exchange_on_linux(tmp_path):
    first = write_tree(tmp_path / "first", OLD)
    second = write_tree(tmp_path / "second", NEW)
    inode_first = first.stat().st_ino
    publish.exchange(first, second)
    assert read_tree(first) == NEW and read_tree(second) == OLD
    assert second.stat().st_ino == inode_first


def test_a_second_build_waits_for_the_lock_or_gives_up_clearly(tmp_path):
    cache = tmp_path / "project" / ".cache" / "fupan"
    held, release = threading.Event(), threading.Event()

    def first_build() -> None:
        with publish.project_lock(cache):
            held.set()
            release.wait(60)

    thread = threading.Thread(target=first_build)
    thread.start()
    assert held.wait(60)
    told: list[str] = []
    with pytest.raises(publish.BuildLocked) as caught:
        with publish.project_lock(cache, wait_seconds=0.3, notify=told.append):
            pytest.fail("two holders of one project's lock")
    assert len(told) == 1 and "another build of this project is running" in told[0]
    assert str(cache) in caught.value.text() and "Hint:" in caught.value.text()

    release.set()
    thread.join()
    told.clear()
    with publish.project_lock(cache, wait_seconds=0, notify=told.append) as locked:
        assert locked
    assert told == []


def test_the_lock_waits_until_the_holder_ends_and_dies_with_it(tmp_path):
    """A second build waits for the first and goes on once it ends, also when it was killed."""
    cache = tmp_path / ".cache" / "fupan"
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, time; from fupan.site.publish import project_lock\n"
                               f"with project_lock({str(cache)!r}):\n"
                               "    print('held', flush=True); time.sleep(600)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        told: list[str] = []

        def kill_soon() -> None:
            while not told:
                time.sleep(0.05)
            holder.kill()

        killer = threading.Thread(target=kill_soon)
        killer.start()
        with publish.project_lock(cache, notify=told.append) as locked:
            assert locked
            assert holder.poll() is not None, "the lock was given while its holder ran"
        killer.join()
        assert len(told) == 1
    finally:
        holder.kill()
        holder.wait()


def test_unreadable_cache_folder_builds_without_the_lock_and_says_so(tmp_path):
    cache = tmp_path / "cache-is-a-file"
    cache.write_text("not a folder")
    told: list[str] = []
    with publish.project_lock(cache, notify=told.append) as locked:
        assert locked is False
    assert len(told) == 1 and str(cache) in told[0] and "not kept from running at the same time" in told[0]


def test_clean_stale_removes_only_folders_no_build_holds(tmp_path):
    site = tmp_path / "site"
    running = publish.BuildDir.create(site)
    assert running.path.name.startswith(".fupan-build-site-")
    left = write_tree(tmp_path / ".fupan-build-site-killed", OLD)
    other_output = write_tree(tmp_path / ".fupan-build-other-killed", OLD)  # another output folder's
    older_fupan = write_tree(tmp_path / ".fupan-build-x1y2z3", OLD)  # unlocked even while it ran
    keep = write_tree(tmp_path / "other", OLD)
    assert publish.clean_stale(site) == [left]
    assert running.path.is_dir() and keep.is_dir() and not left.exists()
    assert other_output.is_dir() and older_fupan.is_dir()
    assert stat.S_IMODE(running.path.stat().st_mode) == 0o755
    running.close()
    assert publish.clean_stale(site) == [running.path]
    assert not running.path.exists()
    assert publish.clean_stale(tmp_path / "other") == [other_output]


def test_recover_puts_the_old_site_back_after_a_kill_between_the_fallback_renames(tmp_path):
    old = write_tree(tmp_path / "site.old", OLD)
    assert publish.recover(tmp_path / "site")
    assert read_tree(tmp_path / "site") == OLD and not old.exists()
    write_tree(tmp_path / "site.old", NEW)
    assert not publish.recover(tmp_path / "site")  # site/ is there: site.old is what was replaced
    assert read_tree(tmp_path / "site") == OLD and not (tmp_path / "site.old").exists()


# ---------------------------------------------------------------------------------------------
# Whole builds in subprocesses


def _fupan(project: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fupan", *args], cwd=project, env=build_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # a short-lived child ended between listing and reading
        return b""


def _wait_until(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


needs_proc = pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="reads processes from /proc")


@needs_proc
def test_twenty_rounds_of_two_builds_at_once(tmp_path):
    """Two builds started together in one checkout, twenty times: each succeeds, the later one
    having said it waited for the other; no temporary folder and no process is left."""
    project = make_project(tmp_path / "p", docs=STUB_PAGES)
    first = _fupan(project, "build")
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-3000:]
    waited = 0
    for round_ in range(20):
        builds = [_fupan(project, "build"), _fupan(project, "build")]
        results = [(b.communicate(timeout=600), b.returncode) for b in builds]
        for (_out, err), code in results:
            assert code == 0 or (code == 1 and "another build of this project is" in err), \
                f"round {round_}: exit {code}\n{err[-3000:]}"
            assert "Traceback" not in err, f"round {round_}:\n{err[-3000:]}"
        waited += sum("another build of this project is running" in err for (_, err), _ in results)
        assert not list(project.glob(".fupan-build-*")), f"round {round_}: temporary folder left"
        assert sorted(p.name for p in project.iterdir()) == [".cache", "data", "docs", "macros", "mkdocs.yml",
                                                              "site"], f"round {round_}"
        assert (project / "site" / "index.html").is_file()
        assert _wait_until(lambda: not _processes_in(project), 30), f"round {round_}: processes left"
    assert waited >= 1  # the builds did meet at the lock


@needs_proc
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_build_leaves_no_folder_and_no_worker(tmp_path, how):
    project = make_project(tmp_path / "p", docs=STUB_PAGES)
    log = tmp_path / "build.log"
    try:
        _interrupted_build(project, log, how)
    finally:  # a worker left by a broken build is this test's to stop
        for pid in _processes_in(project):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _interrupted_build(project: Path, log: Path, how: signal.Signals) -> None:
    # Output to a file: a worker that outlived the build would hold a pipe open.
    with log.open("w", encoding="utf-8") as out:
        build = subprocess.Popen([sys.executable, "-m", "fupan", "build"], cwd=project, env=build_env(),
                                 stdout=out, stderr=out)
    # Cold caches: every chart goes to the SVG worker, which is running when we interrupt.
    workers: list[int] = []

    def worker_running() -> bool:
        workers[:] = [pid for pid in _children(build.pid) if b"multiprocessing" in _command_line(pid)]
        return bool(workers) and bool(list(project.glob(".fupan-build-*")))

    assert _wait_until(worker_running, 300), "the build finished without starting its SVG worker"
    build.send_signal(how)
    build.wait(timeout=120)
    err = log.read_text(encoding="utf-8")
    if how == signal.SIGKILL:
        assert build.returncode == -signal.SIGKILL
    else:
        assert build.returncode == 130, err[-3000:]
        assert "fupan build: interrupted" in err and "Traceback" not in err, err[-3000:]
        assert not list(project.glob(".fupan-build-*")), "temporary folder left by an interrupted build"
    assert _wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 30), \
        "the SVG worker outlived its build"

    again = _fupan(project, "build")
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-3000:]
    if how == signal.SIGKILL:
        assert "removed 1 temporary folder(s) left by interrupted builds" in err
    assert not list(project.glob(".fupan-build-*"))
    assert (project / "site" / "index.html").is_file()
    assert _wait_until(lambda: not _processes_in(project), 30), "processes left after the build"


def test_fupan_build_gives_up_clearly_when_told_not_to_wait(tmp_path):
    """`fupan build --wait 0` while another build holds the project: the tool's own error, the
    old site kept, no temporary folder."""
    project = make_project(tmp_path / "p", docs=STUB_PAGES)
    site = write_tree(project / "site", OLD)
    cache = project / ".cache" / "fupan"
    holder = subprocess.Popen([sys.executable, "-c",
                               "import time; from fupan.site.publish import project_lock\n"
                               f"with project_lock({str(cache)!r}):\n"
                               "    print('held', flush=True); time.sleep(600)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = subprocess.run([sys.executable, "-m", "fupan", "build", "--wait", "0"], cwd=project,
                                env=build_env(), capture_output=True, text=True, timeout=300)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    assert f"fupan build failed; {site} was left as it was." in result.stderr
    assert "another build of this project is running" in result.stderr
    assert f"{cache}: another build of this project is still running after 0 s" in result.stderr
    assert "Hint: wait for it to finish" in result.stderr and "Traceback" not in result.stderr
    assert read_tree(site) == OLD and not list(project.glob(".fupan-build-*"))
