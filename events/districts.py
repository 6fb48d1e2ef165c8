"""The city's administrative tree (district, street or town, community): reference data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class District:
    """A county-level district and its communities (street or town / community or village)."""

    code: str
    name_zh: str
    name_en: str
    communities: tuple[tuple[str, str], ...]  # (street or town, community or village)


DISTRICTS: tuple[District, ...] = (
    District(
        "D01",
        "安康区",
        "Ankang District",
        (("和平街道", "春晖社区"), ("和平街道", "松鹤社区"), ("东城街道", "福寿社区")),
    ),
    District(
        "D02",
        "永宁区",
        "Yongning District",
        (("南湖街道", "南湖社区"), ("南湖街道", "颐和社区"), ("北关街道", "安居社区")),
    ),
    District(
        "D03",
        "长乐县",
        "Changle County",
        (("长乐镇", "长乐村"), ("长乐镇", "河西村"), ("青山乡", "青山村")),
    ),
    District(
        "D04",
        "富平县",
        "Fuping County",
        (("富平镇", "城关社区"), ("柳林镇", "柳林村"), ("柳林镇", "杏花村")),
    ),
)

_BY_CODE = {d.code: d for d in DISTRICTS}


def district(code: str) -> District | None:
    """The district with this code, or None."""
    return _BY_CODE.get(code)


def is_known_place(district_code: str, street: str, community: str) -> bool:
    """Whether a community lies in that street or town of that district."""
    found = district(district_code)
    return found is not None and (street, community) in found.communities
