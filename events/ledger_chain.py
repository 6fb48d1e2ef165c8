"""The hash chain over a fund's events: each link covers the event's content and the link before."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any
from uuid import UUID

GENESIS = ""
# Fields every event has, or that are the link itself; the rest is the content a link covers.
_FRAME = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic", "link"})
# The canonical text a link hashes: json.dumps(..., ensure_ascii=False, separators=(",", ":"),
# default=str). Decimal and UUID go in by their exact text, which decoding gives back unchanged.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
# Verifying a long fund hashes every event, and json.dumps builds a new C encoder per call (a
# quarter of the hashing time); CPython's C encoder, built once, gives the same text. Where it
# is missing, the encoder above does (tests/test_ledger_verify_segments.py checks both agree).
_C_ENCODER = (
    c_make_encoder(None, str, encode_basestring, None, ":", ",", False, False, True)
    if c_make_encoder is not None
    else None
)


def canonical_json(value: Any) -> str:
    """The text json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    gives (values without cycles: each event's own fields)."""
    if _C_ENCODER is None:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


def link_of(
    event_name: str, fund_id: UUID, version: int, timestamp: datetime, fields: Mapping[str, Any]
) -> str:
    """SHA-256 over the event's name, place in the fund, time and fields (prev_link included)."""
    body = canonical_json(
        [event_name, str(fund_id), version, timestamp.isoformat(), sorted(fields.items())]
    )
    return hashlib.sha256(body.encode()).hexdigest()


def recompute(event: Any) -> str:
    """The link a stored event should carry, worked out again from what it says."""
    fields = dict(vars(event))
    for frame in _FRAME:
        fields.pop(frame, None)
    return link_of(
        type(event).__name__,
        event.originator_id,
        event.originator_version,
        event.timestamp,
        fields,
    )
