"""Reference numbers families read out on the phone: short, unambiguous, not personal."""

from __future__ import annotations

from uuid import UUID

# Crockford's base-32 alphabet: no I, L, O or U to misread or mishear.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def reference_for(case_id: UUID, prefix: str = "SL") -> str:
    """A stable reference like SL-7K3F-9QXM derived from the case id (never from ID numbers)."""
    value = case_id.int >> 88  # the top 40 bits: 8 base-32 characters
    chars = "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(8)))
    return f"{prefix}-{chars[:4]}-{chars[4:]}"
