"""Chinese resident identity numbers (GB 11643-1999): checked before any case is opened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from events.errors import InvalidNationalId

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


@dataclass(frozen=True)
class NationalId:
    """A validated 18-character identity number and what it tells about its holder."""

    number: str
    birth_date: date
    sex: str  # "male" or "female"; from the 17th digit (odd = male)

    def age_on(self, day: date) -> int:
        """Full years of age on a given day, as the eligibility rules count them."""
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)

    @property
    def masked(self) -> str:
        """Shown on screens to roles that do not need the full number."""
        return mask_national_id(self.number)


def check_digit(first17: str) -> str:
    """The GB 11643 ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def parse_national_id(raw: str, today: date) -> NationalId:
    """Validate a typed identity number; raise InvalidNationalId with the reason."""
    number = (raw or "").strip().replace(" ", "").upper()
    if len(number) != 18:
        raise InvalidNationalId("length")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidNationalId("characters")
    if check_digit(number[:17]) != number[17]:
        raise InvalidNationalId("check_digit")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidNationalId("birth_date") from None
    if born > today or born.year < 1880:
        raise InvalidNationalId("birth_date")
    sex = "male" if int(number[16]) % 2 else "female"
    return NationalId(number=number, birth_date=born, sex=sex)


def mask_national_id(number: str) -> str:
    """110***********1234: keeps the region prefix and the last four characters."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_phone(number: str) -> str:
    """138****1234: keeps the carrier prefix and the last four digits."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]
