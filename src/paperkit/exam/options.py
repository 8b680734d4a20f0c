"""Exam options: the command line's text (or a manifest) into one typed ExamOptions, checked once at the edge.

Every message here names the flag, what arrived and what would be right. Below this module the library
takes ExamOptions (ints, a date, a PageGeometry) and never sees a flag name or a number as text.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from paperkit.errors import UsageError
from paperkit.flags import (
    MAX_DIGITS,
    MAX_OPTION_TEXT,
    check_length,
    parse_choice,
    parse_date,
    parse_module_list,
    parse_number,
    quoted,
)
from paperkit.i18n import _, ngettext
from paperkit.questions.rules import MULTI_RULES, Rules
from paperkit.render.page import DEFAULT_PAGE, PageGeometry, geometry_for

# The exam's limits, in one place: the flags, the preview's query and a manifest are all held to them.
MAX_VARIANTS = 26
MAX_DURATION = 1440  # minutes
MAX_TITLE = 100  # characters: a title longer than two lines of the header is a mistake (100,000 took 99 s)
MAX_COURSE = 50  # characters: one line under the title
MAX_QUESTIONS = 200  # on one paper (a score sheet of 150 items is the largest measured)
MAX_TOTAL_POINTS = 1000  # on one paper, so also the most one item can carry
MAX_SEED = 10**18 - 1  # a seed names the exam's folder: up to 18 digits keep every file name short


@dataclass(frozen=True)
class PartSpec:
    """One part (大题) of a blueprint: its kind, how many items, the points of each, and how it counts: every
    item (the usual part), the best `choose` of them (选做题, 任选其一), or none (附加题, outside the 满分)."""

    kind: str
    count: int
    points: int
    role: str = ""  # "" counted, "choose" (answer `choose` of `count`), "bonus" (附加题: not in the 满分)
    choose: int = 0  # with role "choose": how many items a student answers

    @property
    def text(self) -> str:
        """The short form, `choice:10x2` (`short:2x10:choose1`, `short:1x10:bonus`)."""
        suffix = {"": "", "bonus": ":bonus", "choose": f":choose{self.choose}"}[self.role]
        return f"{self.kind}:{self.count}x{self.points}{suffix}"

    @property
    def counted(self) -> int:
        """The points this part adds to the 满分."""
        return {"": self.count, "choose": self.choose, "bonus": 0}[self.role] * self.points

    @property
    def rank(self) -> int:
        """Where the part's role puts it: counted parts first, then 选做题, then 附加题 (as papers print them)."""
        return PART_ROLES.index(self.role)


PART_ROLES = ("", "choose", "bonus")


@dataclass(frozen=True)
class ExamOptions:
    """What a teacher chose for one exam build; the defaults live here and nowhere else."""

    modules: tuple[int, ...]
    seed: int = 0
    count: int = 10
    total_points: int = 100
    variants: int = 1
    title: str | None = None  # None: the handbook title + 测试卷
    course: str = ""
    date: datetime.date | None = None  # None: a blank line to fill in by hand
    duration: int = 120
    page: PageGeometry = DEFAULT_PAGE
    seal_line: bool = False
    seal_pages: str = "all"  # "all": every page, on the binding edge (mirrored on the backs); "first": page 1 only
    seal_fields: tuple[str, ...] = ()  # fields beyond 姓名/学号/班级 in the seal (考场号, 座位号, 准考证号…)
    roster: Path | None = None
    parts: tuple[PartSpec, ...] = ()  # a blueprint: typed parts in paper order; () = short answers only
    same_questions: bool = False  # every variant asks the same items, in its own order with its own options
    shuffle: str = "variant"  # choice options: one order per variant, or per student (with a roster)
    exclude: tuple[Path, ...] = ()  # manifests whose items this exam must not reuse (make-ups)
    pool: str = "exam"  # which items a paper draws: held back for exams, practice (the handbook's), or all
    multi_rule: str = "half"  # how 多选 are scored (printed on the paper, used by every scorer): half or per-option
    answer_sheet: bool = False  # a 答题卡 per student (or a blank one per variant) beside the papers
    answer_grid: bool = False  # a 选择题答题表 (题号/答案 grid) on the paper itself
    blanks: str = "part"  # fill-in blanks: one length per part, or each sized to its answer ("answer")
    docx: bool = False  # each variant's paper and key also as a Word document (.docx) beside the PDFs

    @property
    def rules(self) -> Rules:
        """The scoring rules the paper prints and every scorer uses."""
        return Rules(multi=self.multi_rule)

    @property
    def date_text(self) -> str:
        """The date as printed and recorded (ISO), '' when not given."""
        return self.date.isoformat() if self.date else ""


# The header options: a reprint from a manifest may change these (and says so), never the selection.
HEADER_FLAGS: Mapping[str, str] = {
    "title": "--title",
    "course": "--course",
    "date": "--date",
    "duration": "--duration",
    "page": "--paper",
    "seal_line": "--seal-line",
    "seal_pages": "--seal-pages",
    "seal_fields": "--seal-fields",
    "answer_grid": "--answer-grid",
    "blanks": "--blanks",
    "docx": "--docx",
}
SELECTION_FLAGS: Mapping[str, str] = {
    "modules": "--modules",
    "seed": "--seed",
    "count": "--count",
    "total_points": "--total-points",
    "variants": "--variants",
    "roster": "--roster",
    "parts": "--parts",
    "blueprint": "--blueprint",
    "same_questions": "--same-questions",
    "exclude": "--exclude",
    "shuffle": "--shuffle-options",
    "pool": "--pool",
    "multi_rule": "--multi-rule",
    "answer_sheet": "--answer-sheet",
}
# The text flags, their lengths and why: the header's two free texts, and words or short lists for the rest
# (numbers, --modules and --parts are measured by their parsers, which name the range). The reasons are
# check_length's own, which it words in the current language.
TEXT_FLAGS: tuple[tuple[str, str, int, str], ...] = (
    ("title", "--title", MAX_TITLE, "fit on a paper"),
    ("course", "--course", MAX_COURSE, "fit on a paper"),
    *(
        (name, flag, MAX_OPTION_TEXT, "are allowed")
        for name, flag in (
            ("date", "--date"),
            ("paper", "--paper"),
            ("seal_pages", "--seal-pages"),
            ("seal_fields", "--seal-fields"),
            ("shuffle_options", "--shuffle-options"),
            ("pool", "--pool"),
            ("multi_rule", "--multi-rule"),
            ("blanks", "--blanks"),
        )
    ),
)
POOLS = ("exam", "practice", "all")  # held back for exams (use: exam), the handbook's items, or both
BLANK_MODES = ("part", "answer")  # --blanks: one length per part (no hint), or each sized to its answer


def pool_name(pool: str) -> str:
    """Which items a pool holds, as a message says it (`5 choice items held back for exams`)."""
    return {"exam": _("held back for exams"), "practice": _("for practice"), "all": _("in all")}[pool]


@dataclass(frozen=True)
class ExamFlags:
    """The exam flags as typed; None where a flag was not given (a default is never mistaken for a choice)."""

    modules: str | None = None
    seed: str | None = None
    count: str | None = None
    total_points: str | None = None
    variants: str | None = None
    title: str | None = None
    course: str | None = None
    date: str | None = None
    duration: str | None = None
    paper: str | None = None
    seal_line: bool | None = None
    seal_pages: str | None = None
    seal_fields: str | None = None
    roster: Path | None = None
    parts: str | None = None
    blueprint: Path | None = None
    same_questions: bool | None = None
    exclude: tuple[Path, ...] | None = None
    shuffle_options: str | None = None
    pool: str | None = None
    multi_rule: str | None = None
    answer_sheet: bool | None = None
    answer_grid: bool | None = None
    blanks: str | None = None
    docx: bool | None = None

    def check_lengths(self) -> None:
        """Every text flag within its length (TEXT_FLAGS), before any is parsed or quoted back."""
        for name, flag, limit, why in TEXT_FLAGS:
            text = getattr(self, name)
            if text is not None:
                check_length(flag, text, limit, why)

    def given(self, names: Mapping[str, str]) -> list[str]:
        """The flags among `names` (field → flag) that were given, in `names` order."""
        field_of = {"page": "paper", "shuffle": "shuffle_options"}
        return [flag for name, flag in names.items() if getattr(self, field_of.get(name, name)) is not None]


def parse_exam_flags(flags: ExamFlags) -> ExamOptions:
    """The flags into ExamOptions: syntax and ranges only (content-dependent checks: `check_against_bank`)."""
    if flags.modules is None:
        raise UsageError(_("--modules is required, e.g. --modules 2,3,8 (see `paperkit list` for the modules)"))
    flags.check_lengths()
    defaults = ExamOptions(modules=())
    parts = _parts(flags)
    if parts and flags.count is not None:
        raise UsageError(
            _("--count {value}: the parts set the number of questions; leave --count out").format(
                value=quoted(flags.count)
            )
        )
    if parts and flags.total_points is not None:
        raise UsageError(
            _("--total-points {value}: the parts set the points ({points} in all); leave --total-points out").format(
                value=quoted(flags.total_points), points=sum(p.counted for p in parts)
            )
        )
    if flags.same_questions and not parts:
        raise UsageError(_("--same-questions shuffles typed parts; give --parts or --blueprint too"))
    shuffle = flags.shuffle_options or "variant"
    if shuffle not in ("variant", "student"):
        raise UsageError(
            _("--shuffle-options {value}: expected variant (one order per paper) or student").format(value=shuffle)
        )
    if shuffle == "student" and (not parts or flags.roster is None):
        raise UsageError(
            _(
                "--shuffle-options student gives each student of a roster an own option order; "
                "give --roster and --parts (or --blueprint) too"
            )
        )
    selection = ExamOptions(
        modules=parse_module_list(flags.modules),
        seed=defaults.seed if flags.seed is None else parse_number("--seed", flags.seed, 0, MAX_SEED),
        # The modules' pool bounds the count (check_against_bank), so its message can name the pool.
        count=defaults.count if flags.count is None else parse_number("--count", flags.count, 1),
        total_points=defaults.total_points
        if flags.total_points is None
        else parse_number("--total-points", flags.total_points, 1, MAX_TOTAL_POINTS),
        variants=defaults.variants
        if flags.variants is None
        else parse_number("--variants", flags.variants, 1, MAX_VARIANTS, " (one paper per letter A–Z)"),
        roster=flags.roster,
        parts=parts,
        same_questions=bool(flags.same_questions),
        shuffle=shuffle,
        exclude=tuple(flags.exclude or ()),
        pool=defaults.pool if flags.pool is None else parse_choice("--pool", flags.pool, POOLS, "pool"),
        multi_rule=defaults.multi_rule
        if flags.multi_rule is None
        else parse_choice("--multi-rule", flags.multi_rule, MULTI_RULES, "rule"),
        answer_sheet=bool(flags.answer_sheet),
    )
    if parts:
        selection = replace(selection, count=sum(p.count for p in parts), total_points=sum(p.counted for p in parts))
    return _with_header(flags, selection)


_PART = re.compile(r"([a-z]+):(\d+)[x×*](\d+)(?::(bonus|choose(\d{1,3})))?")


def _part_range(shown: str) -> UsageError:
    return UsageError(
        _(
            "--parts {value}: a part has 1 to {questions} questions of 1 to {points} points each, like choice:10x2"
        ).format(value=shown, questions=MAX_QUESTIONS, points=MAX_TOTAL_POINTS)
    )


def parse_parts(text: str) -> tuple[PartSpec, ...]:
    """`choice:10x2,short:4x10` into part specs in paper order: the registry's (the conventional) order of
    kinds, then 选做题 (`short:2x10:choose1`), then 附加题 (`short:1x10:bonus`)."""
    from paperkit.questions.registry import GROUP_KIND, part_kinds

    kinds = ", ".join(part_kinds())
    specs: dict[tuple[str, str], PartSpec] = {}
    shown = quoted(text)
    if len(text) > MAX_OPTION_TEXT:
        raise _part_range(shown)
    for item in (piece.strip() for piece in text.split(",")):
        match = _PART.fullmatch(item)
        if match is None:
            raise UsageError(
                _(
                    "--parts {value}: '{item}' is not kind:COUNTxPOINTS; write e.g. choice:10x2,short:4x10 "
                    "(kinds: {kinds}; a 选做题 short:2x10:choose1, a 附加题 short:1x10:bonus)"
                ).format(value=shown, item=quoted(item), kinds=kinds)
            )
        kind, count_text, points_text, role_text, choose_text = match.groups()
        if kind not in part_kinds():
            raise UsageError(
                _("--parts {value}: unknown kind '{kind}'; kinds are {kinds}").format(
                    value=shown, kind=kind, kinds=kinds
                )
            )
        role = "choose" if choose_text is not None else role_text or ""
        if (kind, role) in specs and role:
            raise UsageError(
                _("--parts {value}: {kind}:{role} is listed twice; give it once").format(
                    value=shown, kind=kind, role=role
                )
            )
        if (kind, role) in specs:
            raise UsageError(
                _("--parts {value}: {kind} is listed twice; give each kind once").format(value=shown, kind=kind)
            )
        # Measured before int(), which refuses 4,300 digits.
        if len(count_text) > MAX_DIGITS or len(points_text) > MAX_DIGITS:
            raise _part_range(shown)
        count, points = int(count_text), int(points_text)
        if count < 1 or points < 1:
            raise UsageError(
                _("--parts {value}: '{item}' needs at least one question of at least one point").format(
                    value=shown, item=item
                )
            )
        if count > MAX_QUESTIONS or points > MAX_TOTAL_POINTS:
            raise _part_range(shown)
        choose = int(choose_text) if choose_text is not None else 0
        if role == "choose" and not 0 < choose < count:
            raise UsageError(
                _(
                    "--parts {value}: '{item}' lets a student answer {choose} of {count} items; "
                    "a 选做题 answers fewer than it offers, like {kind}:2x{points}:choose1"
                ).format(value=shown, item=item, choose=choose, count=count, kind=kind, points=points)
            )
        if role == "choose" and kind == GROUP_KIND:
            raise UsageError(
                _(
                    "--parts {value}: '{item}': a 选做题 of 组合题 is not supported yet (each sub-question is "
                    "scored on its own); make it a counted part or a 附加题"
                ).format(value=shown, item=item)
            )
        if role == "choose" and marked_by_answer(kind):
            raise UsageError(
                _(
                    "--parts {value}: '{item}': a 选做题 is a kind marked by hand (short); choice, true/false and "
                    "fill-in answers are scored from what is written, which cannot tell the item answered first"
                ).format(value=shown, item=item)
            )
        specs[(kind, role)] = PartSpec(kind, count, points, role, choose)
    return in_paper_order(specs.values())


def choose_by_hand() -> str:
    """Why a 选做题 must be marked by hand: it counts the item a student did first, which only a teacher sees."""
    return _(
        "a 选做题 is a kind marked by hand (short); choice, true/false and fill-in answers are scored from what is "
        "written, which cannot tell the item answered first"
    )


def marked_by_answer(kind: str) -> bool:
    """Whether a kind's items are scored from the answer itself (typed, scanned), not marked by hand."""
    from paperkit.questions.registry import kind_of

    found = kind_of(kind)
    return found.objective or found.text_answers


def in_paper_order(parts: Iterable[PartSpec]) -> tuple[PartSpec, ...]:
    """Parts as a paper prints them: counted parts in the registry's order of kinds, then 选做题, then 附加题."""
    from paperkit.questions.registry import part_kinds

    return tuple(sorted(parts, key=lambda p: (p.rank, part_kinds().index(p.kind))))


def _parts(flags: ExamFlags) -> tuple[PartSpec, ...]:
    if flags.parts is not None and flags.blueprint is not None:
        raise UsageError(_("--parts and --blueprint both set the parts; give one of them"))
    if flags.parts is not None:
        parts, given = parse_parts(flags.parts), f"--parts {quoted(flags.parts)}"
    elif flags.blueprint is not None:
        from paperkit.exam.blueprint import read_blueprint

        parts = read_blueprint(flags.blueprint)
        given = f"--blueprint {flags.blueprint}"
    else:
        return ()
    if not any(p.counted for p in parts):
        raise UsageError(
            _("{given}: every part is a 附加题 (bonus); a paper needs at least one counted part").format(given=given)
        )
    questions, points = sum(p.count for p in parts), sum(p.count * p.points for p in parts)
    if questions > MAX_QUESTIONS:
        raise UsageError(
            _("{given}: {questions} questions in all; a paper holds at most {most}").format(
                given=given, questions=questions, most=MAX_QUESTIONS
            )
        )
    if points > MAX_TOTAL_POINTS:
        raise UsageError(
            _("{given}: {points} points in all; a paper gives at most {most}").format(
                given=given, points=points, most=MAX_TOTAL_POINTS
            )
        )
    return parts


def _with_header(flags: ExamFlags, base: ExamOptions) -> ExamOptions:
    """`base` with the header options the flags give."""
    return replace(
        base,
        title=base.title if flags.title is None else flags.title,
        course=base.course if flags.course is None else flags.course,
        date=base.date if flags.date is None else parse_date(flags.date),
        duration=base.duration
        if flags.duration is None
        else parse_number("--duration", flags.duration, 1, MAX_DURATION, " minutes"),
        page=base.page if flags.paper is None else geometry_for(flags.paper, two_up=True),
        seal_line=base.seal_line if flags.seal_line is None else flags.seal_line,
        seal_pages=base.seal_pages if flags.seal_pages is None else parse_seal_pages(flags.seal_pages),
        seal_fields=base.seal_fields if flags.seal_fields is None else parse_seal_fields(flags.seal_fields),
        answer_grid=base.answer_grid if flags.answer_grid is None else flags.answer_grid,
        blanks=base.blanks if flags.blanks is None else parse_choice("--blanks", flags.blanks, BLANK_MODES),
        docx=base.docx if flags.docx is None else flags.docx,
    )


def parse_seal_pages(text: str) -> str:
    """`all` or `first`."""
    if text not in ("all", "first"):
        raise UsageError(
            _("--seal-pages {value}: expected all (every page, on the binding edge) or first").format(value=text)
        )
    return text


def parse_seal_fields(text: str) -> tuple[str, ...]:
    """`考场号,座位号` into the extra fields of the seal (at most four, each at most six characters)."""
    fields = tuple(f.strip() for f in re.split(r"[,，、]", text) if f.strip())
    if len(fields) > 4 or any(len(f) > 6 for f in fields):
        raise UsageError(
            _("--seal-fields {value}: expected up to four short field names, like 考场号,座位号").format(value=text)
        )
    return fields


def _module_range(ids: Sequence[int]) -> str:
    ids = sorted(ids)
    if ids == list(range(ids[0], ids[-1] + 1)):
        return f"{ids[0]}–{ids[-1]}"
    return ", ".join(str(i) for i in ids)


def check_against_bank(
    options: ExamOptions, pools: Mapping[int, int], kind_pools: Mapping[str, Mapping[int, int]] | None = None
) -> None:
    """The options that depend on the content: modules that exist and hold questions, counts the pools allow.

    `pools` counts each module's worked examples; `kind_pools` each kind's items per module (for --parts),
    both after --exclude.
    """
    shown = ",".join(map(str, options.modules))
    if options.parts and kind_pools is not None:
        _check_known(options.modules, pools, shown)
        for kind in dict.fromkeys(p.kind for p in options.parts):  # a kind's parts (counted, 选做, 附加) share its pool
            specs = [p for p in options.parts if p.kind == kind]
            held = {m: kind_pools.get(kind, {}).get(m, 0) for m in options.modules}
            if sum(held.values()) < sum(p.count for p in specs):
                fields = {
                    "asked": ",".join(p.text for p in specs),
                    "modules": shown,
                    "held": sum(held.values()),
                    "kind": kind,
                    "pool": pool_name(options.pool),
                    "after": _(" left after --exclude") if options.exclude else "",
                    "per_module": ", ".join(f"{m}: {n}" for m, n in held.items()),
                }
                if options.pool == "all":
                    raise UsageError(
                        _(
                            "--parts {asked}: modules {modules} hold {held} {kind} items {pool}{after} "
                            "({per_module}); ask for fewer, add modules"
                        ).format(**fields)
                    )
                raise UsageError(
                    _(
                        "--parts {asked}: modules {modules} hold {held} {kind} items {pool}{after} "
                        "({per_module}); ask for fewer, add modules or draw from --pool all"
                    ).format(**fields)
                )
        return
    _check_known(options.modules, pools, shown)
    empty = [m for m in options.modules if not pools[m]]
    if empty and options.pool == "all":
        raise UsageError(
            _("--modules {modules}: module {module} has no short-answer items {pool}; choose other modules").format(
                modules=shown, module=empty[0], pool=pool_name(options.pool)
            )
        )
    if empty:
        raise UsageError(
            _(
                "--modules {modules}: module {module} has no short-answer items {pool}; "
                "choose other modules or draw from --pool all"
            ).format(modules=shown, module=empty[0], pool=pool_name(options.pool))
        )
    pool = sum(pools[m] for m in options.modules)
    if options.count > min(pool, MAX_QUESTIONS) and pool <= MAX_QUESTIONS:
        raise UsageError(
            ngettext(
                "--count {count}: expected a whole number from 1 to {most} "
                "(--modules {modules}: module {modules} holds {pool} short-answer items {pool_name})",
                "--count {count}: expected a whole number from 1 to {most} "
                "(--modules {modules}: modules {modules} hold {pool} short-answer items {pool_name})",
                len(options.modules),
            ).format(count=options.count, most=pool, modules=shown, pool=pool, pool_name=pool_name(options.pool))
        )
    if options.count > min(pool, MAX_QUESTIONS):
        raise UsageError(
            _(
                "--count {count}: expected a whole number from 1 to {most} (a paper holds at most {most} questions)"
            ).format(count=options.count, most=MAX_QUESTIONS)
        )
    if options.total_points < options.count:
        raise UsageError(
            _(
                "--total-points {points}: less than one point per question; give at least {count} for {count} questions"
            ).format(points=options.total_points, count=options.count)
        )


def _check_known(modules: Sequence[int], pools: Mapping[int, int], shown: str) -> None:
    """Every module asked for exists."""
    unknown = [m for m in modules if m not in pools]
    if unknown:
        raise UsageError(
            ngettext(
                "--modules {modules}: unknown module {unknown}; modules are {valid}",
                "--modules {modules}: unknown modules {unknown}; modules are {valid}",
                len(unknown),
            ).format(modules=shown, unknown=", ".join(map(str, unknown)), valid=_module_range(list(pools)))
        )


def refuse_selection(flags: ExamFlags) -> None:
    """A reprint prints the recorded questions: any selection flag is a UsageError naming it."""
    selection = flags.given(SELECTION_FLAGS)
    if selection:
        raise UsageError(
            _(
                "--from-manifest reprints the recorded questions; leave out {flags} "
                "(only --title, --course, --date, --duration, --paper and the --seal-* options may change)"
            ).format(flags=", ".join(selection))
        )


def reprint_options(recorded: ExamOptions, flags: ExamFlags) -> tuple[ExamOptions, tuple[str, ...]]:
    """A manifest's options with the header flags applied; returns them and the flags that changed something.

    Selection flags are refused: a reprint prints the recorded questions, it never selects again.
    """
    refuse_selection(flags)
    flags.check_lengths()
    options = _with_header(flags, recorded)
    changed = tuple(flag for name, flag in HEADER_FLAGS.items() if getattr(options, name) != getattr(recorded, name))
    return options, changed
