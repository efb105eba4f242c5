"""fupan's mkdocs-macros module: registers the writer macros, nothing else.

mkdocs-macros calls `define_env` once per build, before any page renders; building the review
context there checks the settings, the data contract, the data and the metric catalogue first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def define_env(env: Any) -> None:
    """Build the review context and register every writer macro."""
    from .context import build_review
    from .writer import make_macros

    project_dir = Path(env.conf["config_file_path"]).parent
    review = build_review(env.conf.get("extra") or {}, project_dir)
    review.env = env
    for name, macro in make_macros(review).items():
        env.macro(macro, name)
