"""Laying the handbook out in parts: the split, the anchors each part holds and links to, settling the page numbers."""

from __future__ import annotations

import dataclasses
import io
import itertools
import shutil
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import SOURCE
from paperkit.cache import read_cached, write_cached
from paperkit.handbook import parts
from paperkit.handbook.context import PART_LINK, Refs, handbook_context
from paperkit.handbook.job import render_handbook_in_parts
from paperkit.handbook.options import HandbookOptions
from paperkit.handbook.parts import Hint, LaidPart, Numbers, Part, settle, split
from paperkit.render.page import geometry_for
from paperkit.source import open_handbook

HANDBOOK = open_handbook(SOURCE)
A4 = geometry_for("A4")


def test_the_split_is_the_front_matter_then_runs_of_modules_in_order_the_appendices_last() -> None:
    for jobs in (1, 2, 3, 4):
        pieces = split(HANDBOOK, jobs)
        assert pieces[0] == Part(front=True)
        runs = [piece.modules for piece in pieces[1:]]
        assert len(runs) == jobs and all(runs)
        assert [m for run in runs for m in run] == [m.id for m in HANDBOOK.modules]
        assert [piece.appendix for piece in pieces] == [False] * jobs + [True]


def test_the_runs_make_the_largest_part_as_small_as_it_can_be() -> None:
    sizes = [5, 1, 1, 1, 5, 2]
    for count, head in [(2, 0), (2, 4), (3, 0), (3, 6)]:
        runs = parts._balanced_runs(sizes, count, head)

        def largest(runs: Sequence[int], head: int = head) -> int:
            bounds = [0, *itertools.accumulate(runs)]
            loads = [sum(sizes[a:b]) for a, b in itertools.pairwise(bounds)]
            return max(loads[0] + head, *loads[1:])

        every = [
            [b - a for a, b in itertools.pairwise((0, *cuts, len(sizes)))]
            for cuts in itertools.combinations(range(1, len(sizes)), count - 1)
        ]
        assert largest(runs) == min(largest(r) for r in every), (count, head, runs)


def test_the_content_decides_the_parts_never_the_machine(tiny_source: Path) -> None:
    assert parts.part_count(open_handbook(tiny_source), A4) == 1  # a small handbook: one document
    # One run per PART_PAGES estimated pages: the bundled handbook's four runs (plus its front matter).
    assert parts.part_count(HANDBOOK, A4) == 4
    assert parts.part_count(HANDBOOK, geometry_for("B5")) >= 2  # less on a page: as many runs or more


def test_each_part_links_to_the_anchors_the_others_hold() -> None:
    context = handbook_context(HANDBOOK, "end")
    front, first, second = split(HANDBOOK, 2)
    held = {piece: parts.part_anchors(context, piece)[0] for piece in (front, first, second)}
    links = {piece: parts.part_anchors(context, piece)[1] for piece in (front, first, second)}
    assert not held[front] & held[first] and not held[first] & held[second]
    # The contents link to every module, section and the appendix, all elsewhere.
    assert {f"s-{s.id}" for s in HANDBOOK.sections} | {f"m-{m.id}" for m in HANDBOOK.modules} | {"appendix"} == links[
        front
    ]
    # With the answers at the end, a question links to its answer in the last part, and the answer back; a part
    # shows the page of every anchor it links to, its own too (its page counter is not the handbook's).
    in_first = [e for m in HANDBOOK.modules if m.id in first.modules for s in m.sections for e in s.examples]
    in_second = [e for m in HANDBOOK.modules if m.id in second.modules for s in m.sections for e in s.examples]
    assert {f"a-{e.id}" for e in in_first} == links[first]
    assert {f"q-{e.id}" for e in HANDBOOK.examples} | {f"a-{e.id}" for e in in_second} == links[second]
    assert {f"a-{e.id}" for e in HANDBOOK.examples} <= held[second]
    # Inline, the answers sit with their questions: a module part links nowhere.
    inline = handbook_context(HANDBOOK, "inline")
    assert parts.part_anchors(inline, first)[1] == frozenset()


def test_refs_link_here_or_to_another_part_with_its_page() -> None:
    assert (Refs().href("s-1.1"), Refs().page("s-1.1")) == ("#s-1.1", "")
    refs = Refs(frozenset({"s-1.1"}), {"s-1.1": 5, "s-2.1": 17})
    assert (refs.href("s-1.1"), refs.page("s-1.1")) == ("#s-1.1", "5")  # a part's own page counter is not the book's
    assert (refs.href("s-2.1"), refs.page("s-2.1")) == (f"{PART_LINK}s-2.1", "17")
    assert refs.page("s-3.1") == "0"  # not known yet: a placeholder, and the part is laid out again


class FakeLayOut:
    """Starts a part's layout and finishes it at once: parts whose page counts are given, each holding anchor
    `<part>-<page>` on each of its pages."""

    def __init__(self, counts: Sequence[int], flip: bool = False) -> None:
        self.counts = counts
        self.flip = flip  # the front matter is a page longer when it shows an even page for 2-3: never settles
        self.calls: list[int] = []

    def __call__(self, part: Part, numbers: Numbers) -> Future[LaidPart]:
        index = 0 if part.front else part.modules[0]
        self.calls.append(index)
        shown = dict(numbers.pages).get("2-3", 1)
        count = self.counts[index] + (1 if self.flip and index == 0 and shown % 2 == 0 else 0)
        future: Future[LaidPart] = Future()
        future.set_result(LaidPart(numbers, b"", count, {f"{index}-{n}": n for n in range(count)}))
        return future


PIECES = [Part(front=True), Part(modules=(1,)), Part(modules=(2,), appendix=True)]
# The contents link into both parts; part 1 to part 2 (a question to its answer at the end).
LINKS = [frozenset({"1-0", "2-3"}), frozenset({"2-0"}), frozenset()]


def test_settling_lays_out_again_only_what_changed_and_gives_the_true_numbers() -> None:
    fake = FakeLayOut([3, 5, 4])
    laid = settle(PIECES, LINKS, fake, Hint([2, 2, 2], {}))
    assert dict(laid[0].numbers.pages) == {"1-0": 4, "2-3": 12}
    assert dict(laid[1].numbers.pages) == {"2-0": 9}
    assert [part.pages for part in laid] == [3, 5, 4]
    # Part 2 shows nothing of the others: laid out once, whatever moved. Part 1 first waits for part 2's anchors;
    # it and the contents are laid out again as the counts before them turn out longer than the hint said.
    assert fake.calls.count(2) == 1 and fake.calls[0] == 2
    assert fake.calls.count(1) == 3 and fake.calls.count(0) == 2


def test_the_modules_are_laid_out_once_whatever_the_hint_said() -> None:
    """A part has no page numbers (they are stamped after the join): where it starts never changes its layout."""
    links = [LINKS[0], frozenset(), frozenset()]  # answers inline: only the contents link
    for counts in ([3, 5, 4], [2, 2, 2], [9, 1, 30]):
        fake = FakeLayOut([3, 5, 4])
        laid = settle(PIECES, links, fake, Hint(counts, {}))
        assert dict(laid[0].numbers.pages) == {"1-0": 4, "2-3": 12}
        assert sorted(fake.calls[:2]) == [1, 2]  # without a hint the contents wait for the modules
        assert fake.calls.count(1) == fake.calls.count(2) == 1
        assert fake.calls.count(0) == (1 if counts[0] == 3 else 2)  # again only if its own count was guessed wrong


def test_a_right_hint_lays_out_each_part_once() -> None:
    fake = FakeLayOut([3, 5, 4])
    anchors = {f"{i}-{n}": start + n for i, (start, count) in enumerate([(1, 3), (4, 5), (9, 4)]) for n in range(count)}
    settle(PIECES, LINKS, fake, Hint([3, 5, 4], anchors))
    assert sorted(fake.calls) == [0, 1, 2]


def test_numbers_that_never_settle_are_an_error_the_build_falls_back_on() -> None:
    fake = FakeLayOut([3, 5, 4], flip=True)
    with pytest.raises(parts.Unsettled, match="did not settle"):
        settle(PIECES, LINKS, fake, Hint([3, 5, 4], {}))
    assert len(fake.calls) == parts.MAX_LAYOUTS * len(PIECES)


def test_a_damaged_hint_is_ignored() -> None:
    pieces = split(HANDBOOK, 2)
    for junk in [b"not json", b'{"counts": [1, 2]}', b'{"counts": [5, 0, 3], "anchors": {}}', b"[]"]:
        write_cached("handbook-parts", "damaged", junk)
        assert parts._read_hint("damaged", pieces) is None
    write_cached("handbook-parts", "good", b'{"counts": [5, 22, 29], "anchors": {"m-0": 6}}')
    assert parts._read_hint("good", pieces) == Hint([5, 22, 29], {"m-0": 6})


@pytest.mark.slow
def test_the_pdf_is_the_same_whatever_the_hint_was() -> None:
    """Settling gives the same numbers from any start: a cold build, a right hint and a wrong one agree byte for
    byte (three modules, answers at the end: links and page references go both ways between the parts)."""
    small = dataclasses.replace(HANDBOOK, modules=HANDBOOK.modules[:3])
    options = HandbookOptions(A4, "end")
    cold = render_handbook_in_parts(small, options, 2, hint="right")  # no hint yet: it leaves one
    warm = render_handbook_in_parts(small, options, 2, hint="right")
    write_cached("handbook-parts", "wrong", b'{"counts": [9, 1, 30], "anchors": {"s-0.1": 40, "a-0.1.q1": 2}}')
    wrong = render_handbook_in_parts(small, options, 2, hint="wrong")
    assert cold.pdf == warm.pdf == wrong.pdf
    reader = PdfReader(io.BytesIO(cold.pdf))
    assert len(reader.pages) == cold.pages


@pytest.mark.slow
def test_the_handbook_command_lays_out_in_parts_and_rebuilds_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`paperkit handbook` on five modules in two runs: a cold build, a build from the hint it left and builds on
    one and three processes are byte-identical (the bytes never depend on the machine's cores), and --html
    still writes the whole handbook as one HTML file."""
    from typer.testing import CliRunner

    from paperkit.cli import app
    from paperkit.handbook import job

    monkeypatch.setattr(job, "part_count", lambda handbook, page: 2)

    source = tmp_path / "source"
    (source / "modules").mkdir(parents=True)
    shutil.copy(SOURCE / "handbook.yaml", source / "handbook.yaml")
    for module in sorted((SOURCE / "modules").glob("*.yaml"))[:5]:
        shutil.copy(module, source / "modules" / module.name)
    shutil.copytree(SOURCE / "figures", source / "figures")  # a module's figures come with it
    runner = CliRunner()
    made = []
    for name, jobs in (("first.pdf", "2"), ("second.pdf", "2"), ("one.pdf", "1"), ("three.pdf", "3")):
        args = ["handbook", "--source", str(source), "--jobs", jobs, "--html", "--out", str(tmp_path / name)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        made.append((tmp_path / name).read_bytes())
    assert made[0] == made[1] == made[2] == made[3]
    assert read_cached("handbook-parts", parts.hint_key(str(source), HandbookOptions(A4), 2)) is not None  # in parts
    reader = PdfReader(io.BytesIO(made[0]))
    assert [item.title for item in reader.outline if not isinstance(item, list)] == [
        f"{m.id} {m.title}" for m in HANDBOOK.modules[:5]
    ]
    html = (tmp_path / "first.html").read_text(encoding="utf-8")
    assert html.count('class="module"') == 5 and 'class="toc toc-detail"' in html and PART_LINK not in html
