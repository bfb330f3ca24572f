"""User mistakes as records, kept apart from bugs.

A problem is a :class:`Problem`: the file it is in, the key, node or variable,
the line when known, and a sentence saying what is wrong and how to fix it. A
warning (a risk the build takes on, :mod:`generator.check.advice`) is the same
record, printed by :func:`warn` as :func:`report` prints errors.
Every reader of input collects its problems (:class:`Problems`) so the user
sees them all at once, and raises them as one :class:`UserError` of the kind
that says whose fault it is: the description, an input file, an external tool
(with its exit status) or the build's surroundings. :func:`report` prints one
line per problem, the same for the ``dom0less`` command and the Yocto layer's
tasks; the command then exits 1. Anything else is a bug: traceback, exit 2.
"""

# NamedTuple: annotations evaluated, not `from __future__` strings (see generator/model.py).
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Callable, NamedTuple, Optional, TextIO, TypeVar, Union

#: The exit status of a command stopped by a user mistake.
EXIT_USER = 1

T = TypeVar("T")


class Problem(NamedTuple):
    """One thing wrong: where it is (as far as known) and what to do about it."""

    message: str
    #: the file it is in (a description, an ImageBuilder config, a DTB); "" if none
    source: str = ""
    #: the key (domains[0].memory), device-tree node or variable (DOMU_KERNEL[0]); "" if none
    where: str = ""
    #: 1-based line and column in ``source``, when known
    line: Optional[int] = None
    column: Optional[int] = None

    def __str__(self) -> str:
        """``file:line:column: where: message``, leaving out the parts not known."""
        place = self.source
        if self.line is not None:
            place += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return ": ".join(part for part in (place, self.where, self.message) if part)


class UserError(Exception):
    """Bad input: one or more problems, each a sentence naming where and how to fix."""

    def __init__(self, problems: Union[str, Problem, Iterable[Union[str, Problem]]]):
        if isinstance(problems, (str, Problem)):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(
            p if isinstance(p, Problem) else Problem(p) for p in problems
        )
        super().__init__()

    def __str__(self) -> str:
        return "\n".join(self.lines)

    @property
    def lines(self) -> list[str]:
        """Each problem as the text printed for it."""
        return [str(p) for p in self.problems]


class DescriptionError(UserError):
    """The system description is wrong: its YAML, its schema or a rule over what it asks."""


class InputFileError(UserError):
    """A file given as input cannot be used: missing, unreadable, or not what it should be
    (a DTB that is none, an ImageBuilder config import cannot read)."""


class ToolError(UserError):
    """An external program (make, dtc, mkimage...) failed or could not be run."""

    def __init__(
        self,
        problems: Union[str, Problem, Iterable[Union[str, Problem]]],
        tool: str,
        status: Optional[int],
    ):
        super().__init__(problems)
        self.tool = tool
        #: its exit status; None if it did not start or was killed for hanging
        self.status = status


class BuildError(UserError):
    """What a build works in is wrong: the output directory, Xen's source tree, the cache."""


#: A domain's name after its index in a key (``domains[0] (rtos).memory``), for people only.
_NAMED = re.compile(r" \([^)]*\)")


class Problems:
    """Collects every problem of one source so the user sees them all at once.

    ``lines`` (key path -> line, from the YAML reader) places a problem given by key on
    the line of that key, or of the nearest enclosing one the file has.
    """

    def __init__(
        self,
        source: str,
        kind: type[UserError] = DescriptionError,
        lines: Optional[Mapping[str, int]] = None,
    ):
        self.source = source
        self.kind = kind
        self.lines = lines or {}
        self.items: list[Problem] = []

    def add(
        self, where: str, message: str, line: Optional[int] = None, column: Optional[int] = None
    ) -> None:
        self.items.append(self.placed(Problem(message, where=where), line, column))

    def placed(
        self, problem: Problem, line: Optional[int] = None, column: Optional[int] = None
    ) -> Problem:
        """``problem`` (found by key alone, as a warning is) in this source, on the line of
        its key unless ``line`` is given."""
        line = self.line_of(problem.where) if line is None else line
        return problem._replace(source=self.source, line=line, column=column)

    def line_of(self, where: str) -> Optional[int]:
        """The line of key path ``where`` or of its nearest enclosing key; None if unknown."""
        path = _NAMED.sub("", where)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[: max(path.rfind("."), path.rfind("["), 0)]
        return None

    def raise_if_any(self) -> None:
        if self.items:
            raise self.kind(self.items)


class Checks:
    """Independent checks run one after another, every one's problems kept, so a build names
    all that is wrong with its inputs before it starts instead of one thing per attempt."""

    def __init__(self) -> None:
        self.errors: list[UserError] = []

    def run(self, check: Callable[..., T], *args: object) -> Optional[T]:
        """``check(*args)``; None if it raised a UserError (kept for raise_if_any)."""
        try:
            return check(*args)
        except UserError as error:
            self.errors.append(error)
            return None

    def refuse(self, error: UserError) -> None:
        """Keep ``error``, found without running a check."""
        self.errors.append(error)

    def raise_if_any(self) -> None:
        """Raise the one error as it is (a ToolError keeps its tool and status), or all their
        problems as the kind they share (a plain UserError when the faults are of several
        kinds: whose fault it is then differs problem by problem)."""
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            problems = [p for error in self.errors for p in error.problems]
            kinds = {type(error) for error in self.errors}
            kind = kinds.pop() if len(kinds) == 1 else UserError
            raise (UserError if kind is ToolError else kind)(problems)


def report(error: UserError, stream: Optional[TextIO] = None) -> int:
    """Print ``error``'s problems one line each (``error: ...``); the exit status to return."""
    _print("error", error.problems, stream)
    return EXIT_USER


def warn(warnings: Iterable[Problem], stream: Optional[TextIO] = None) -> None:
    """Print warnings one line each (``warning: ...``), placed as errors are."""
    _print("warning", warnings, stream)


def _print(label: str, problems: Iterable[Problem], stream: Optional[TextIO]) -> None:
    for problem in problems:
        print(f"{label}: {one_line(str(problem))}", file=stream or sys.stderr)


def one_line(text: str) -> str:
    """``text`` with newlines, other control characters and undecodable bytes escaped.

    A problem is one line even when the file name or value it quotes holds a
    newline, and printing it cannot fail on a name that is not UTF-8.
    """
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def article(word: str) -> str:
    """'an integer', 'a string': the word with its indefinite article."""
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"
