"""For the budget tests (issue 11): made-up policy texts of any size, and the steps a record says were limited."""

from __future__ import annotations

_WORDS = (
    "we may share your personal data with service providers partners affiliates advertisers to train "
    "improve models retain delete information content inputs outputs account services policy terms "
    "law enforcement cookies security rights access request notice update change children age"
)
VOCABULARY = _WORDS.split()


def paragraph(i: int, words: int = 12, salt: int = 0) -> str:
    picked = [VOCABULARY[(i * 7 + k * 13 + salt) % len(VOCABULARY)] for k in range(words)]
    return f"Clause {i}: " + " ".join(picked) + f" item{i}x{salt}."


def document(paragraphs: list[str]) -> str:
    return "# Privacy Policy\n\n" + "\n\n".join(paragraphs)


def steps(record: dict) -> set[str]:
    """The steps a change record's ``limits`` name (done coarsely, past their budget)."""
    return {entry["step"] for entry in record.get("limits", [])}
