"""The content types: a handbook of modules, sections and worked examples (data only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Origin:
    """Where a value came from: its file, its field path there, and the line and column of each field."""

    file: str
    path: str = ""
    line: int = 0
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    column: int = 0
    columns: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def field_path(self, name: str) -> str:
        """The full field path of one of this value's fields (`sections[2].examples[0].a`)."""
        return f"{self.path}.{name}" if self.path else name

    def line_of(self, name: str) -> int:
        """The line a field (or list item, `must_know[1]`) starts on; the value's own line if unknown."""
        return self.lines.get(name, self.line)

    def column_of(self, name: str) -> int:
        """The column (from 1) a field's value starts at, where its line is known; else the value's own."""
        return self.columns.get(name, self.column) if name in self.lines else self.column


@dataclass(frozen=True)
class RubricPoint:
    """One scoring point (给分点) of a short answer: what the answer must contain, and its points."""

    point: str
    points: int
    origin: Origin = field(default=Origin(""), compare=False, repr=False)


@dataclass(frozen=True)
class Example:
    """A worked question with its reference answer (a short-answer exam item); `id` is stable across reordering."""

    id: str
    q: str
    a: str
    rubric: tuple[RubricPoint, ...] = ()
    points: int | None = None
    difficulty: str = ""
    lines: int | None = None
    tests: tuple[str, ...] = ()  # the knowledge points it tests: k2 (must_know 2), tip1, pit1, or 2.1/k2
    origin: Origin = field(default=Origin(""), compare=False, repr=False)


@dataclass(frozen=True)
class Group:
    """A 组合题's shared part: its stem (a 材料, a figure, a table) printed once under one number, above its
    sub-questions (1)(2)…, each an Exercise of its own kind that points back here."""

    id: str
    q: str
    size: int  # how many sub-questions it has
    points: int | None = None  # the whole question's points, shared out over its sub-questions; None: theirs
    origin: Origin = field(default=Origin(""), compare=False, repr=False)


@dataclass(frozen=True)
class Exercise:
    """An exam item of any registered kind (questions/); fields a kind does not use stay empty."""

    id: str
    kind: str
    q: str
    options: tuple[str, ...] = ()  # option texts, lettered A, B, … on a paper
    answer: str = ""  # the key: option letters (B, ACD), or true/false
    pinned: tuple[str, ...] = ()  # letters of options that stay in place when options are shuffled
    why: str = ""  # the explanation printed in the key
    a: str = ""  # a reference answer
    rubric: tuple[RubricPoint, ...] = ()  # scoring points (给分点)
    points: int | None = None
    difficulty: str = ""
    lines: int | None = None
    follows: str = ""  # the id of the item this one must directly follow (上题…)
    material: str = ""  # a 材料 printed before this item for it and the items that follow it (阅读材料，完成第 6–8 题)
    tests: tuple[str, ...] = ()  # the knowledge points it tests: k2 (must_know 2), tip1, pit1, or 2.1/k2
    use: str = "practice"  # "exam": held back for exams, never printed by the handbook or exported unless asked
    group: Group | None = None  # the 组合题 this item is a sub-question of (kind: group in the source)
    sub: int = 0  # its number in the group, from 1 (0: a question of its own)
    origin: Origin = field(default=Origin(""), compare=False, repr=False)


@dataclass(frozen=True)
class Section:
    """One numbered section (`2.1`) and its five parts."""

    id: str
    title: str
    overview: str
    must_know: tuple[str, ...]
    tips: tuple[str, ...] = ()
    pitfalls: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    exercises: tuple[Exercise, ...] = ()
    origin: Origin = field(default=Origin(""), compare=False, repr=False)

    @property
    def practice(self) -> tuple[Exercise, ...]:
        """The exercises students may see (the handbook's 练习); items held back for exams are left out."""
        return tuple(x for x in self.exercises if x.use != "exam")


@dataclass(frozen=True)
class Module:
    """One module (chapter): its objective and sections; `short_title` labels it in the checklist."""

    id: int
    title: str
    objective: str
    sections: tuple[Section, ...]
    short_title: str | None = None
    origin: Origin = field(default=Origin(""), compare=False, repr=False)

    @property
    def label(self) -> str:
        """The title used where space is short (the checklist)."""
        return self.short_title or self.title

    @property
    def question_count(self) -> int:
        """How many worked examples the module holds."""
        return sum(len(s.examples) for s in self.sections)


# The content format's version (handbook.yaml and modules/*.yaml, README "Content format"): raised when a field
# changes meaning or a required one is added, so a teacher's handbook can say which paperkit reads it.
CONTENT_FORMAT = "1"


@dataclass(frozen=True)
class Handbook:
    """A whole handbook: its front matter and its modules in id order."""

    title: str
    date: str
    language: str
    modules: tuple[Module, ...]
    coverage: str = ""
    usage: str = ""
    subtitle: str = ""
    author: str = ""
    checklist_title: str = "学习 Checklist"
    checklist_note: str = ""
    source: str = "source/"
    origin: Origin = field(default=Origin(""), compare=False, repr=False)
    notes: tuple[str, ...] = field(default=(), compare=False, repr=False)  # warnings found reading it

    @property
    def sections(self) -> tuple[Section, ...]:
        """Every section of every module, in order."""
        return tuple(s for m in self.modules for s in m.sections)

    @property
    def examples(self) -> tuple[Example, ...]:
        """Every worked example, in order."""
        return tuple(e for s in self.sections for e in s.examples)

    @property
    def exercises(self) -> tuple[Exercise, ...]:
        """Every exam item beside the worked examples, in order."""
        return tuple(x for s in self.sections for x in s.exercises)
