"""The benchmarks' one writer of docs/benchmarks.md (tests/bench/benchmarks_doc.py): a rerun replaces
its own section in place and leaves every other section as it was."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "bench"))
from benchmarks_doc import HEADER, write_section  # noqa: E402  pylint: disable=wrong-import-position

DOC = "# Benchmarks\n\nintro\n\n## A\n\nold a\n\n## B\n\nold b\n"


def test_a_rerun_replaces_its_section_in_place(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text(DOC)
    write_section("## A", "## A\n\nnew a\n", path)
    assert path.read_text() == "# Benchmarks\n\nintro\n\n## A\n\nnew a\n\n## B\n\nold b\n"
    write_section("## B", "## B\n\nnew b\n", path)
    assert path.read_text() == "# Benchmarks\n\nintro\n\n## A\n\nnew a\n\n## B\n\nnew b\n"


def test_a_new_section_is_appended_and_a_missing_document_started(tmp_path):
    path = tmp_path / "docs" / "benchmarks.md"
    write_section("## C", "## C\n\nc\n", path)
    assert path.read_text() == HEADER + "## C\n\nc\n"
    write_section("## A", "## A\n\na", path)  # without its final newline
    assert path.read_text() == HEADER + "## C\n\nc\n\n## A\n\na\n"


def test_a_heading_that_only_starts_like_another_is_not_it(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\n## HADR: more\n\nkept\n")
    write_section("## HADR", "## HADR\n\nnew\n", path)
    assert path.read_text() == "# Benchmarks\n\n## HADR: more\n\nkept\n\n## HADR\n\nnew\n"
