"""Where a build comes from: git commit, data fingerprint, and a reproducible build time.

The build time is never the clock: it is SOURCE_DATE_EPOCH when set, else the time of the
current git commit, so identical inputs give identical HTML (MkDocs' sitemap reads the same
variable, which is set here when missing).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Provenance:
    commit: str | None
    build_time: dt.datetime | None  # UTC


def _git(project_dir: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=project_dir, capture_output=True, text=True,
                                timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def provenance(project_dir: Path) -> Provenance:
    """Commit and build time; sets SOURCE_DATE_EPOCH from the commit when it is not set."""
    commit = _git(project_dir, "rev-parse", "--short=10", "HEAD")
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        epoch = _git(project_dir, "log", "-1", "--format=%ct")
        if epoch:
            os.environ["SOURCE_DATE_EPOCH"] = epoch
    build_time = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC) if epoch and epoch.isdigit() else None
    return Provenance(commit=commit, build_time=build_time)


def last_change(project_dir: Path, files: list[Path]) -> str | None:
    """Date of the last commit touching the files (file mtimes differ per clone, so not used)."""
    if not files:
        return None
    return _git(project_dir, "log", "-1", "--format=%cs", "--", *[str(f) for f in files])
