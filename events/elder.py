"""The elder's profile answers: allowed values and the checks every channel applies."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from events.errors import InvalidApplication, NotOldEnough
from events.national_id import NationalId, parse_national_id

MINIMUM_AGE = 60
HOUSEHOLD_CATEGORIES = ("tekun", "dibao", "dibao_edge", "other")  # 特困, 低保, 低保边缘, 其他
DISABILITY_LEVELS = ("none", "semi", "full", "certified")  # 无, 半失能, 失能, 持残疾证
LIVING_SITUATIONS = ("alone", "spouse", "family", "other")
RELATIONS = ("self", "spouse", "child", "relative", "other")
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def check_age(elder_id: NationalId, today: date) -> int:
    """The elder's age from the ID number; the programme serves those of 60 and over."""
    age = elder_id.age_on(today)
    if age < MINIMUM_AGE:
        raise NotOldEnough(age=age, minimum=MINIMUM_AGE)
    return age


def clean_profile(answers: dict[str, Any], today: date) -> tuple[dict[str, str], NationalId]:
    """Validate an elder's profile answers; returns the cleaned profile and the parsed ID."""
    name = str(answers.get("name", "")).strip()
    if not 2 <= len(name) <= 30:
        raise InvalidApplication("name")
    elder_id = parse_national_id(str(answers.get("national_id", "")), today)
    check_age(elder_id, today)
    phone = str(answers.get("phone", "")).strip().replace(" ", "")
    if not PHONE.match(phone):
        raise InvalidApplication("phone")
    address = str(answers.get("address", "")).strip()
    if not 4 <= len(address) <= 200:
        raise InvalidApplication("address")
    choices = {
        "household_category": HOUSEHOLD_CATEGORIES,
        "disability_level": DISABILITY_LEVELS,
        "living_situation": LIVING_SITUATIONS,
    }
    for field, allowed in choices.items():
        if answers.get(field) not in allowed:
            raise InvalidApplication(field)
    profile = {
        "name": name,
        "national_id": elder_id.number,
        "sex": elder_id.sex,
        "birth_date": elder_id.birth_date.isoformat(),
        "phone": phone,
        "address": address,
        **{f: str(answers[f]) for f in choices},
    }
    return profile, elder_id
