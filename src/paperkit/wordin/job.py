"""The import job: a .docx into a new module file or a section of an existing one, checked as the handbook it
makes before the first byte is written (the YAML, and the pictures into the source's figures/ folder)."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from paperkit.content.load import load_handbook
from paperkit.content.models import Handbook
from paperkit.content.yamlfile import display_path
from paperkit.errors import ContentError, UnplacedError, UsageError, WordError
from paperkit.i18n import _, ngettext
from paperkit.output import check_output, write_atomic
from paperkit.source import handbook_problems, open_handbook
from paperkit.text.figures import FOLDER
from paperkit.wordin.docxread import WordText, read_word
from paperkit.wordin.items import Made, make_items
from paperkit.wordin.layout import Draft, Unplaced, drafts_report, parse_blocks
from paperkit.wordin.yamltext import NewSection, PlacementError, insert_items, module_yaml

PLACEHOLDER_POINT = "（待补充）本节的学习要点。"
MAX_SECTION = 400  # items in one section (a list holds at most 500)
_HEADING_NUMBER = re.compile(
    r"^\s*(?:\d+(?:\.\d+)*|[一二三四五六七八九十]{1,3}\s*[、．.]|第\s*\S{1,3}\s*[章节部分单元卷])[\s\u3000]*"
)
_FIGURE_SRC = re.compile(r"\]\((figures/[^)\s]+)\)")


@dataclass(frozen=True)
class ImportOptions:
    """Where the items go: a new module file (`out`, default beside the source's modules) or the section
    `section` of module `module`; `partial` writes what was placed even when some paragraphs were not."""

    out: Path | None = None
    module: int | None = None
    section: str | None = None
    partial: bool = False


@dataclass(frozen=True)
class Imported:
    """What an import wrote: the module file, the count of items by kind, the pictures, and its report."""

    target: Path
    kinds: dict[str, int]
    figures: tuple[Path, ...] = ()
    report: tuple[str, ...] = ()  # paragraphs not placed (written anyway with --partial)
    notes: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """One line: how many items of which kinds went where."""
        count = sum(self.kinds.values())
        kinds = ", ".join(f"{name} {n}" for name, n in self.kinds.items())
        return ngettext(
            "{count} item imported into {target} ({kinds})", "{count} items imported into {target} ({kinds})", count
        ).format(count=count, target=display_path(self.target), kinds=kinds)


@dataclass
class _Plan:
    target: Path
    text: str
    section_id: str
    made: Made = field(default_factory=Made)


def import_word(docx: Path, source: Path, options: ImportOptions = ImportOptions()) -> Imported:
    """Import a Word 题库 into the handbook at `source`; raise UnplacedError (nothing written) when a paragraph
    could not be placed and `options.partial` is not set, ContentError when the result would not validate."""
    if (options.module is None) != (options.section is None):
        raise UsageError(_("--module and --section go together: the section of that module the items go into"))
    if options.out is not None and options.module is not None:
        raise UsageError(_("--out writes a new module; --module/--section add to an existing one: give one of them"))
    handbook = open_handbook(source)
    shown = display_path(docx)
    word = read_word(docx, _slug(docx.stem))
    drafts, unplaced = parse_blocks(word.blocks)
    taken = {e.id for e in handbook.examples} | {x.id for x in handbook.exercises}
    if options.module is not None and options.section is not None:
        plan = _append_plan(handbook, options.module, options.section, drafts, taken)
    else:
        plan = _new_plan(handbook, source, docx, word, options.out, drafts, taken)
    report = drafts_report([*unplaced, *plan.made.unplaced], shown)
    if not plan.made.items:
        raise WordError(
            _("{file}: no question found in the 题库 layout (「1．题干」, 「A．…」, 【答案】)").format(file=shown)
        )
    if report and not options.partial:
        raise UnplacedError(report, shown)
    notes = [*word.notes, *plan.made.notes]
    used = {src for item in plan.made.items for text in item.texts() for src in _FIGURE_SRC.findall(text)}
    pictures = {p.name: p.data for p in word.pictures if p.name in used}
    notes += _checked(source, plan.target, plan.text, pictures)
    check_output(plan.target, inputs=[docx])
    written = []
    for name, data in sorted(pictures.items()):
        path = source / name
        if not (path.is_file() and path.read_bytes() == data):
            write_atomic(path, data)
            written.append(path)
    write_atomic(plan.target, plan.text.encode("utf-8"))
    kinds = Counter(str(item.value("kind")) for item in plan.made.items)
    return Imported(plan.target, dict(kinds), tuple(written), tuple(report), tuple(notes))


def _slug(stem: str) -> str:
    """A file name's stem as a safe figure-name prefix (ASCII letters, digits and dashes)."""
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:24] or "word"


def _append_plan(handbook: Handbook, module_id: int, section_id: str, drafts: list[Draft], taken: set[str]) -> _Plan:
    module = next((m for m in handbook.modules if m.id == module_id), None)
    if module is None:
        known = ", ".join(str(m.id) for m in handbook.modules)
        raise UsageError(
            _("--module {number}: no such module (the handbook has {known})").format(number=module_id, known=known)
        )
    section = next((s for s in module.sections if s.id == section_id), None)
    if section is None:
        known = ", ".join(s.id for s in module.sections)
        raise UsageError(
            _("--section {section}: not a section of module {number} (it has {known})").format(
                section=section_id, number=module_id, known=known
            )
        )
    made = make_items(drafts, section_id, taken, section.must_know, grow=False)
    target = Path(module.origin.file)
    try:
        text = target.read_text(encoding="utf-8-sig")
        return _Plan(target, insert_items(text, section_id, made.items), section_id, made)
    except OSError as error:
        raise UsageError(_("cannot read {file}: {reason}").format(file=target, reason=error.strerror)) from None
    except PlacementError as error:
        raise UsageError(f"{display_path(target)}: {error}") from None


def _new_plan(
    handbook: Handbook, source: Path, docx: Path, word: WordText, out: Path | None, drafts: list[Draft], taken: set[str]
) -> _Plan:
    """A new module: a section per heading of the document (one if it has none), at most MAX_SECTION items each."""
    module_id = max((m.id for m in handbook.modules), default=0) + 1
    target = out if out is not None else source / "modules" / f"{module_id:02d}-{_slug(docx.stem)}.yaml"
    if out is None and target.exists():
        raise UsageError(_("{file} exists already; give another file with --out").format(file=display_path(target)))
    title = " ".join((word.title or docx.stem).split())[:60] or docx.stem
    groups: list[tuple[str, list[Draft]]] = []
    for draft in drafts:
        if not groups or groups[-1][0] != draft.heading or len(groups[-1][1]) >= MAX_SECTION:
            groups.append((draft.heading, []))
        groups[-1][1].append(draft)
    made = Made()
    sections = []
    for number, (heading, group) in enumerate(groups, start=1):
        section_id = f"{module_id}.{number}"
        part = make_items(group, section_id, taken, (), grow=True)
        made.items += part.items
        made.unplaced += part.unplaced
        made.notes += part.notes
        name = _HEADING_NUMBER.sub("", heading).strip() or title
        overview = f"从 {docx.name} 导入的 {len(part.items)} 道题目。"
        sections.append(
            NewSection(section_id, name, overview, tuple(part.must_know or [PLACEHOLDER_POINT]), tuple(part.items))
        )
    text = module_yaml(module_id, title, f"完成「{title}」中的题目。", sections)
    return _Plan(target, text, f"{module_id}.1", made)


def _checked(source: Path, target: Path, text: str, pictures: dict[str, bytes]) -> list[str]:
    """Load the handbook as it will be (the module text in place, the new pictures in figures/) in a scratch copy
    and check it; raise ContentError naming the real files, else return its warnings."""
    with tempfile.TemporaryDirectory(prefix="paperkit-import-") as scratch:
        mirror = Path(scratch) / "source"
        (mirror / "modules").mkdir(parents=True)
        shutil.copyfile(source / "handbook.yaml", mirror / "handbook.yaml")
        names: dict[str, str] = {}
        for path in sorted([*source.glob("modules/*.yaml"), *source.glob("modules/*.yml")]):
            if path.resolve() != target.resolve():
                shutil.copyfile(path, mirror / "modules" / path.name)
                names[display_path(mirror / "modules" / path.name)] = display_path(path)
        placed = mirror / "modules" / f"{target.stem}.yaml"
        if placed.exists():  # --out somewhere else, named as a module of the source is
            placed = placed.with_name(f"{target.stem}-imported.yaml")
        placed.write_text(text, encoding="utf-8")
        names[display_path(placed)] = display_path(target)
        if (source / FOLDER).is_dir():
            shutil.copytree(source / FOLDER, mirror / FOLDER, symlinks=True)
        for name, data in pictures.items():
            (mirror / name).parent.mkdir(parents=True, exist_ok=True)
            (mirror / name).write_bytes(data)
        try:
            handbook = load_handbook(mirror)
            problems = handbook_problems(handbook)
        except ContentError as error:
            problems = error.problems
        shown = display_path(source).rstrip("/") + "/"
        if problems:
            real = [
                replace(p, file=names.get(p.file, p.file.replace(display_path(mirror), shown.rstrip("/"))))
                for p in problems
            ]
            raise ContentError(real, shown)
        return [note.replace(display_path(mirror), shown.rstrip("/")) for note in handbook.notes]


__all__ = ["ImportOptions", "Imported", "Unplaced", "UnplacedError", "import_word"]
