"""`paperkit preview`: the handbook, or an exam paper and its key, as HTML on localhost, reloaded in the browser
as soon as a file under source/ or templates/ changes.

No PDF is laid out: the page is the HTML the PDF is made from, with its stylesheets (a browser applies what
it can of the print CSS; @page boxes, running headers and page numbers are the PDF's), so a change shows in
well under a second. Content errors show in the page and on the terminal, one line each, as `validate`
prints them. The server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import html
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from paperkit.errors import ContentError, PaperkitError, UsageError
from paperkit.i18n import _, current_language
from paperkit.paths import FONTS, TEMPLATES
from paperkit.render.page import PageGeometry
from paperkit.text.fonts import all_faces

HOST = "127.0.0.1"
POLL_MS = 400  # how often an open page asks whether anything changed
# The names a browser on this machine uses for the server. Any other Host header is a page elsewhere that
# pointed its own domain at 127.0.0.1 (DNS rebinding) to read the keys: it gets 403 and nothing else.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
CACHE_PAGES = 12  # pages drawn for distinct URLs kept at once (a handbook page is a few MB); the oldest goes first

# On screen the page is a sheet of the chosen paper on a grey desk; print CSS does the rest as far as a browser
# follows it (it ignores @page margin boxes: the running headers and page numbers exist only in the PDF).
_SCREEN_CSS = """
@media screen {
  html { background: #d9d9d9; }
  body { background: white; width: %(width)smm; margin: 8mm auto; padding: %(margin)smm;
         box-shadow: 0 1px 6px rgba(0,0,0,.3); box-sizing: content-box; }
  .pk-problems { font-family: monospace; white-space: pre-wrap; color: #a00; border: 2px solid #a00;
                 padding: 1em; background: #fff6f6; }
}
"""

_RELOAD = """<script>
(function () {
  var seen = %(version)s;
  function poll() {
    fetch("/version", {cache: "no-store"}).then(function (r) { return r.text(); }).then(function (text) {
      if (Number(text) !== seen) { location.reload(); } else { setTimeout(poll, %(poll)s); }
    }).catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, %(poll)s);
})();
</script>"""


@dataclass(frozen=True)
class Response:
    """What the server sends for one request."""

    status: int
    content_type: str
    body: bytes


def browser_page(template: str, css: Sequence[str], context: dict[str, Any], page: PageGeometry, version: int) -> str:
    """A document's HTML for a browser: its stylesheets, the shipped fonts (served under /fonts/), its formula
    images inlined, and the script that reloads it when the content changes."""
    from paperkit.render.document import render_stylesheets, render_template
    from paperkit.text.drawn import collecting_formulas, inline_formulas

    with collecting_formulas() as formulas:
        text = render_template(template, context)
    styles = "\n".join([_fonts_css(), *render_stylesheets(css, page, context), _screen_css(page)])
    head = f"<style>\n{styles}\n</style>\n{_RELOAD % {'version': version, 'poll': POLL_MS}}\n"
    text = text.replace("</head>", head + "</head>", 1)
    return inline_formulas(text, formulas)


def problems_page(lines: Sequence[str], version: int) -> str:
    """The page shown while the content (or the exam's options) cannot be rendered: every problem, one a line."""
    shown = html.escape("\n".join(lines))
    reload = _RELOAD % {"version": version, "poll": POLL_MS}
    language = "zh-CN" if current_language() == "zh" else "en"
    title = html.escape(_("paperkit preview: problems"))
    advice = html.escape(_("Fix these and save; the page reloads."))
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_screen_css(None)}</style>{reload}</head>"
        f"<body><h1>paperkit preview</h1><p>{advice}</p>"
        f'<pre class="pk-problems">{shown}</pre>'
        "</body></html>"
    )


def _screen_css(page: PageGeometry | None) -> str:
    width, margin = (page.width_mm - 2 * page.side_margin_mm, page.side_margin_mm) if page else (180.0, 15.0)
    return _SCREEN_CSS % {"width": f"{width:.0f}", "margin": f"{margin:.0f}"}


def _fonts_css() -> str:
    return "\n".join(
        f'@font-face {{ font-family: "{face.family}"; font-weight: {face.weight}; font-style: {face.style}; '
        f'src: url("/fonts/{face.file}"); }}'
        for face in all_faces()
    )


class Preview:
    """The pages the server shows, drawn again after every change (one render at a time)."""

    def __init__(self, source: Path, page: PageGeometry, report: Callable[[str], None]) -> None:
        self.source = source
        self.page = page
        self.report = report  # where content problems go besides the page (the terminal)
        self.version = 0
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Response] = OrderedDict()
        self._reported = -1

    def changed(self) -> None:
        """A watched file changed: the next request draws the page again and open pages reload."""
        with self._lock:
            self.version += 1
            self._cache.clear()

    def respond(self, target: str, host: str | None = "127.0.0.1") -> Response:
        """The response to a GET of `target` (a path with its query) sent with the Host header `host`."""
        if not is_local_host(host):
            return Response(
                403, "text/plain; charset=utf-8", _("forbidden: the preview answers only to 127.0.0.1").encode()
            )
        parts = urlsplit(target)
        if parts.path == "/version":
            return Response(200, "text/plain; charset=utf-8", str(self.version).encode())
        if parts.path.startswith("/fonts/"):
            return _font(parts.path.removeprefix("/fonts/"))
        if parts.path not in ("/", "/exam", "/key"):
            return Response(
                404,
                "text/plain; charset=utf-8",
                _("not found: try / (the handbook) or /exam?modules=2,3").encode(),
            )
        with self._lock:
            if target in self._cache:
                self._cache.move_to_end(target)
            else:
                self._cache[target] = self._render(parts.path, parse_qs(parts.query))
                while len(self._cache) > CACHE_PAGES:
                    self._cache.popitem(last=False)
            return self._cache[target]

    def _render(self, path: str, query: dict[str, list[str]]) -> Response:
        from paperkit.handbook.context import handbook_document
        from paperkit.handbook.options import HandbookOptions
        from paperkit.source import open_handbook

        try:
            if path == "/":
                doc = handbook_document(open_handbook(self.source), HandbookOptions(page=self.page))
                text = browser_page(doc.template, doc.stylesheets, doc.context, self.page, self.version)
            else:
                template, css, context, page = _exam_document(self.source, path == "/key", query)
                text = browser_page(template, css, context, page, self.version)
        except ContentError as error:
            lines = error.lines()
            self._report_once(lines)
            return Response(200, "text/html; charset=utf-8", problems_page(lines, self.version).encode())
        except PaperkitError as error:
            lines = [_("error: {message}").format(message=error)]
            self._report_once(lines)
            return Response(200, "text/html; charset=utf-8", problems_page(lines, self.version).encode())
        return Response(200, "text/html; charset=utf-8", text.encode())

    def _report_once(self, lines: Sequence[str]) -> None:
        if self._reported != self.version:  # once per change, not once per reload
            self._reported = self.version
            for line in lines:
                self.report(line)


def is_local_host(host: str | None) -> bool:
    """Whether a Host header names this machine's loopback (`localhost`, `127.0.0.1`, `[::1]`, with a port or not)."""
    text = (host or "").strip().lower()
    if text.startswith("["):  # an IPv6 address keeps its colons inside the brackets
        name, bracket, rest = text.partition("]")
        name, port = name + bracket, rest.removeprefix(":") if rest.startswith(":") else rest or None
    else:
        name, colon, port = text.partition(":")
        port = port if colon else None
    if port is not None and not (port.isascii() and port.isdigit() and len(port) <= 5):
        return False
    return name in LOCAL_HOSTS


# The exam flags a preview URL may carry (?modules=2,3&seed=7&parts=choice:4x2): the text of the CLI's options.
_EXAM_QUERY = {
    "modules": "modules",
    "seed": "seed",
    "count": "count",
    "variants": "variants",
    "points": "total_points",
    "title": "title",
    "paper": "paper",
    "parts": "parts",
}


def _exam_document(
    source: Path, key: bool, query: dict[str, list[str]]
) -> tuple[str, list[str], dict[str, Any], PageGeometry]:
    """The template, stylesheets, context and page of variant A's paper (or key) for the query's options."""
    from paperkit.exam.job import Job, document_of
    from paperkit.exam.options import ExamFlags, parse_exam_flags
    from paperkit.exam.plan import plan_exam

    unknown = sorted(set(query) - set(_EXAM_QUERY) - {"variant"})
    if unknown:
        raise UsageError(
            _("/exam?{name}=…: not an exam option here; use {names}").format(
                name=unknown[0], names=", ".join(_EXAM_QUERY)
            )
        )
    if "modules" not in query:
        raise UsageError(_("/exam needs ?modules=2,3 (and optionally &seed=7&count=10&parts=…)"))
    given: dict[str, Any] = {_EXAM_QUERY[name]: values[-1] for name, values in query.items() if name in _EXAM_QUERY}
    flags = ExamFlags(**given)  # text as typed, parsed by the same code as the CLI's flags
    plan = plan_exam(parse_exam_flags(flags), source)
    variant = query.get("variant", ["A"])[-1]
    if variant not in plan.exams:
        raise UsageError(
            _("/exam?variant={variant}: this exam has variants {variants}").format(
                variant=variant, variants=", ".join(plan.exams)
            )
        )
    return document_of(plan, Job("key" if key else "paper", variant))


def _font(name: str) -> Response:
    files = {face.file for face in all_faces()}
    if name not in files:  # only the shipped faces, by their exact names: nothing else on disk is served
        return Response(404, "text/plain; charset=utf-8", _("not found").encode())
    kind = "font/ttf" if name.endswith(".ttf") else "font/otf"
    return Response(200, kind, (FONTS / name).read_bytes())


def _handler(preview: Preview) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server calls
            response = preview.respond(self.path, self.headers.get("Host"))
            try:
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the browser left (a reload, a closed tab) before the page was sent: nothing to tell anyone

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request would bury the content problems on the terminal

    return Handler


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection the browser dropped is not worth a traceback on the teacher's terminal; anything else is."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _watch(paths: Sequence[Path], on_change: Callable[[], None], stop: threading.Event) -> None:
    from watchfiles import watch

    for _changes in watch(*paths, stop_event=stop, debounce=100, step=50, yield_on_timeout=False):
        on_change()


@contextmanager
def serving(
    source: Path, page: PageGeometry, port: int, report: Callable[[str], None]
) -> Iterator[tuple[ThreadingHTTPServer, Preview]]:
    """A started preview server on 127.0.0.1:`port` (0: any free port) and its watcher; both stop on exit."""
    preview = Preview(source, page, report)
    try:
        server = _Server((HOST, port), _handler(preview))
    except OSError as error:
        raise UsageError(
            _("--port {port}: cannot listen there ({reason}); choose another port").format(
                port=port, reason=error.strerror
            )
        ) from None
    server.daemon_threads = True
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=([source, TEMPLATES], preview.changed, stop), daemon=True)
    watcher.start()
    try:
        yield server, preview
    finally:
        stop.set()
        server.server_close()
        watcher.join(timeout=2)


def url_of(server: ThreadingHTTPServer) -> str:
    """The address to open in a browser."""
    return f"http://{HOST}:{server.server_address[1]}/"


def describe(server: ThreadingHTTPServer) -> str:
    """The line the CLI prints when the server is up."""
    address = url_of(server)
    return _(
        "paperkit preview: {address} (handbook), {address}exam?modules=2,3&seed=7 (a paper); Ctrl-C stops it"
    ).format(address=address)
