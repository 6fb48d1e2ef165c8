"""Answers of read-model queries kept while the read model stands at the same position.

A read model changes only when events are applied, and applying them moves its tracked
position: the same position means the same rows, so an answer computed at that position is
still exact. Counting a district's cases for a queue's filter labels costs more than the rest
of the page at city scale (25,000 rows a district), while the position is one primary-key read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class PositionCache:
    """A bounded map of (question, position) to answer, safe to share between threads."""

    def __init__(self, size: int = 1024) -> None:
        self._answers: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, question: Hashable, position: int, compute: Callable[[], T]) -> T:
        """The answer to `question` at `position`: kept from before if the position has not
        moved, else computed now (the caller read `position` before computing, so a kept
        answer is never older than the position it is kept under)."""
        with self._lock:
            found = self._answers.get(question)
            if found is not None and found[0] == position:
                self._answers.move_to_end(question)
                return found[1]  # type: ignore[no-any-return]
        answer = compute()
        with self._lock:
            self._answers[question] = (position, answer)
            self._answers.move_to_end(question)
            while len(self._answers) > self._size:
                self._answers.popitem(last=False)
        return answer
