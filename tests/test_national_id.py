"""Identity numbers (GB 11643-1999): check digit, birth date, age, sex and masking."""

from __future__ import annotations

from datetime import date

import pytest

from events.elder import MINIMUM_AGE, check_age
from events.errors import InvalidNationalId, NotOldEnough
from events.national_id import (
    check_digit,
    mask_national_id,
    mask_phone,
    parse_national_id,
)

TODAY = date(2025, 6, 1)


def iso7064_check(first17: str) -> str:
    """ISO 7064 MOD 11-2 written from the standard, independently of the production table.

    Weight of position i (1-based, from the left) is 2^(18-i) mod 11; the check value c makes
    (sum + c) = 1 (mod 11); the value 10 is written X.
    """
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def with_check(first17: str) -> str:
    """A complete number whose check character is right (computed independently)."""
    return first17 + iso7064_check(first17)


# The two examples printed in GB 11643-1999 itself.
PUBLISHED = ["11010519491231002X", "440524188001010014"]


@pytest.mark.parametrize("number", PUBLISHED)
def test_published_examples_are_valid(number: str) -> None:
    assert iso7064_check(number[:17]) == number[17]
    assert check_digit(number[:17]) == number[17]
    assert parse_national_id(number, TODAY).number == number


@pytest.mark.parametrize(
    "first17",
    [
        "11010519450307123",
        "32010619390512004",
        "51010719600101001",
        "64010420001231999",
        "44030519641111556",
        "11010119900307803",
    ],
)
def test_check_digit_agrees_with_the_standard(first17: str) -> None:
    assert check_digit(first17) == iso7064_check(first17)
    parsed = parse_national_id(with_check(first17), TODAY)
    assert parsed.number == with_check(first17)


def test_x_check_character_accepted_in_either_case() -> None:
    number = "11010519491231002X"
    assert parse_national_id(number.lower(), TODAY).number == number
    assert parse_national_id(" 110105 19491231 002x ", TODAY).number == number


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "length"),
        ("11010519491231002", "length"),
        ("11010519491231002X1", "length"),
        ("1101051949123100AX", "characters"),
        ("X1010519491231002X", "characters"),
        ("11010519491231002Y", "characters"),
        ("110105194912310021", "check_digit"),
        ("110105194912310020", "check_digit"),
    ],
)
def test_malformed_numbers_refused_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidNationalId) as refused:
        parse_national_id(raw, TODAY)
    assert refused.value.detail == reason
    assert refused.value.code == "invalid_national_id"


@pytest.mark.parametrize(
    "birth",
    ["19450230", "19451301", "19450001", "19450100", "19430229", "18791231"],
)
def test_impossible_birth_dates_refused(birth: str) -> None:
    number = with_check("110105" + birth + "123")
    with pytest.raises(InvalidNationalId) as refused:
        parse_national_id(number, TODAY)
    assert refused.value.detail == "birth_date"


def test_future_birth_date_refused() -> None:
    number = with_check("110105" + "20250602" + "123")
    with pytest.raises(InvalidNationalId) as refused:
        parse_national_id(number, TODAY)
    assert refused.value.detail == "birth_date"
    born_today = with_check("110105" + "20250601" + "123")
    assert parse_national_id(born_today, TODAY).birth_date == TODAY


def test_leap_day_birth_is_a_real_date() -> None:
    number = with_check("110105" + "19440229" + "123")
    assert parse_national_id(number, TODAY).birth_date == date(1944, 2, 29)


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (date(2005, 3, 6), 59),
        (date(2005, 3, 7), 60),
        (date(2005, 3, 8), 60),
        (date(2006, 3, 6), 60),
        (date(2006, 3, 7), 61),
        (date(2005, 1, 1), 59),
        (date(2005, 12, 31), 60),
    ],
)
def test_age_counts_full_years_around_the_birthday(day: date, age: int) -> None:
    elder = parse_national_id(with_check("110105" + "19450307" + "123"), TODAY)
    assert elder.age_on(day) == age


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (date(2004, 2, 28), 59),
        (date(2004, 2, 29), 60),
        (date(2005, 2, 28), 60),
        (date(2005, 3, 1), 61),
    ],
)
def test_age_of_someone_born_on_a_leap_day(day: date, age: int) -> None:
    elder = parse_national_id(with_check("110105" + "19440229" + "123"), TODAY)
    assert elder.age_on(day) == age


def test_minimum_age_is_reached_on_the_sixtieth_birthday() -> None:
    elder = parse_national_id(with_check("110105" + "19650601" + "123"), TODAY)
    assert check_age(elder, date(2025, 6, 1)) == MINIMUM_AGE
    with pytest.raises(NotOldEnough) as refused:
        check_age(elder, date(2025, 5, 31))
    assert refused.value.params == {"age": 59, "minimum": MINIMUM_AGE}


@pytest.mark.parametrize(
    ("seq", "sex"),
    [("121", "male"), ("123", "male"), ("129", "male"), ("120", "female"), ("124", "female")],
)
def test_sex_comes_from_the_seventeenth_digit(seq: str, sex: str) -> None:
    number = with_check("110105" + "19450307" + seq)
    assert parse_national_id(number, TODAY).sex == sex


def test_published_example_is_a_woman() -> None:
    # 17th digit 2: even, female (the standard's own example).
    assert parse_national_id("11010519491231002X", TODAY).sex == "female"
    assert parse_national_id("440524188001010014", TODAY).sex == "male"


def test_national_id_masking_keeps_region_and_last_four() -> None:
    number = with_check("110105" + "19450307" + "123")
    masked = mask_national_id(number)
    assert masked == "110" + "*" * 11 + number[-4:]
    assert len(masked) == 18
    assert "19450307" not in masked
    assert parse_national_id(number, TODAY).masked == masked
    assert mask_national_id("11010519491231002X") == "110***********002X"


def test_phone_masking_keeps_prefix_and_last_four() -> None:
    assert mask_phone("13800001234") == "138****1234"
    assert mask_phone("010-12345678") == "010*****5678"
    assert mask_phone("1234567") == "*******"
    assert mask_phone("") == ""


def test_short_values_are_masked_entirely() -> None:
    assert mask_national_id("1234567") == "*******"
