"""preview.py: the handbook and exam papers as HTML on localhost, reloaded when the content changes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import MODULE_YAML, write_handbook
from paperkit.preview import Preview
from paperkit.render.page import geometry_for


def _text(page: str | bytes) -> str:
    """What a reader sees of a page: its text without tags (the keep-together spans split words)."""
    return re.sub(r"<[^>]+>", "", page.decode() if isinstance(page, bytes) else page)


def _preview(tmp_path: Path) -> tuple[Preview, list[str], Path]:
    source = write_handbook(tmp_path)
    reported: list[str] = []
    return Preview(source, geometry_for("A4"), reported.append), reported, source


def test_the_handbook_page_carries_its_styles_fonts_formulas_and_the_reload_script(tmp_path: Path) -> None:
    preview, reported, _ = _preview(tmp_path)
    response = preview.respond("/")
    page = response.body.decode()
    assert response.status == 200 and response.content_type.startswith("text/html")
    assert "第一节" in _text(page) and "问题一？" in _text(page) and "答案一。" in _text(page)
    assert '@font-face { font-family: "PK Serif"; font-weight: 400; font-style: normal; src: url("/fonts/' in page
    assert "@page" in page  # the print CSS comes along; a browser applies what it can
    assert 'fetch("/version"' in page and "var seen = 0;" in page
    assert "formula:" not in page  # formula images are inlined for the browser
    assert reported == []


def test_a_change_is_a_new_version_and_a_new_page(tmp_path: Path) -> None:
    preview, _, source = _preview(tmp_path)
    first = preview.respond("/").body
    assert preview.respond("/").body == first  # drawn once per version
    (source / "modules" / "01-first.yaml").write_text(MODULE_YAML.replace("第一节", "改过的一节"), encoding="utf-8")
    preview.changed()
    assert preview.respond("/version").body == b"1"
    page = preview.respond("/").body.decode()
    assert "改过的一节" in _text(page) and "var seen = 1;" in page


def test_content_problems_show_in_the_page_and_once_on_the_terminal(tmp_path: Path) -> None:
    preview, reported, source = _preview(tmp_path)
    (source / "modules" / "01-first.yaml").write_text(MODULE_YAML.replace("答案一。", "''"), encoding="utf-8")
    preview.changed()
    page = preview.respond("/").body.decode()
    preview.respond("/")  # a reload does not print the problems again
    expected = "source/modules/01-first.yaml:17:8: sections[0].examples[0].a: must not be empty"
    assert reported[0].endswith(expected.split("source/", 1)[1]) and len(reported) == 2
    assert "must not be empty" in page and "1 error in" in page and 'fetch("/version"' in page


def test_an_exam_paper_and_its_key(tmp_path: Path) -> None:
    preview, _, _ = _preview(tmp_path)
    paper = _text(preview.respond("/exam?modules=1&count=1").body)
    key = _text(preview.respond("/key?modules=1&count=1").body)
    assert "问题一？" in paper and "答案一。" not in paper
    assert "答案一。" in key and "参考答案" in key
    wrong = preview.respond("/exam?modules=9").body.decode()
    assert "error: --modules 9" in wrong
    assert "not an exam option here" in preview.respond("/exam?modules=1&roster=x.csv").body.decode()


def test_only_the_shipped_fonts_are_served(tmp_path: Path) -> None:
    preview, _, _ = _preview(tmp_path)
    assert preview.respond("/fonts/PKMath-Italic.ttf").status == 200
    for path in ("/fonts/../pyproject.toml", "/fonts/fonts.conf", "/etc/passwd", "/source/handbook.yaml"):
        assert preview.respond(path).status == 404, path


@pytest.mark.slow
def _raw_get(port: int, path: str, host: str) -> bytes:
    """The whole response to a GET sent with exactly this Host header (urllib would send its own)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _abandon(port: int, path: str) -> None:
    """A browser that asks for a page and goes away at once (the connection reset, not closed politely)."""
    import socket
    import struct

    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def test_only_localhost_names_are_answered(tmp_path: Path) -> None:
    preview, _, _ = _preview(tmp_path)
    for host in ("127.0.0.1", "127.0.0.1:8000", "localhost", "LocalHost:80", "[::1]:8000"):
        assert preview.respond("/version", host).status == 200, host
    for host in (None, "", "evil.example", "127.0.0.1.evil.example", "localhost:x", "evil.example:127.0.0.1"):
        response = preview.respond("/key?modules=1&count=1", host)
        assert (response.status, response.body) == (403, b"forbidden: the preview answers only to 127.0.0.1"), host


def test_the_page_cache_keeps_only_the_latest_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """151 distinct URLs grew the server from 50 to 183 MB: the pages kept are bounded, the oldest dropped."""
    from paperkit import preview as module
    from paperkit.preview import Response

    preview, _, _ = _preview(tmp_path)
    drawn: list[str] = []

    def draw(path: str, query: dict) -> Response:
        drawn.append(str(query))
        return Response(200, "text/html", b"x" * 1000)

    monkeypatch.setattr(preview, "_render", draw)
    for i in range(151):
        preview.respond(f"/?n={i}")
    assert len(preview._cache) == module.CACHE_PAGES
    preview.respond("/?n=150")  # the latest is kept: not drawn again
    assert len(drawn) == 151
    preview.respond("/?n=0")  # the first was dropped long ago: drawn again
    assert len(drawn) == 152


def test_the_server_reloads_on_a_saved_file_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    source = write_handbook(tmp_path)
    command = [sys.executable, "-c", "from paperkit.cli import main; main()", "preview", "--source", str(source)]
    server = subprocess.Popen(
        [*command, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        # Ctrl-C must reach it even when the tests run in the background (where SIGINT is ignored and inherited).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        line = server.stdout.readline() if server.stdout else ""
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line

        def get(path: str) -> str:
            with urllib.request.urlopen(url.group(0) + path, timeout=10) as response:
                return response.read().decode()

        assert "第一节" in _text(get(""))
        (source / "modules" / "01-first.yaml").write_text(MODULE_YAML.replace("第一节", "改过的一节"), encoding="utf-8")
        deadline = time.monotonic() + 10
        while get("version") == "0" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "改过的一节" in _text(get(""))
        port = int(url.group(0).rstrip("/").rsplit(":", 1)[1])
        # DNS rebinding: a page on evil.example whose name now points at 127.0.0.1 asks for the key.
        assert _raw_get(port, "/key?modules=1&count=1", f"evil.example:{port}").startswith(b"HTTP/1.0 403")
        assert _raw_get(port, "/version", f"localhost:{port}").startswith(b"HTTP/1.0 200")
        _abandon(port, "/?a-reload-that-left-early")
        time.sleep(1.0)  # the page is drawn and sent into a closed connection meanwhile
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=10)
        assert server.returncode == 0, err
        assert out.strip().endswith("paperkit preview stopped.") and "Traceback" not in err
    finally:
        if server.poll() is None:
            os.kill(server.pid, signal.SIGKILL)


def test_on_screen_an_answer_rule_spans_its_answer_not_the_window(tmp_path: Path) -> None:
    # In print the rule is placed against the page area (handbook.css.j2); in a browser window that is the whole
    # window, so on screen it is placed against its answer.
    import weasyprint

    from layout import classes, walk
    from paperkit.paths import FONTS

    preview, _, _ = _preview(tmp_path)
    page = preview.respond("/").body.decode().replace('url("/fonts/', f'url("{FONTS.as_uri()}/')
    window = weasyprint.CSS(string="@page { size: 1600px 6000px !important; margin: 0 !important }")
    document = weasyprint.HTML(string=page, media_type="screen").render(stylesheets=[window])
    kinds = ("BlockBox", "AbsolutePlaceholder")  # the rule is out of the flow: its placeholder stands in the tree
    boxes = [b for p in document.pages for b in walk(p._page_box) if type(b).__name__ in kinds]
    answer = next(b for b in boxes if "a" in classes(b))
    rule = next(b for b in boxes if "a-rule" in classes(b))
    assert answer.border_width() < 1000  # the page's column, centred in the window
    assert abs(rule.border_box_x() - answer.border_box_x()) < 0.01
    assert abs(rule.border_width() - answer.border_width()) < 0.01
    assert abs(rule.border_box_y() - answer.border_box_y()) < 0.01
