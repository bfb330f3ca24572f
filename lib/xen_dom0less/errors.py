"""One exception type for user mistakes, kept apart from bugs.

The CLI prints a UserError as plain lines and exits 1; anything else is a
bug and gets a traceback with exit 2.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input: one or more problems, each a sentence naming where and how to fix."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class Problems:
    """Collects every problem so the user sees them all at once."""

    def __init__(self, source: str):
        self.source = source
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{self.source}: {where}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise UserError(self.items)


def article(word: str) -> str:
    """'an integer', 'a string': the word with its indefinite article."""
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"
