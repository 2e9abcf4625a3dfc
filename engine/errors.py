"""Errors the engine raises for bad input.

Each issue has a stable ``code`` (for translation and tests), the ``path``
in the experiment spec it concerns, and an English message that names the
fix. ``str(SpecError)`` is one line per issue, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    path: str
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(ValueError):
    """One or more problems in an experiment spec or its inputs."""

    def __init__(self, issues: list[Issue] | Issue | str, code: str = "invalid") -> None:
        if isinstance(issues, str):
            issues = [Issue("", issues, code)]
        elif isinstance(issues, Issue):
            issues = [issues]
        self.issues: list[Issue] = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))

    @property
    def code(self) -> str:
        return self.issues[0].code if self.issues else "invalid"
