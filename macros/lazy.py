"""Heavy libraries imported on first use.

A rebuild whose macro outputs all come from the cache (a text edit) never touches pandas, NumPy
or Altair: importing them eagerly cost about 1.2 s of every build (measured on the sample site).
`lazy_import` returns the module object at once and runs the real import on the first attribute
access (importlib's LazyLoader), so module code keeps writing `pd.DataFrame(...)`.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_import(name: str) -> ModuleType:
    """`name`'s module, imported when first used (at once if it is already imported)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
