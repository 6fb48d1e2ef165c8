"""The hash chain over a fund's events: each link covers the event's content and the link before."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

GENESIS = ""
# Fields every event has, or that are the link itself; the rest is the content a link covers.
_FRAME = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic", "link"})


def link_of(
    event_name: str, fund_id: UUID, version: int, timestamp: datetime, fields: Mapping[str, Any]
) -> str:
    """SHA-256 over the event's name, place in the fund, time and fields (prev_link included)."""
    body = json.dumps(
        [event_name, str(fund_id), version, timestamp.isoformat(), sorted(fields.items())],
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,  # Decimal and UUID by their exact text, which decoding gives back unchanged
    )
    return hashlib.sha256(body.encode()).hexdigest()


def recompute(event: Any) -> str:
    """The link a stored event should carry, worked out again from what it says."""
    fields = {k: v for k, v in vars(event).items() if k not in _FRAME}
    return link_of(
        type(event).__name__,
        event.originator_id,
        event.originator_version,
        event.timestamp,
        fields,
    )
