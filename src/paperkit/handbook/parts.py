"""The handbook laid out in parts on worker processes, then joined into one PDF (see assemble.py).

split (front matter + contiguous runs of modules, balanced by size) → lay out each part on a worker →
settle the page references → join → stamp the page numbers.

A part is laid out on its own and without page numbers: they are stamped on the joined pages, so where a
part starts never changes its layout. What it shows of the other parts comes in as numbers: the page of each
anchor elsewhere it refers to (the contents' entries, the answer links). They come from the last build of the
same handbook (a hint in the cache) or are not known yet; whenever a part is laid out its anchors give the
true numbers, and every part laid out with other numbers is laid out again, until none is: as LaTeX reruns
until its cross-references settle. The PDF is therefore the same whatever the hint was; a good hint only
saves layouts.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import Any

from paperkit.cache import cache_key, prune_cached, read_cached, write_cached
from paperkit.content.models import Handbook, Module
from paperkit.errors import RenderError
from paperkit.handbook.context import Refs, handbook_document, outline_text
from paperkit.handbook.options import HandbookOptions
from paperkit.i18n import _
from paperkit.render.fingerprint import build_fingerprint
from paperkit.render.page import PageGeometry

# After this many layouts a part, on average, the numbers are taken not to settle (a page count that flips
# with a page number's width); the caller lays the handbook out in one process instead.
MAX_LAYOUTS = 5
# A part's size in characters of content; a section's headings and spacing count as this many more.
_SECTION_OVERHEAD = 600
# The front matter (cover, checklist, two contents) per contents entry, and the fixed rest.
_FRONT_PER_ENTRY = 120
_FRONT_BASE = 3000


class Unsettled(RenderError):
    """The parts' page references did not settle within MAX_LAYOUTS layouts a part."""


@dataclass(frozen=True)
class Part:
    """A piece of the handbook laid out on its own: the front matter, or a run of modules (the last run also
    holds the appendices)."""

    front: bool = False
    modules: tuple[int, ...] = ()
    appendix: bool = False


@dataclass(frozen=True)
class Numbers:
    """What a part is laid out with: the page in the handbook of each anchor it shows, (anchor, page) by anchor."""

    pages: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class LaidPart:
    """A part as a worker laid it out: its PDF, page count and anchors (by page index in the part, from 0)."""

    numbers: Numbers
    pdf: bytes
    pages: int
    anchors: dict[str, int]
    beyond: tuple[tuple[int, str], ...] = ()  # text past the page edge: (page in the part from 1, text)


# One run of modules per this many estimated pages (and at most one per module). The split depends on the content
# only, never on the cores or --jobs: the joined PDF's bytes are the same on any machine.
PART_PAGES = 20


def part_count(handbook: Handbook, page: PageGeometry) -> int:
    """How many runs of modules this handbook is laid out in (1 means in one document, without parts)."""
    pages = sum(_size(m) for m in handbook.modules) / _chars_per_page(page)
    return max(1, min(len(handbook.modules), int(pages // PART_PAGES)))


def split(handbook: Handbook, runs: int) -> list[Part]:
    """The front matter, then the modules in `runs` contiguous runs of about equal size, the front matter
    counted with the first run (the first worker to finish takes the front matter)."""
    sizes = [_size(module) for module in handbook.modules]
    front = _FRONT_BASE + _FRONT_PER_ENTRY * (len(handbook.modules) + len(handbook.sections))
    counts = _balanced_runs(sizes, max(1, min(runs, len(sizes))), front)
    parts = [Part(front=True)]
    start = 0
    for count in counts:
        parts.append(Part(modules=tuple(m.id for m in handbook.modules[start : start + count])))
        start += count
    parts[-1] = dataclasses.replace(parts[-1], appendix=True)
    return parts


def _size(module: Module) -> int:
    size = len(module.title) + len(module.objective)
    for section in module.sections:
        texts = [section.title, section.overview, *section.must_know, *section.tips, *section.pitfalls]
        texts += [e.q + e.a for e in section.examples] + [repr(x) for x in section.exercises]
        size += _SECTION_OVERHEAD + sum(len(text) for text in texts)
    return size


def _chars_per_page(page: PageGeometry) -> int:
    return page.chars_per_line * 58  # the bundled handbook's pages hold about 2,600 characters at 45 a line


def _balanced_runs(sizes: Sequence[int], count: int, head: int) -> list[int]:
    """How many items each of `count` contiguous runs takes so that the largest run (the first one counting
    `head` more) is as small as it can be; every run takes at least one item."""
    best: tuple[int, tuple[int, ...]] | None = None
    for cuts in itertools.combinations(range(1, len(sizes)), count - 1):
        bounds = (0, *cuts, len(sizes))
        loads = [sum(sizes[a:b]) for a, b in itertools.pairwise(bounds)]
        loads[0] += head
        if best is None or max(loads) < best[0]:
            best = (max(loads), tuple(b - a for a, b in itertools.pairwise(bounds)))
    assert best is not None
    return list(best[1])


def part_context(context: dict[str, Any], part: Part, numbers: Numbers) -> dict[str, Any]:
    """The handbook's template context cut to one part, its links to the others made with `numbers`."""
    here, _ = part_anchors(context, part)
    # A part of modules is given none of the front matter, which it does not print: an edit to one module then
    # leaves the other parts' contexts (their cache keys) as they were.
    front: dict[str, Any] = {} if part.front else {"checklist_rows": [], "toc_overview": [], "toc_detail": []}
    return {
        **context,
        **front,
        "front": part.front,
        "modules": [m for m in context["modules"] if m["id"] in part.modules],
        "appendix": context["appendix"] if part.appendix else [],
        "exercise_answers": context["exercise_answers"] if part.appendix else [],
        "refs": Refs(here, dict(numbers.pages)),
        "numbers_later": True,
    }


def part_anchors(context: dict[str, Any], part: Part) -> tuple[frozenset[str], frozenset[str]]:
    """The anchors a part holds, and the anchors it links to with their page numbers, its own included (a part
    has no page counter of the handbook's: handbook.html.j2 prints each number given)."""
    here: set[str] = set()
    links: set[str] = set()
    if part.front:
        contents = [*context["toc_overview"], *context["toc_detail"]]
        links |= {entry["href"] for block in contents for entry in block}
    end = context["answers"] == "end"
    for module in context["modules"]:
        if module["id"] not in part.modules:
            continue
        here |= {module["anchor"], module["exercises_anchor"]}
        for section in module["sections"]:
            here.add(section["anchor"])
            for example in section["examples"]:
                here.add(example["q_anchor"])
                (links if end else here).add(example["a_anchor"])
    if part.appendix:
        here |= {"appendix", "exercise-answers"}
        for section in context["appendix"]:
            for example in section["examples"]:
                here.add(example["a_anchor"])
                links.add(example["q_anchor"])
    return frozenset(here), frozenset(links)


# Starts laying out one part with its numbers (on a worker) and returns the future of it.
Start = Callable[[Part, Numbers], "Future[LaidPart]"]


@dataclass
class Hint:
    """What the last build found: each part's page count and every anchor's page number."""

    counts: list[int]
    anchors: dict[str, int]


def settle(parts: Sequence[Part], links: Sequence[frozenset[str]], start: Start, hint: Hint) -> list[LaidPart]:
    """Lay the parts out until each was laid out with the numbers the others really give it; the parts in order.

    `links[i]` are the anchors part i shows page numbers for (its own too). Whenever a part is done the numbers are
    derived again and every part whose numbers changed is started again at once, while the others still run.
    A part showing anchors nobody knows yet (no hint, no part laid out holding them) waits until they are
    known, unless nothing else runs: without a hint the contents wait for the modules.
    """
    laid: dict[int, LaidPart] = {}
    running: dict[Future[LaidPart], tuple[int, Numbers]] = {}
    started = 0
    while True:
        wanted, known = _numbers(laid, links, hint)
        in_flight = set(running.values())
        stale = [
            i
            for i in range(len(parts))
            if (i not in laid or laid[i].numbers != wanted[i]) and (i, wanted[i]) not in in_flight
        ]
        ready = [i for i in stale if links[i] <= known] or ([] if running else stale)
        # The front matter last: it is short, and goes to the first worker that is free.
        for i in sorted(ready, key=lambda i: parts[i].front):
            if started == MAX_LAYOUTS * len(parts):
                raise Unsettled(
                    _("the page references of the handbook's {parts} parts did not settle in {layouts} layouts").format(
                        parts=len(parts), layouts=started
                    )
                )
            running[start(parts[i], wanted[i])] = (i, wanted[i])
            started += 1
        if not running:
            return [laid[i] for i in range(len(parts))]
        done, _pending = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            i, _numbers_of = running.pop(future)
            # An older layout of a part may finish after a newer one: keep the one with the numbers wanted now.
            if i not in laid or laid[i].numbers != wanted[i]:
                laid[i] = future.result()


def _numbers(
    laid: Mapping[int, LaidPart], links: Sequence[frozenset[str]], hint: Hint
) -> tuple[list[Numbers], set[str]]:
    """Each part's numbers as the parts laid out so far (and the hint, for the others) give them; the anchors
    known (0 stands for an unknown one)."""
    anchors = dict(hint.anchors)
    for i, start in enumerate(first_pages(laid, hint)):
        if i in laid:
            anchors.update({name: start + index for name, index in laid[i].anchors.items()})
    numbers = [Numbers(tuple(sorted((a, anchors.get(a, 0)) for a in links[i]))) for i in range(len(links))]
    return numbers, set(anchors)


def first_pages(laid: Mapping[int, LaidPart], hint: Hint) -> list[int]:
    """The page each part starts on, by the parts laid out (the hint's counts for the others)."""
    counts = [laid[i].pages if i in laid else hint.counts[i] for i in range(len(hint.counts))]
    return [1 + sum(counts[:i]) for i in range(len(counts))]


# -- the parts cache: a part whose context, numbers and build are those of a part laid out before is taken from
# paperkit's cache, so an edit to one module lays out only the parts it changed (and those whose numbers moved).

PART_CACHE = "handbook-part"
MAX_CACHED_PARTS = 48  # about 0.4 MB each: the parts of a few handbooks in a few editions


def _stable(value: object) -> object:
    """JSON for what a context holds beyond JSON's types: the part's references, sorted (a frozenset's order
    changes from one process to the next)."""
    if isinstance(value, Refs):
        here = sorted(value.here) if value.here is not None else None
        return {"here": here, "pages": sorted(value.pages.items())}
    raise TypeError(f"not part of a part's key: {type(value).__name__}")


def part_key(context: Mapping[str, Any], options: HandbookOptions, part: Part, numbers: Numbers) -> str | None:
    """The cache key of one part laid out with `numbers`: its context, the options, the build; None when the
    context holds something without a stable form (then the part is always laid out)."""
    try:
        shown = json.dumps(part_context(dict(context), part, numbers), default=_stable, sort_keys=True)
    except (TypeError, ValueError):
        return None
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    # --docx adds a Word file beside the PDF and changes no page: a part laid out without it serves with it.
    laid_out = dataclasses.replace(options, docx=False)
    return cache_key(PART_CACHE, build_fingerprint(), repr(laid_out), repr(part), epoch, shown)


def cached_part(key: str, numbers: Numbers) -> LaidPart | None:
    """A part as laid out before under `key`, or None (absent, or not a well-formed entry: then it is laid out)."""
    raw = read_cached(PART_CACHE, key)
    if raw is None:
        return None
    head, _, pdf = raw.partition(b"\n")
    try:
        data = json.loads(head)
        pages = int(data["pages"])
        anchors = {str(name): int(index) for name, index in data["anchors"].items()}
        beyond = tuple((int(page), str(text)) for page, text in data["beyond"])
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if pages < 1 or not pdf.startswith(b"%PDF-") or any(not 0 <= i < pages for i in anchors.values()):
        return None
    return LaidPart(numbers, pdf, pages, anchors, beyond)


def keep_part(key: str, laid: LaidPart) -> None:
    """Store a laid-out part under `key`, keeping the cache to its size."""
    head = json.dumps({"pages": laid.pages, "anchors": laid.anchors, "beyond": laid.beyond}, sort_keys=True)
    write_cached(PART_CACHE, key, head.encode() + b"\n" + laid.pdf)
    prune_cached(PART_CACHE, MAX_CACHED_PARTS)


def lay_out_part(handbook: Handbook, options: HandbookOptions, part: Part, numbers: Numbers) -> LaidPart:
    """One part laid out and written (in a worker); text past the page edge is kept by its page in the part."""
    from paperkit.render.document import lay_out_document

    doc = handbook_document(handbook, options)
    context = part_context(doc.context, part, numbers)
    laid = lay_out_document(doc.template, list(doc.stylesheets), context, options.page, allow_overflow=True)
    anchors: dict[str, int] = {}
    for index, page in enumerate(laid.document.pages):
        for name in page.anchors:
            anchors.setdefault(name, index)  # an element over several pages is anchored on its first, as links go
    return LaidPart(numbers, laid.pdf(), laid.pages, anchors, laid.beyond)


def page_numbers(handbook: Handbook, page: PageGeometry, count: int) -> bytes:
    """The handbook's page numbers alone on `count` pages (none on the cover), untagged: the stamp for the
    joined parts (assemble.stamp_page_numbers)."""
    from paperkit.render.document import lay_out_document

    context = {"lang": handbook.language, "title_plain": outline_text(handbook.title), "pages": count}
    laid = lay_out_document("page-numbers.html.j2", ["page-numbers.css.j2"], context, page, check_overflow=False)
    return laid.pdf(tags=False)


@dataclass(frozen=True)
class InParts:
    """The handbook laid out in parts: each part, the page-number stamp, and what runs past the page edge."""

    parts: list[LaidPart]
    numbers: bytes
    overflow: str = ""
    reused: int = 0  # layouts taken from the cache instead of laid out

    @property
    def pages(self) -> int:
        """The joined handbook's page count."""
        return sum(part.pages for part in self.parts)


def lay_out_in_parts(
    handbook: Handbook,
    options: HandbookOptions,
    engine: Executor,
    runs: int,
    hint_key: str = "",
    use_cache: bool = True,
) -> InParts:
    """The handbook's parts laid out on `engine` with settled page references, and the page-number stamp; the
    page numbers found are kept as the next build's hint under `hint_key` (none without one). A part (and the
    stamp) laid out before with the same context, numbers and build is taken from the cache (`use_cache`).
    Text past the page edge is a RenderError naming its page in the handbook, or with `allow_overflow` the
    `overflow` message."""
    from paperkit.render.document import overflow_error, overflow_message

    parts = split(handbook, runs)
    context = handbook_document(handbook, options).context
    links = [part_anchors(context, part)[1] for part in parts]
    hint = (_read_hint(hint_key, parts) if hint_key else None) or _estimate(handbook, parts, options.page)
    importlib.import_module("pikepdf")  # the join's library loads (0.2 s) while the workers warm up

    reused = 0

    def start(part: Part, numbers: Numbers) -> Future[LaidPart]:
        nonlocal reused
        key = part_key(context, options, part, numbers) if use_cache else None
        found = cached_part(key, numbers) if key else None
        if found is not None:
            reused += 1
            done: Future[LaidPart] = Future()
            done.set_result(found)
            return done
        future = engine.submit(lay_out_part, handbook, options, part, numbers)
        if key:
            # A part cancelled by Ctrl-C has no exception to ask for (asking raises CancelledError in the callback).
            future.add_done_callback(lambda f: None if f.cancelled() or f.exception() else keep_part(key, f.result()))
        return future

    laid = settle(parts, links, start, hint)
    starts = first_pages(dict(enumerate(laid)), hint)
    beyond = [(starts[i] + number - 1, text) for i, part in enumerate(laid) for number, text in part.beyond]
    if beyond and not options.allow_overflow:
        raise overflow_error(overflow_message(beyond))
    found = {name: starts[i] + index for i, part in enumerate(laid) for name, index in part.anchors.items()}
    if hint_key:
        counts = [part.pages for part in laid]
        hint_data = json.dumps({"counts": counts, "anchors": found}, sort_keys=True)
        write_cached("handbook-parts", hint_key, hint_data.encode())
    count = sum(part.pages for part in laid)
    stamp_key = cache_key("page-numbers", build_fingerprint(), outline_text(handbook.title), handbook.language)
    stamp_key = cache_key(stamp_key, repr(options.page), str(count)) if use_cache else ""
    numbers = read_cached("page-numbers", stamp_key) if stamp_key else None
    if numbers is None or not numbers.startswith(b"%PDF-"):
        # On a worker: its fonts are loaded (in this process they are not, which cost 0.5 s more).
        numbers = engine.submit(page_numbers, handbook, options.page, count).result()
        if stamp_key:
            write_cached("page-numbers", stamp_key, numbers)
            prune_cached("page-numbers", MAX_CACHED_PARTS)
    return InParts(laid, numbers, overflow_message(beyond), reused)


def hint_key(source: str, options: HandbookOptions, runs: int) -> str:
    """The cache key of the page-reference hint for one handbook, set one way, in `runs` runs of modules."""
    return cache_key(
        "handbook-parts",
        os.path.realpath(source),
        options.page.paper,
        options.answers,
        str(options.exercises),
        str(runs),
    )


def _read_hint(key: str, parts: Sequence[Part]) -> Hint | None:
    raw = read_cached("handbook-parts", key)
    try:
        data = json.loads(raw) if raw is not None else None
        counts = [int(n) for n in data["counts"]] if data else []
        anchors = {str(k): int(v) for k, v in data["anchors"].items()} if data else {}
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if len(counts) != len(parts) or any(n < 1 for n in counts):
        return None
    return Hint(counts, anchors)


def _estimate(handbook: Handbook, parts: Iterable[Part], page: PageGeometry) -> Hint:
    """Page counts guessed from the parts' sizes (no anchors: a part that shows some waits for the parts holding
    them)."""
    sizes = {m.id: _size(m) for m in handbook.modules}
    per_page = _chars_per_page(page)
    entries = len(handbook.modules) + len(handbook.sections)
    # Cover, checklist and the two contents (about 28 and 42 entries a page).
    front = 2 + math.ceil((len(handbook.modules) + 1) / 28) + math.ceil((entries + 1) / 42)
    counts = []
    for part in parts:
        size = sum(sizes[m] for m in part.modules)
        counts.append(front if part.front else max(1, round(size / per_page)))
    return Hint(counts, {})
