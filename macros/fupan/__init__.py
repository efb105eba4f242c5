"""fupan: a shop's data files in, the published website of its year-end review out.

Sub-packages, by concern:

- `fupan.data`: the data contract, reading files into the store, validation, backends;
- `fupan.semantics`: the metric catalogue, periods, the metric engine, analyses;
- `fupan.presentation`: number formatting, the chart theme, charts, HTML components;
- `fupan.site`: the writers' macros, the build context, MkDocs hooks and plugin entry points;
- `fupan.speed`: caches and the other speed tricks, behind seams feature code does not see;
- `fupan.sample`: the fictitious sample company's data.

A review project uses fupan through its own few-line mkdocs-macros module (see `macros/main.py`).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fupan")
except PackageNotFoundError:  # run from a source tree that is not installed
    __version__ = "0+unknown"
