"""Reading Chinese text for the policy engine: normalised characters with their offsets, sentences, clauses.

Whitespace and zero-width characters are dropped and each character is folded with NFKC (full-width
letters and digits, compatibility forms), so "责 任 书" reads as 责任书; every normalised character keeps
the offset of the character it came from, so a finding's span points into the text as given.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

SENTENCE_ENDS = frozenset("。；;！!？?\n\r")
CLAUSE_ENDS = frozenset("，,：:")
_DROPPED = frozenset(" \t\u3000\u00a0\u200b\u200c\u200d\ufeff\u2060")


@dataclass(slots=True)
class Clause:
    start: int  # offsets into the normalised text
    end: int
    sentence: int
    actor: str = "community"  # "community" or "other": who the clause asks to act
    negated_from: list[int] = field(default_factory=list)  # normalised offsets from which a negation holds


@dataclass(slots=True)
class Normalised:
    text: str
    offsets: list[int]  # normalised index -> original index
    original: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) of a normalised [start, end)."""
        if not self.offsets:
            return 0, 0
        first = self.offsets[min(start, len(self.offsets) - 1)]
        last = self.offsets[min(end, len(self.offsets)) - 1] + 1
        return first, last


def normalise(text: str) -> Normalised:
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        if ch in _DROPPED:
            continue
        folded = unicodedata.normalize("NFKC", ch) if ord(ch) > 0x7F else ch
        folded = folded.lower()
        for f in folded:
            if f in _DROPPED or f == " ":
                continue
            out.append(f)
            offsets.append(i)
    return Normalised(text="".join(out), offsets=offsets, original=text)


def clauses(text: str) -> list[Clause]:
    """Sentences split on 。；;！？ and line ends, each split on ，,：: into clauses."""
    out: list[Clause] = []
    sentence = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in SENTENCE_ENDS or ch in CLAUSE_ENDS:
            if i > start:
                out.append(Clause(start=start, end=i, sentence=sentence))
            start = i + 1
            if ch in SENTENCE_ENDS:
                sentence += 1
    if len(text) > start:
        out.append(Clause(start=start, end=len(text), sentence=sentence))
    return out
