"""The PDF stage: shipped fonts only, and a URL fetcher that cannot read outside paperkit's own files."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from pypdf import PdfReader

from paperkit.errors import RenderError
from paperkit.pdf import html_to_pdf

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
    pdf = html_to_pdf(PAGE.format('<img src="logo.svg"><p>好</p>'), [], templates_dir=tmp_path)
    assert PdfReader(io.BytesIO(pdf)).pages


def test_the_same_input_gives_the_same_bytes() -> None:
    html = PAGE.format("<p>同样的输入 $x$</p>")
    assert html_to_pdf(html, []) == html_to_pdf(html, [])
