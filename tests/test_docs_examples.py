"""Every Python code example in README.md and docs/*.md runs.

The blocks of one page run in order in one namespace, as a reader would paste
them into one session (later blocks use names defined earlier), inside a
temporary working directory so that files they write land there.  The
``assert`` lines the docs carry are their claims, checked here.  Shell blocks
are not run: the README's two set-up commands are exercised by ``.ci/run`` and
the CLI examples by the CLI tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(page):
    """The ``python`` fenced blocks of a markdown file, with their first line numbers."""
    text = page.read_text(encoding="utf-8")
    return [(text[:m.start()].count("\n") + 2, m.group(1)) for m in BLOCK.finditer(text)]


def test_the_pages_have_examples():
    counts = {page.name: len(python_blocks(page)) for page in PAGES}
    assert counts["README.md"] >= 5
    for name in ("concepts.md", "estimators.md", "monitor.md"):
        assert counts[name] >= 1, f"docs/{name} has no runnable example"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_examples_run(page, tmp_path, monkeypatch):
    blocks = python_blocks(page)
    if not blocks:
        pytest.skip(f"{page.name} has no python example")
    if any(re.search(r"^\s*import torch|^from infolens.monitor", code, re.M)
           for _, code in blocks):
        pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": f"docs_{page.stem}"}
    for line, code in blocks:
        try:
            exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
        except Exception as exc:  # the page and line make the failure findable
            raise AssertionError(f"{page.name}, block at line {line} failed: "
                                 f"{type(exc).__name__}: {exc}") from exc
