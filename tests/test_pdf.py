"""The PDF stage: shipped fonts only, and a URL fetcher that cannot read outside paperkit's own files."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from pypdf import PdfReader

from paperkit.errors import RenderError
from paperkit.paths import TEMPLATES
from paperkit.render.pdf import AllowList, allowed_file, lay_out, write_document

PAGE = "<html lang='zh-CN'><head><title>测试</title></head><body>{}</body></html>"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record (and block) every attempt to open a network connection."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def html_to_pdf(html: str, stylesheets: list[str], allow: AllowList | None = None) -> bytes:
    """A page through the PDF stage, allowed what a document is allowed (or `allow`)."""
    return write_document(lay_out(html, stylesheets, allow or AllowList()), b"0" * 32)


def test_a_page_embeds_only_the_shipped_fonts() -> None:
    pdf = html_to_pdf(PAGE.format("<p style='font-family: \"PK Serif\"'>中文 Latin</p>"), [])
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {f["/BaseFont"] for f in reader.pages[0]["/Resources"]["/Font"].values()}
    assert fonts and all(name.split("+", 1)[1].startswith("PK-") for name in fonts)
    assert "中文 Latin" in reader.pages[0].extract_text()


@pytest.mark.parametrize(
    "body, css",
    [
        ('<img src="/etc/passwd">', ""),
        ('<img src="file:///etc/passwd">', ""),
        ('<img src="../../../../../../etc/passwd">', ""),
        ('<img src="http://example.com/x.png">', ""),
        ('<img src="https://127.0.0.1/x.png">', ""),
        ('<link rel="stylesheet" href="http://example.com/x.css">', ""),
        ('<iframe src="file:///etc/passwd"></iframe><object data="/etc/passwd"></object>', ""),
        ('<img src="data:image/svg+xml;base64,PHN2Zy8+">', ""),
        ("<p>x</p>", '@import url("file:///etc/passwd"); p { color: red }'),
        ("<p>x</p>", 'p { background: url("http://example.com/bg.png") }'),
        ("<p>x</p>", '@font-face { font-family: X; src: url("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf") }'),
    ],
)
def test_nothing_outside_templates_fonts_and_assets_is_loaded(body: str, css: str, no_network: list[object]) -> None:
    with pytest.raises(RenderError) as caught:
        html_to_pdf(PAGE.format(body), [css] if css else [])
    assert str(caught.value).startswith("refused to load ")
    assert str(caught.value).endswith("(documents may load only paperkit's templates, fonts and assets)")
    assert no_network == []


def test_templates_may_load_their_own_files(tmp_path: Path) -> None:
    (tmp_path / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    logo = (tmp_path / "logo.svg").as_uri()
    pdf = html_to_pdf(PAGE.format(f'<img src="{logo}"><p>好</p>'), [], AllowList(roots=(tmp_path,)))
    assert PdfReader(io.BytesIO(pdf)).pages


def test_the_same_input_gives_the_same_bytes() -> None:
    html = PAGE.format("<p>同样的输入 $x$</p>")
    assert html_to_pdf(html, []) == html_to_pdf(html, [])


def test_percent_encoded_parent_steps_are_refused(tmp_path: Path, no_network: list[object]) -> None:
    # WeasyPrint joins the link to the templates folder before the fetcher decodes %2e%2e: decode, then resolve.
    css = '@import url("%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/hostname");'
    with pytest.raises(RenderError) as caught:
        html_to_pdf(PAGE.format("<p>x</p>"), [css])
    assert "refused to load" in str(caught.value) and "%2e%2e" in str(caught.value)
    escaped = TEMPLATES.as_uri() + "/%2e%2e" * 8 + "/etc/hostname"
    assert Path("/etc/hostname").is_file()  # so only the check can refuse it
    assert allowed_file(escaped, (TEMPLATES,)) is None


def test_a_symlink_out_of_an_allowed_folder_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "assets"
    root.mkdir()
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    (root / "inside.svg").write_text(secret.read_text())
    (root / "link.svg").symlink_to(secret)
    assert allowed_file((root / "inside.svg").as_uri(), (root,)) == (root / "inside.svg").resolve()
    assert allowed_file((root / "link.svg").as_uri(), (root,)) is None
    with pytest.raises(RenderError):
        html_to_pdf(PAGE.format(f'<img src="{(root / "link.svg").as_uri()}">'), [], AllowList(roots=(root,)))


# ---- no system font, ever (issue 12) ------------------------------------------------------------------------

_RENDER = """
import sys
from paperkit.render.pdf import AllowList, lay_out, write_document
from paperkit.render.document import render_stylesheets
from paperkit.render.page import geometry_for
html = "<p>张三 a ∼ b 喆</p>"
document = lay_out(html, render_stylesheets([], geometry_for("A4")), AllowList())
sys.stdout.buffer.write(write_document(document, b"0" * 32))
"""


def _render_with(fontconfig: Path) -> bytes:
    import os
    import subprocess
    import sys

    env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig), "SOURCE_DATE_EPOCH": "0"}
    return subprocess.run([sys.executable, "-c", _RENDER], env=env, check=True, capture_output=True).stdout


def test_no_system_font_is_ever_used(tmp_path: Path) -> None:
    """∼ (U+223C) is not in the shipped faces but is in STIX Two Math: with a font config that offers STIX, a
    machine-dependent fallback would draw it. paperkit's own config shows no system font, so the bytes are the
    same as with an empty config (the character is a missing glyph either way, and validation refuses it)."""
    import ziamath

    stix = Path(ziamath.__file__).parent / "fonts"
    offering = tmp_path / "offering.conf"
    offering.write_text(f"<fontconfig><dir>{stix}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>")
    empty = tmp_path / "empty.conf"
    empty.write_text("<fontconfig></fontconfig>")
    with_stix, without = _render_with(offering), _render_with(empty)
    assert with_stix == without
    assert b"STIX" not in with_stix


def _runs_by_font(pdf: bytes) -> dict[str, str]:
    """The text each font draws on the first page (font name without its subset tag → text)."""
    runs: dict[str, str] = {}

    def visit(text: str, cm: object, tm: object, font: object, size: object) -> None:
        if font is not None and text.strip():
            name = str(font["/BaseFont"]).split("+", 1)[-1]  # type: ignore[index]
            runs[name] = runs.get(name, "") + text

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return runs


def test_text_set_formulas_have_one_math_style_italic_variables_upright_the_rest() -> None:
    """Issue 13: $d_k$ in a sentence was upright in the body font while a drawn formula is italic STIX."""
    from paperkit.render.document import render_stylesheets
    from paperkit.render.page import DEFAULT_PAGE
    from paperkit.text.markup import render_inline

    body = render_inline(r"受力 $F_{\text{合}} = BIL\sin\theta + 2x$ 与 $d_k$。")
    pdf = html_to_pdf(PAGE.format(f"<p>{body}</p>"), render_stylesheets([], DEFAULT_PAGE))
    runs = {font: text.replace(" ", "").replace("\n", "") for font, text in _runs_by_font(pdf).items()}
    assert sorted(runs["PK-Math-Italic"]) == sorted("FBILθxdk")  # variables: STIX's math italic
    assert sorted(runs["PK-Math"]) == sorted("=sin+2")  # operators, function names, digits: upright STIX
    assert "合" in runs["PK-Serif"] and "受力" in runs["PK-Serif"]  # \text{} and the sentence: the body face
