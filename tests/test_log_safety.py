"""Log lines mask a number someone typed, but not the digits of an id that happens to be all
digits in one group (a UUID drawn at random, as the denial log's case ids are)."""

from __future__ import annotations

from services.log_safety import loggable


def test_uuid_groups_made_only_of_digits_stay_readable() -> None:
    for case_id in ("71853214-06eb-5d5d-9c0c-429dde3f9a85", "0a1b2c3d-06eb-5d5d-9c0c-429812345678"):
        assert loggable(f"case_id={case_id}", 80) == f"case_id={case_id}"


def test_a_phone_or_id_number_standing_alone_is_masked() -> None:
    assert loggable("tel 13812345678") == "tel 138****5678"
    assert loggable("case-13812345678") == "case-138****5678"
    assert "19900307" not in loggable("110101199003077777")
