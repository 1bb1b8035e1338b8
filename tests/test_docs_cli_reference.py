"""docs/cli.md is the generated command-line reference, in sync with the parsers."""

from pathlib import Path

from infolens import registry
from infolens.cli.reference import cli_reference

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_docs_cli_md_is_the_generated_reference():
    assert REFERENCE.read_text(encoding="utf-8") == cli_reference(), (
        "docs/cli.md is out of date: run 'python -m infolens.cli.reference > docs/cli.md'")


def test_reference_lists_every_registered_measure_and_command():
    text = cli_reference()
    for info in registry.list_methods():
        assert f"`infolens {info.function}`" in text
        assert f"### `infolens {info.function}`" in text
    for command in ("demo", "batch", "screen", "report", "features", "layers", "entropy", "mi"):
        assert f"### `infolens {command}`" in text
    assert "#### `infolens bench attention`" in text
