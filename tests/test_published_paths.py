"""Nothing of the build machine is published (issue 19.6): no absolute path, user or host name.

The tiny shop is built with its data folder outside the project, named in mkdocs.yml by its
absolute path, and with the contract naming two files by absolute paths: the orders in a third
folder (outside the project and the data folder) and the traffic file, which is absent (its
section shows a notice naming it).
"""

from __future__ import annotations

import getpass
import shutil
import socket
from pathlib import Path

import pytest
from conftest import run_build
from fupan.site.page_macros import published_path
from tiny import make_project


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("machine")
    project = make_project(root / "project")
    data = root / "shop-data"
    shutil.move(project / "data", data)
    elsewhere = root / "exports"
    elsewhere.mkdir()
    shutil.move(data / "orders.parquet", elsewhere / "orders.parquet")
    contract = data / "datasets.yml"
    text = contract.read_text(encoding="utf-8")
    for name, folder in (("orders.parquet", elsewhere), ("traffic.csv", data)):
        assert text.count(f"path: {name}\n") == 1
        text = text.replace(f"path: {name}\n", f"path: {folder / name}\n")
    contract.write_text(text, encoding="utf-8")
    config = project / "mkdocs.yml"
    settings = config.read_text(encoding="utf-8")
    assert "watch:\n  - data\n" in settings
    settings = settings.replace("watch:\n  - data\n", f"watch:\n  - {data}\n")  # `serve` reloads on data changes
    config.write_text(settings.replace("    currency: CNY\n", f"    currency: CNY\n    data_dir: {data}\n"),
                      encoding="utf-8")
    site = root / "site"
    result = run_build(project, site, timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    return root, site


def _site_text(site: Path):
    for path in sorted(site.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".xml", ".json", ".csv", ".svg", ".txt"):
            yield path, path.read_text(encoding="utf-8", errors="replace")


def test_no_absolute_path_of_the_build_machine(built):
    root, site = built
    secrets = {str(root), str(root.resolve()), str(Path.home())}
    for path, text in _site_text(site):
        for secret in secrets:
            assert secret not in text, f"{path.relative_to(site)} publishes {secret}"
        assert "data//" not in text, f"{path.relative_to(site)} glues data/ to an absolute path"


def test_no_user_or_host_name(built):
    _, site = built
    # Names this short (root, vm) are common words of any page: only distinctive ones are looked for.
    names = {n for n in (getpass.getuser(), socket.gethostname()) if len(n) >= 5}
    for path, text in _site_text(site):
        for name in names:
            assert name not in text, f"{path.relative_to(site)} publishes {name}"


def test_the_data_sources_name_the_files_as_a_reader_sees_them(built):
    _, site = built
    about = (site / "chapters" / "01-introduction" / "index.html").read_text(encoding="utf-8")
    # Outside the project: relative to the data folder; outside both: the file name alone.
    assert "<code>order_lines.parquet</code>" in about
    assert "<code>orders.parquet</code>" in about
    assert "<code>traffic.csv</code>" in about


@pytest.mark.parametrize(("data", "path", "shown"), [
    ("/srv/p/data", "orders.csv", "data/orders.csv"),
    ("/srv/p/data", "exports/*.csv", "data/exports/*.csv"),
    ("/srv/p/data", "/srv/p/data/orders.csv", "data/orders.csv"),
    ("/srv/p/data", "/home/alice/orders.csv", "orders.csv"),
    ("/home/alice/shop", "orders.csv", "orders.csv"),
    ("/home/alice/shop", "sub/orders.csv", "sub/orders.csv"),
    ("/srv/p/data", "../other/orders.csv", "other/orders.csv"),
    ("/srv/p/data", "a.csv, /home/alice/b.csv", "data/a.csv, b.csv"),
    ("/srv/p/data", "file:///home/alice/o.parquet", "o.parquet"),
    ("/srv/p/data", "s3a://alice:key@bucket/o.parquet?x=1", "s3a://bucket/o.parquet"),
])
def test_published_path(data, path, shown):
    assert published_path(path, Path("/srv/p"), Path(data)) == shown
