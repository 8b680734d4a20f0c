"""The exceptions paperkit raises, and the located problems they carry."""

from __future__ import annotations

from dataclasses import dataclass

from paperkit.i18n import _, ngettext


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the content, pinned to a file, a line (and column) and a field."""

    file: str
    line: int
    field: str
    message: str
    column: int = 0  # from 1, where the field's value (or the bad text) starts; 0: the line only

    def __str__(self) -> str:
        # file:line:column, as compilers print it: editors and terminals jump to the place.
        where = f"{self.file}:{self.line}" if self.line else self.file
        where += f":{self.column}" if self.line and self.column else ""
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class PaperkitError(Exception):
    """Base of every error paperkit reports to a user; `exit_code` is what the CLI returns."""

    exit_code = 1


class ListedError(PaperkitError):
    """An error that is a list of problems, one line each, then a closing summary line (the CLI prints them all)."""

    def summary(self) -> str:
        """The closing line after the list."""
        raise NotImplementedError

    def lines(self) -> list[str]:
        """Every problem, one line each, then the summary."""
        raise NotImplementedError


class ContentError(ListedError):
    """The content under a source directory has one or more problems."""

    def __init__(self, problems: list[Problem], source: str) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.field, p.message))
        self.source = source
        super().__init__(self.summary())

    def summary(self) -> str:
        """The closing line after the list of problems."""
        count = len(self.problems)
        return ngettext(
            "{count} error in {source}; nothing was built.", "{count} errors in {source}; nothing was built.", count
        ).format(count=count, source=self.source)

    def lines(self) -> list[str]:
        """Every problem, one line each, then the summary."""
        return [str(p) for p in self.problems] + [self.summary()]


class UsageError(PaperkitError):
    """A command-line option or option combination that cannot work."""

    exit_code = 2


class RenderError(PaperkitError):
    """Templates, fonts or the PDF engine failed for a reason the user can act on."""


class WorkerError(RenderError):
    """A render worker process stopped in the middle of a job (the OOM killer's SIGKILL, a crash)."""


class OutputError(PaperkitError):
    """The output cannot be written where it was asked to go."""


class ScoreSheetError(ListedError):
    """A score sheet that cannot be analysed; every problem is one line with its sheet, row and column."""

    def __init__(self, problems: list[str], subject: str | None = None) -> None:
        self.problems = problems
        self.subject = subject if subject is not None else _("the score sheet")
        super().__init__(self.summary())

    def summary(self) -> str:
        """The closing line after the list of problems."""
        count = len(self.problems)
        return ngettext(
            "{count} problem in {subject}; nothing was written.",
            "{count} problems in {subject}; nothing was written.",
            count,
        ).format(count=count, subject=self.subject)

    def lines(self) -> list[str]:
        """Every problem, one line each, then the summary."""
        return [*self.problems, self.summary()]


class ScanError(PaperkitError):
    """A scan, photo or scan record that cannot be read; the message names the file and what to do."""


class CellProblem(PaperkitError, ValueError):
    """An answer or a score-sheet cell that cannot be scored; the message says why, the caller adds where."""


class MathError(PaperkitError, ValueError):
    """TeX that the math renderer cannot draw (validation turns it into a located Problem)."""


class WorkbookError(PaperkitError):
    """A spreadsheet (.xlsx or CSV text) that is damaged, hostile or past a reader's limits: one line naming the
    file. The roster and score-sheet readers pass it on as their own error (UsageError, ScoreSheetError)."""


class WordError(PaperkitError):
    """A Word file that cannot be imported (not a .docx, damaged, protected or past a limit): one line naming it."""


class UnplacedError(ListedError):
    """Paragraphs the layout does not explain: every one is a line (paragraph number and text), then the summary."""

    def __init__(self, report: list[str], file: str) -> None:
        self.report = report
        self.file = file
        super().__init__(self.summary())

    def summary(self) -> str:
        """The closing line after the report."""
        count = len(self.report)
        return ngettext(
            "{count} paragraph of {file} could not be placed; nothing was written (--partial writes the rest)",
            "{count} paragraphs of {file} could not be placed; nothing was written (--partial writes the rest)",
            count,
        ).format(count=count, file=self.file)

    def lines(self) -> list[str]:
        """Every paragraph not placed, one line each, then the summary."""
        return [*self.report, self.summary()]
