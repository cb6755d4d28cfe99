"""How long the grader's row messages may be, and how a text is cut to a length."""

from __future__ import annotations

MAX_MESSAGE = 600  # a row's message (its failed criteria, a limit that stopped it)
MAX_DETAIL = 300  # a message about one problem: what raised, why evidence is unusable, a note


def clip(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and "…" in exactly ``limit``."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
