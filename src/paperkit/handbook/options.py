"""Handbook options: the command line's text into one typed HandbookOptions, the twin of ExamOptions.

The defaults live in `HandbookOptions` and nowhere else; the CLI's help texts read them from `DEFAULTS`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from paperkit.errors import UsageError
from paperkit.flags import MAX_OPTION_TEXT, check_length, parse_choice, parse_module_list, parse_number
from paperkit.i18n import _
from paperkit.render.page import DEFAULT_PAGE, PageGeometry, geometry_for

ANSWER_MODES = ("inline", "end", "none")  # after each question, in an appendix (例题答案), left out
EXERCISE_MODES = ("none", "end")  # end: each module ends with its 练习, answers in a 练习答案 appendix
MAX_JOBS = 64


@dataclass(frozen=True)
class HandbookOptions:
    """How a handbook is set: paper, answers, 练习, a proof of some modules, text past the page edge allowed."""

    page: PageGeometry = DEFAULT_PAGE
    answers: str = "inline"
    exercises: bool = False
    modules: tuple[int, ...] | None = None  # a proof of only these modules (its page numbers are its own)
    allow_overflow: bool = False  # text past the page edge prints with a warning instead of failing
    docx: bool = False  # the 练习 (and their answers) also as an editable Word file beside the PDF


DEFAULTS = HandbookOptions()


@dataclass(frozen=True)
class HandbookFlags:
    """The handbook flags as typed; None where a flag was not given."""

    paper: str | None = None
    answers: str | None = None
    exercises: str | None = None
    modules: str | None = None
    allow_overflow: bool = False
    docx: bool = False


def parse_handbook_flags(flags: HandbookFlags) -> HandbookOptions:
    """The flags into HandbookOptions; a bad value is a UsageError naming the flag."""
    for flag, text in (("--paper", flags.paper), ("--answers", flags.answers), ("--exercises", flags.exercises)):
        if text is not None:
            check_length(flag, text, MAX_OPTION_TEXT)  # a word: a longer one is refused before it is quoted back
    options = HandbookOptions(
        page=DEFAULTS.page if flags.paper is None else geometry_for(flags.paper),
        answers=DEFAULTS.answers if flags.answers is None else check_answers(flags.answers),
        exercises=DEFAULTS.exercises
        if flags.exercises is None
        else parse_choice("--exercises", flags.exercises, EXERCISE_MODES) == "end",
        modules=None if flags.modules is None else parse_module_list(flags.modules),
        allow_overflow=flags.allow_overflow,
        docx=flags.docx,
    )
    if options.docx and not options.exercises:
        raise UsageError(_("--docx writes the handbook's 练习 as a Word file: give it with --exercises end"))
    return options


def check_answers(answers: str) -> str:
    """The answer mode, or a UsageError naming the valid ones."""
    return parse_choice("--answers", answers, ANSWER_MODES, "answer mode")


def default_jobs() -> int:
    """How many processes lay the handbook out by default: one per core, at most four."""
    return max(1, min(os.cpu_count() or 1, 4))


def parse_jobs(text: str | None) -> int:
    """`--jobs N`, or the default."""
    return default_jobs() if text is None else parse_number("--jobs", text, 1, MAX_JOBS)
