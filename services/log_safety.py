"""Values fit for a log line: whatever a user typed or put in a URL may hold personal numbers."""

from __future__ import annotations

import re

from events.national_id import mask_phone

# A run of 7 or more digits standing alone (an ID number may end in X). Digits inside a longer
# token, such as a hash or a UUID's first or last group that happens to be all digits, are not
# someone's number and stay readable.
_LONG_DIGIT_RUN = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9A-Fa-f]{4}-)\d{7,}[Xx]?(?![0-9A-Za-z])(?!-[0-9A-Fa-f]{4}-)"
)


def loggable(value: str, limit: int = 40) -> str:
    """Control characters replaced, long digit runs (a mobile number, or an ID number typed into
    the wrong place) masked, cut to `limit` characters: PIPL keeps such numbers out of logs."""
    printable = "".join(c if c.isprintable() else "?" for c in value[:limit])
    return _LONG_DIGIT_RUN.sub(lambda m: mask_phone(m.group()), printable)
