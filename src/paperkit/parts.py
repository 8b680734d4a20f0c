"""The handbook laid out in parts on worker processes, then joined into one PDF (see assemble.py).

split (front matter + contiguous runs of modules, balanced by size) → lay out each part on a worker →
settle the page numbers → join.

A part is laid out on its own, so what it shows of the other parts comes in as numbers: the number of its
first page and the page of each anchor elsewhere that it refers to (the contents' entries, the answer links).
They come from the last build of the same handbook (a hint in the cache) or an estimate. After each round the
parts' real page counts and anchors give the true numbers, and every part laid out with other numbers is laid
out again, until none is: as LaTeX reruns until its cross-references settle. The PDF is therefore the same
whatever the hint was; a good hint only saves rounds.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from .cache import cache_key, read_cached, write_cached
from .errors import RenderError
from .handbook import Refs, handbook_context
from .models import Handbook, Module
from .page import PageGeometry

# After this many rounds the numbers are taken not to settle (a page count that flips with a page number's
# width); the caller lays the handbook out in one process instead.
MAX_ROUNDS = 5
# A part's size in characters of content; a section's headings and spacing count as this many more.
_SECTION_OVERHEAD = 600
# The front matter (cover, checklist, two contents) per contents entry, and the fixed rest.
_FRONT_PER_ENTRY = 120
_FRONT_BASE = 3000


class Unsettled(RenderError):
    """The parts' page numbers did not settle within MAX_ROUNDS."""


@dataclass(frozen=True)
class Part:
    """A piece of the handbook laid out on its own: the front matter, or a run of modules (the last run also
    holds the appendices)."""

    front: bool = False
    modules: tuple[int, ...] = ()
    appendix: bool = False


@dataclass(frozen=True)
class Numbers:
    """What a part is laid out with: its first page's number and the page of each anchor elsewhere it shows."""

    first_page: int
    pages: tuple[tuple[str, int], ...] = ()  # (anchor, page), sorted by anchor


@dataclass(frozen=True)
class LaidPart:
    """A part as a worker laid it out: its PDF, page count and anchors (by page index in the part, from 0)."""

    numbers: Numbers
    pdf: bytes
    pages: int
    anchors: dict[str, int]
    overflow: str = ""


@dataclass(frozen=True)
class BookOptions:
    """How the handbook is set: paper, answer mode, exercises, and whether text past the page edge is allowed."""

    page: PageGeometry
    answers: str = "inline"
    exercises: bool = False
    allow_overflow: bool = False


def default_jobs() -> int:
    """How many parts to lay the modules out in: one per core, at most four."""
    return max(1, min(os.cpu_count() or 1, 4))


# A part shorter than this many pages (estimated) costs more to start and join than it saves.
MIN_PART_PAGES = 8


def useful_jobs(handbook: Handbook, page: PageGeometry, jobs: int) -> int:
    """How many of `jobs` processes are worth using for this handbook: at most one per module and one per
    MIN_PART_PAGES estimated pages (1 means laying it out in one process)."""
    pages = sum(_size(m) for m in handbook.modules) / _chars_per_page(page)
    return max(1, min(jobs, len(handbook.modules), int(pages // MIN_PART_PAGES)))


def split(handbook: Handbook, jobs: int) -> list[Part]:
    """The front matter, then the modules in `jobs` contiguous runs of about equal size, the front matter
    counted with the first run (the first worker to finish takes the front matter)."""
    sizes = [_size(module) for module in handbook.modules]
    front = _FRONT_BASE + _FRONT_PER_ENTRY * (len(handbook.modules) + len(handbook.sections))
    runs = _balanced_runs(sizes, max(1, min(jobs, len(sizes))), front)
    parts = [Part(front=True)]
    start = 0
    for count in runs:
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
    return {
        **context,
        "front": part.front,
        "modules": [m for m in context["modules"] if m["id"] in part.modules],
        "appendix": context["appendix"] if part.appendix else [],
        "exercise_answers": context["exercise_answers"] if part.appendix else [],
        "refs": Refs(here, dict(numbers.pages)),
        "first_page": numbers.first_page,
    }


def part_anchors(context: dict[str, Any], part: Part) -> tuple[frozenset[str], frozenset[str]]:
    """The anchors a part holds, and the anchors in other parts it links to (as handbook.html.j2 sets them)."""
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
    return frozenset(here), frozenset(links - here)


# A function that lays out some parts, each with its numbers, and returns them laid out, in the same order.
LayOut = Callable[[Sequence[tuple[Part, Numbers]]], list[LaidPart]]


@dataclass
class Hint:
    """What the last build found: each part's page count and every anchor's page number."""

    counts: list[int]
    anchors: dict[str, int]


def settle(parts: Sequence[Part], links: Sequence[frozenset[str]], lay_out: LayOut, hint: Hint) -> list[LaidPart]:
    """Lay the parts out until each was laid out with the numbers the others really give it; the parts in order.

    `links[i]` are the anchors elsewhere part i shows page numbers for. Each round lays out every part whose
    numbers changed, but a part showing anchors nobody knows yet (no hint, no part laid out holding them) waits
    for a round where they are known, unless it is all that is left: without a hint the front matter waits for
    the modules (its page count is estimated well; its numbers would all be placeholders).
    """
    laid: dict[int, LaidPart] = {}
    for _ in range(MAX_ROUNDS):
        wanted, known = _numbers(laid, links, hint)
        stale = [i for i in range(len(parts)) if i not in laid or laid[i].numbers != wanted[i]]
        if not stale:
            break
        ready = [i for i in stale if links[i] <= known] or stale
        for i, result in zip(ready, lay_out([(parts[i], wanted[i]) for i in ready]), strict=True):
            laid[i] = result
    wanted, _ = _numbers(laid, links, hint)
    if len(laid) < len(parts) or any(laid[i].numbers != wanted[i] for i in range(len(parts))):
        raise Unsettled(f"the page numbers of the handbook's {len(parts)} parts did not settle in {MAX_ROUNDS} rounds")
    return [laid[i] for i in range(len(parts))]


def _numbers(
    laid: Mapping[int, LaidPart], links: Sequence[frozenset[str]], hint: Hint
) -> tuple[list[Numbers], set[str]]:
    """Each part's numbers as the parts laid out so far (and the hint, for the others) give them; the anchors
    known (0 stands for an unknown one)."""
    counts = [laid[i].pages if i in laid else hint.counts[i] for i in range(len(links))]
    starts = [1 + sum(counts[:i]) for i in range(len(links))]
    anchors = dict(hint.anchors)
    for i, part in laid.items():
        anchors.update({name: starts[i] + index for name, index in part.anchors.items()})
    numbers = [Numbers(starts[i], tuple(sorted((a, anchors.get(a, 0)) for a in links[i]))) for i in range(len(links))]
    return numbers, set(anchors)


def lay_out_part(handbook: Handbook, options: BookOptions, part: Part, numbers: Numbers) -> LaidPart:
    """One part laid out and written (in a worker); text past the page edge is named by its page in the handbook."""
    from .render import lay_out_document

    context = handbook_context(handbook, options.answers, options.exercises, options.page.chars_per_line)
    context = part_context(context, part, numbers)
    css = ["handbook.css.j2", "kinds.css.j2"] if options.exercises else ["handbook.css.j2"]
    laid = lay_out_document(
        "handbook.html.j2",
        css,
        context,
        options.page,
        allow_overflow=options.allow_overflow,
        first_page=numbers.first_page,
    )
    anchors: dict[str, int] = {}
    for index, page in enumerate(laid.document.pages):
        for name in page.anchors:
            anchors.setdefault(name, index)  # an element over several pages is anchored on its first, as links go
    return LaidPart(numbers, laid.pdf(), laid.pages, anchors, laid.overflow)


def lay_out_in_parts(
    handbook: Handbook, options: BookOptions, engine: Executor, jobs: int, hint_key: str = ""
) -> list[LaidPart]:
    """The handbook's parts laid out on `engine` with settled page numbers; the page numbers found are kept as
    the next build's hint under `hint_key` (none without one)."""
    parts = split(handbook, jobs)
    context = handbook_context(handbook, options.answers, options.exercises, options.page.chars_per_line)
    links = [part_anchors(context, part)[1] for part in parts]

    def on_engine(todo: Sequence[tuple[Part, Numbers]]) -> list[LaidPart]:
        # The front matter is submitted last: it is short, and goes to the first worker to finish.
        order = sorted(range(len(todo)), key=lambda i: todo[i][0].front)
        futures = {i: engine.submit(lay_out_part, handbook, options, *todo[i]) for i in order}
        importlib.import_module("pikepdf")  # the join's library loads (0.2 s) while the workers lay out
        return [futures[i].result() for i in range(len(todo))]

    hint = (_read_hint(hint_key, parts) if hint_key else None) or _estimate(handbook, parts, options.page)
    laid = settle(parts, links, on_engine, hint)
    counts = [part.pages for part in laid]
    starts = [1 + sum(counts[:i]) for i in range(len(laid))]
    found = {name: starts[i] + index for i, part in enumerate(laid) for name, index in part.anchors.items()}
    if hint_key:
        write_cached(
            "handbook-parts", hint_key, json.dumps({"counts": counts, "anchors": found}, sort_keys=True).encode()
        )
    return laid


def hint_key(source: str, options: BookOptions, jobs: int) -> str:
    """The cache key of the page-number hint for one handbook, set one way, in `jobs` parts."""
    return cache_key(
        "handbook-parts",
        os.path.realpath(source),
        options.page.paper,
        options.answers,
        str(options.exercises),
        str(jobs),
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
    """Page counts guessed from the parts' sizes (no anchors: the parts that show them wait for a round)."""
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
