"""The README's quickstart and CI stay in step."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _quickstart_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.+?)\n\s*```", section, flags=re.S)
    return [block.strip() for block in blocks]


def test_readme_quickstart_has_exactly_two_commands() -> None:
    commands = _quickstart_commands()
    assert len(commands) == 2
    assert all("\n" not in c.strip() for c in commands)
    assert "fupan build" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert _quickstart_commands()[1].strip() in [line.strip() for line in ci]


def _module_map() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return readme.split("### Module map", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]


def test_readme_module_map_lists_every_module_of_the_package() -> None:
    package = REPO / "macros"
    modules = {p.relative_to(package).as_posix() for p in (package / "fupan").rglob("*.py")
               if p.name != "__init__.py" and "__pycache__" not in p.parts}
    listed = set(re.findall(r"`(fupan/[\w/]+\.py)`", _module_map()))
    assert sorted(modules - listed) == [], "modules missing from the README's module map"
    assert sorted(listed - modules) == [], "the README's module map names modules that do not exist"
