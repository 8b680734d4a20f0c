"""The YAML loader: values keep their lines, and any mutation of a valid file loads or is a ContentError."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MODULE_YAML, write_handbook
from paperkit.content.load import load_handbook
from paperkit.content.validate import validate_handbook
from paperkit.errors import ContentError


def test_every_value_remembers_its_line(tmp_path: Path) -> None:
    handbook = load_handbook(write_handbook(tmp_path))
    module = handbook.modules[0]
    section = module.sections[0]
    example = section.examples[0]
    assert module.origin.line_of("objective") == 3
    assert section.origin.path == "sections[0]"
    assert section.origin.line_of("must_know[0]") == 9
    assert example.origin.field_path("a") == "sections[0].examples[0].a"
    assert example.origin.line_of("a") == 17


def test_a_bom_is_fine(tmp_path: Path) -> None:
    source = write_handbook(tmp_path)
    path = source / "modules" / "01-first.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_handbook(source).modules[0].title == "第一模块"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    position=st.integers(min_value=0, max_value=len(MODULE_YAML)),
    cut=st.integers(min_value=0, max_value=12),
    insert=st.text(alphabet=st.sampled_from(list(" \t\n:-[]{}'\"&*!|>#%@`$中\\")), max_size=6),
)
def test_mutated_modules_load_or_give_a_content_error(tmp_path: Path, position: int, cut: int, insert: str) -> None:
    mutated = MODULE_YAML[:position] + insert + MODULE_YAML[position + cut :]
    source = write_handbook(tmp_path, {"01-first.yaml": mutated})
    try:
        handbook = load_handbook(source)
    except ContentError as error:
        assert error.problems and all(p.file.endswith("01-first.yaml") for p in error.problems)
        return
    for problem in validate_handbook(handbook):
        assert problem.file.endswith("01-first.yaml")


def test_control_characters_from_double_quoted_tex_are_errors(tmp_path: Path) -> None:
    # In double quotes YAML turns \frac, \theta and \vec into form feed, tab and vertical tab: the PDF would print
    # "rac12". A control character is an error that says how to quote.
    text = MODULE_YAML.replace("objective: 学会基础。", 'objective: "学会 $\\frac{1}{2}$。"').replace(
        "  - 要点一", '  - "$\\vec{F}$ 与 $\\theta$"'
    )
    source = write_handbook(tmp_path, {"01-first.yaml": text})
    try:
        load_handbook(source)
    except ContentError as error:
        lines = error.lines()
    else:
        raise AssertionError("loaded")
    file = f"{source}/modules/01-first.yaml"
    assert [line.replace(file, "F") for line in lines] == [
        "F:3:12: objective: contains the control character U+000C (control character): in double quotes YAML reads "
        "\\f (\\frac…) as an escape; write the text in single quotes or as a | block",
        "F:9:5: sections[0].must_know[0]: contains the control character U+000B (control character): in double quotes "
        "YAML reads \\v (\\vec…) as an escape; write the text in single quotes or as a | block",
        f"2 errors in {source}/; nothing was built.",
    ]


QUOTE = "put the whole text in single quotes ('…', with '' for a ')"


@pytest.mark.parametrize(
    ("bullet", "message"),
    [
        (
            "  - 比值 1 : 4 说明",
            "9:5: sections[0].must_know[0]: expected text, got a mapping (a ': ' inside a text makes "
            f"YAML read a field, as in 1 : 4; {QUOTE})",
        ),
        ("  - &copy 版权所有", f"9: '&copy' starts a YAML anchor and is dropped from the text; {QUOTE}"),
        ("  - 第 1 步 #3 号", f"9: the text stops before '#3 号': YAML reads ' #' as the start of a comment; {QUOTE}"),
        (
            "  - *重点* 在此",
            "9:6: YAML syntax: did not find expected alphabetic or numeric character (while scanning an "
            f"alias); a text starting with * means something else to YAML — {QUOTE}",
        ),
        (
            "  - `x` 开头",
            "9:5: YAML syntax: found character that cannot start any token (while scanning for the next "
            f"token); a text starting with ` means something else to YAML — {QUOTE}",
        ),
    ],
)
def test_yaml_that_would_lose_text_says_how_to_quote(tmp_path: Path, bullet: str, message: str) -> None:
    source = write_handbook(tmp_path, {"01-first.yaml": MODULE_YAML.replace("  - 要点一", bullet)})
    with pytest.raises(ContentError) as caught:
        load_handbook(source)
    assert caught.value.lines()[0] == f"{source}/modules/01-first.yaml:{message}"
