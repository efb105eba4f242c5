"""Publishing a build safely: one build of a project at a time, and an output folder that is
never missing.

- `project_lock`: an exclusive `flock` on the project's cache folder, held for the whole build.
  Two builds of one project (a `fupan serve` rebuild and a CI build, say) share the caches, so
  the second waits for the first, saying so. The kernel drops the lock when its process dies,
  however it dies: no stale lock to clean.
- `BuildDir`: the temporary folder a build writes into, next to the output folder (a rename only
  works within one file system), named after it and `flock`ed while the build runs. A folder
  nobody holds was left by a killed build: `clean_stale` removes it at the start of the next
  build into the same output folder.
- `swap_into_place`: the new site replaces the old one in one step (`renameat2` with
  `RENAME_EXCHANGE` on Linux, `renamex_np` with `RENAME_SWAP` on macOS), so the output path holds
  the old site or the new one at every instant, and stays a plain folder that static hosting,
  `rsync` and CI upload steps read as before. Where no such call exists (other systems, some
  network file systems) it falls back to two renames, and `recover` puts `site.old` back when a
  build died between them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import glob
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fupan.errors import FupanError, Location

TEMP_PREFIX = ".fupan-build-"
_HELD: set[tuple[int, int]] = set()  # (device, inode) of the folders this process holds a lock on


class BuildLocked(FupanError):
    """Another build of the project kept running longer than this one was willing to wait."""


class ExchangeUnsupported(OSError):
    """This system or file system cannot exchange two paths in one step."""


def project_cache_dir(mk_config: Any, config_path: Path) -> Path:
    """The project's cache folder (where its build lock is), also when the settings are wrong
    (the build then reports them)."""
    from fupan.config import review_config

    extra = mk_config.get("extra") or {}
    try:
        return review_config(extra, Path(config_path).parent).cache_dir
    except FupanError:
        review = extra.get("review")
        setting = review.get("cache_dir") if isinstance(review, dict) else None
        return (Path(config_path).parent / str(setting or ".cache/fupan")).resolve()


@contextmanager
def project_lock(cache_dir: Path, wait_seconds: float | None = None,
                 notify: Callable[[str], None] = lambda message: None,
                 poll_seconds: float = 0.2) -> Iterator[bool]:
    """Hold the project's build lock (its cache folder) while the block runs; yields whether it
    is held. When another build holds it, `notify` is told once and the call waits, for ever
    (`wait_seconds=None`) or until `wait_seconds` pass, then raises BuildLocked. A cache folder
    that cannot be created or opened (read-only, a file) gives no lock, with a notice: the build
    itself decides what to do with such a folder."""
    folder = Path(cache_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        notify(f"cannot lock the cache folder {folder} ({exc.strerror or exc}): "
               "other builds of this project are not kept from running at the same time")
        yield False
        return
    try:
        if not _try_lock(fd):
            notify(f"another build of this project is running (it holds {folder}); "
                   "waiting for it to finish (Ctrl+C stops)")
            deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
            while not _try_lock(fd):
                if deadline is not None and time.monotonic() >= deadline:
                    raise BuildLocked(
                        f"another build of this project is still running after {wait_seconds:g} s",
                        location=Location(str(folder)),
                        hint="wait for it to finish (a `fupan serve` rebuild or a CI build), stop it, "
                             "or build with a longer --wait")
                time.sleep(poll_seconds)
        info = os.fstat(fd)
        _HELD.add((info.st_dev, info.st_ino))
        try:
            yield True
        finally:
            _HELD.discard((info.st_dev, info.st_ino))
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def _creating(parent: Path) -> Iterator[None]:
    """Exclusive use of `parent` while a build folder is made and locked, or stale ones are
    looked for: a folder is never seen between its creation and its lock. Skipped when this
    process already locks `parent` as its project lock (a second lock on it would wait for
    itself)."""
    fd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) not in _HELD:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class BuildDir:
    """A build's temporary folder next to the output folder, locked while the build runs."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def create(cls, site_dir: Path) -> BuildDir:
        parent = Path(site_dir).parent
        parent.mkdir(parents=True, exist_ok=True)
        with _creating(parent):
            path = Path(tempfile.mkdtemp(prefix=temp_prefix(site_dir), dir=parent))
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # mkdtemp makes it private (0700); a published site is read by web servers running as
        # another user.
        os.chmod(path, 0o755)
        return cls(path, fd)

    def close(self) -> None:
        """Release the folder (after the swap, or once it is removed)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def discard(self) -> None:
        """Remove the folder (a failed or interrupted build)."""
        remove(self.path)
        self.close()


def temp_prefix(site_dir: Path) -> str:
    """`.fupan-build-<output folder's name>-`: builds into other folders of the same parent (and
    older fupans, whose build folders were never locked) are left alone."""
    return f"{TEMP_PREFIX}{Path(site_dir).name}-"


def clean_stale(site_dir: Path) -> list[Path]:
    """Remove the build folders for `site_dir` that no running build holds (left by builds
    that were killed); returns them."""
    removed: list[Path] = []
    parent = Path(site_dir).parent
    if not parent.is_dir():
        return removed
    with _creating(parent):
        for path in sorted(parent.glob(glob.escape(temp_prefix(site_dir)) + "*")):
            if path.is_dir() and not path.is_symlink():
                try:
                    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
                except OSError:
                    continue
                try:
                    if not _try_lock(fd):
                        continue  # a build is writing into it
                finally:
                    os.close(fd)
            remove(path)
            if not os.path.lexists(path):  # another user's folder may not be ours to remove
                removed.append(path)
    return removed


def recover(target: Path) -> bool:
    """After a build that died between the fallback's two renames, put `<target>.old` back in
    place (or remove it when `target` is there); returns whether the old site was restored."""
    target = Path(target)
    old = target.with_name(target.name + ".old")
    if not os.path.lexists(old):
        return False
    if os.path.lexists(target):
        remove(old)
        return False
    os.rename(old, target)
    return True


def swap_into_place(built: Path, target: Path) -> None:
    """Publish `built` at `target`: `target` holds the old site or the new one at every instant
    (see the module's docstring), and everything in it is world-readable."""
    built, target = Path(built), Path(target)
    make_world_readable(built)
    if not os.path.lexists(target):
        os.rename(built, target)
        return
    try:
        exchange(built, target)
    except ExchangeUnsupported:
        old = target.with_name(target.name + ".old")
        if os.path.lexists(old):
            remove(old)
        os.rename(target, old)
        os.rename(built, target)  # until here, recover() puts the old site back
        remove(old)
        return
    remove(built)  # the old site, now at the build folder's path


def make_world_readable(root: Path) -> None:
    """Folders readable and enterable by everyone, files readable by everyone (whatever the
    umask of the process that wrote them)."""
    _add_mode(Path(root), 0o755)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            _add_mode(Path(folder, name), 0o755)
        for name in files:
            _add_mode(Path(folder, name), 0o644)


def _add_mode(path: Path, bits: int) -> None:
    info = os.lstat(path)
    if not stat.S_ISLNK(info.st_mode) and stat.S_IMODE(info.st_mode) & bits != bits:
        os.chmod(path, stat.S_IMODE(info.st_mode) | bits)


def remove(path: Path) -> None:
    """Remove a folder tree, a file or a symlink (never what a symlink points to)."""
    if os.path.islink(path) or os.path.isfile(path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    else:
        shutil.rmtree(path, ignore_errors=True)


RENAME_EXCHANGE = 2  # linux/fs.h
RENAME_SWAP = 2  # macOS sys/stdio.h
_AT_FDCWD = -100


def exchange(first: Path, second: Path) -> None:
    """Swap what two paths name, atomically; ExchangeUnsupported where the system or the file
    system cannot."""
    call = _exchange_call()
    if call is None:
        raise ExchangeUnsupported(errno.ENOSYS, "no atomic exchange on this system")
    a, b = os.fsencode(first), os.fsencode(second)
    if sys.platform.startswith("linux"):
        result = call(_AT_FDCWD, a, _AT_FDCWD, b, RENAME_EXCHANGE)
    else:
        result = call(a, b, RENAME_SWAP)
    if result != 0:
        code = ctypes.get_errno()
        if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise ExchangeUnsupported(code, os.strerror(code), str(first))
        raise OSError(code, os.strerror(code), str(first), None, str(second))


_CALL: list = []


def _exchange_call():
    """libc's renameat2 (Linux, glibc 2.28+ or musl) or renamex_np (macOS), or None."""
    if not _CALL:
        name = "renameat2" if sys.platform.startswith("linux") else "renamex_np"
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            function = getattr(libc, name)
        except (OSError, AttributeError):
            function = None
        if function is not None:
            function.restype = ctypes.c_int
            if name == "renameat2":
                function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            else:
                function.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
        _CALL.append(function)
    return _CALL[0]
