"""What verify found: a report of problems, each a kind, the record it concerns and detail
(app.core.history.verify checks the store; app.core.history.verify_replay replays the history)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.core.formats.json_value import Json

ProblemKind = Literal[
    "unknown-format", "head-missing", "head-unreadable", "head-mismatch",
    "metadata-unreadable", "missing-parent", "extra-root", "fork", "sequence", "broken-link",
    "root-not-checkpoint", "missing-payload", "orphan-payload", "unreadable-payload",
    "payload-hash-mismatch", "missing-blob", "orphan-blob", "corrupt-blob", "snapshot-mismatch",
    "patch-failed", "state-mismatch", "inverse-mismatch", "missing-head-value",
    "orphan-head-value", "head-value-mismatch", "head-value-lost", "metadata-lost",
    "payload-lost", "blob-lost",
]
@dataclass
class Problem:
    """One finding: what is wrong (``kind``), where (``subject``: collection/key), and detail."""

    kind: ProblemKind
    subject: str
    detail: str

    def to_dict(self) -> dict[str, Json]:
        return {"kind": self.kind, "subject": self.subject, "detail": self.detail}


@dataclass
class VerifyReport:
    full: bool
    versions: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def kinds(self) -> set[str]:
        return {problem.kind for problem in self.problems}

    def add(self, kind: ProblemKind, subject: str, detail: str) -> None:
        self.problems.append(Problem(kind, subject, detail))

    def to_dict(self) -> dict[str, Json]:
        return {"ok": self.ok, "full": self.full, "versions": self.versions,
                "problems": [problem.to_dict() for problem in self.problems]}
