"""Heavy libraries imported on first use.

A rebuild whose macro outputs all come from the cache (a text edit) never touches pandas, NumPy
or Altair: importing them eagerly was a large fixed cost of every build.
`lazy_import` returns a stand-in at once; the real import runs on the first attribute access,
so module code keeps writing `pd.DataFrame(...)`.

The stand-in is not put in `sys.modules` (as importlib's LazyLoader would): code that walks
every loaded module, reading `__file__` or `__name__`, would otherwise import them all.
"""

from __future__ import annotations

import importlib
from typing import Any


class _Deferred:
    """A module, imported when one of its attributes is first read."""

    def __init__(self, name: str):
        self._deferred_name = name

    def __getattr__(self, attr: str) -> Any:  # only for attributes not found normally
        module = importlib.import_module(self._deferred_name)
        self.__dict__.update(module.__dict__)  # later reads are plain attribute reads
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<deferred module {self._deferred_name!r}>"


def lazy_import(name: str) -> Any:
    """`name`'s module, imported when first used."""
    return _Deferred(name)
