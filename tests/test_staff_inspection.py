"""Inspectors: acceptance with real photos, site inspections, and who may see the photos."""

from __future__ import annotations

import hashlib
from io import BytesIO

import pytest

from events.retrofit import Step
from events.roles import Role
from tests.support.scenario import ASSESSED_LINES, version
from tests.support.staff_helpers import detail, fetch, make_team, png_bytes, step_data

CODES = [line["code"] for line in ASSESSED_LINES]


@pytest.fixture
def team(make_user):
    return make_team(make_user)


def acceptance_data(token: str, v: int, *, failing: str = "", photos: list[tuple[bytes, str]] = ()):
    """The acceptance form as posted: every check ticked except `failing`'s "safe"."""
    data: dict[str, object] = {"csrf_token": token, "version": str(v), "remarks": "整体良好"}
    for code in CODES:
        data |= {f"installed_{code}": "y", f"works_{code}": "y", f"note_{code}": ""}
        if code != failing:
            data[f"safe_{code}"] = "y"
    data["photos"] = [(BytesIO(content), name) for content, name in photos]
    return data


def stored_files(app_rt) -> list[str]:
    folder = app_rt.settings.upload_path
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_acceptance_page_lists_each_planned_item_with_three_checks(client, login, app_rt, team):
    case_id = team.walk(app_rt, "works_completed")
    login(team.inspector)
    response = client.get(f"/cases/{case_id}/acceptance")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert 'accept="image/jpeg,image/png"' in html and "multiple" in html
    for code in CODES:
        for check in ("installed", "works", "safe"):
            assert f'name="{check}_{code}"' in html
    assert "如厕洗浴扶手" not in html and "安装扶手" in html and "配置护理床" in html
    assert "已安装" in html and "能正常使用" in html and "安全牢固" in html


def test_acceptance_passes_with_a_photo_which_is_then_served(
    client, login, app_rt, team, make_user
):
    case_id = team.walk(app_rt, "works_completed")
    token = login(team.inspector)
    photo = png_bytes()
    v = version(app_rt, team.inspector.actor, case_id)
    response = client.post(
        f"/cases/{case_id}/acceptance", data=acceptance_data(token, v, photos=[(photo, "a.png")])
    )
    assert response.status_code == 303
    case = detail(app_rt, team.inspector.actor, case_id)
    assert case.step == Step.ACCEPTED and case.last_acceptance_passed is True
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "验收通过" in page
    sha = hashlib.sha256(photo).hexdigest()
    assert f'src="/cases/{case_id}/photos/{sha}"' in page
    served = fetch(client, f"/cases/{case_id}/photos/{sha}")
    assert served.status_code == 200 and served.data == photo
    assert served.mimetype == "image/png"
    assert "private" in served.cache_control and "public" not in served.cache_control
    login(team.caseworker)
    assert fetch(client, f"/cases/{case_id}/photos/{sha}").status_code == 200
    login(make_user(Role.CASEWORKER, district="D02"))
    assert fetch(client, f"/cases/{case_id}/photos/{sha}").status_code == 404


def test_a_photo_of_another_case_is_not_served_through_this_one(client, login, app_rt, team):
    first = team.walk(app_rt, "works_completed")
    second = team.walk(app_rt, "works_completed")
    token = login(team.inspector)
    photo = png_bytes(red=10)
    v = version(app_rt, team.inspector.actor, first)
    client.post(
        f"/cases/{first}/acceptance", data=acceptance_data(token, v, photos=[(photo, "a.png")])
    )
    sha = hashlib.sha256(photo).hexdigest()
    assert fetch(client, f"/cases/{first}/photos/{sha}").status_code == 200
    assert fetch(client, f"/cases/{second}/photos/{sha}").status_code == 404
    assert fetch(client, f"/cases/{first}/photos/{'0' * 64}").status_code == 404
    assert fetch(client, f"/cases/{first}/photos/..%2F..%2Fsecret_key").status_code == 404


def test_acceptance_fails_when_an_item_is_not_safe_and_goes_to_rectification(
    client, login, app_rt, team
):
    case_id = team.walk(app_rt, "works_completed")
    token = login(team.inspector)
    v = version(app_rt, team.inspector.actor, case_id)
    response = client.post(
        f"/cases/{case_id}/acceptance",
        data=acceptance_data(token, v, failing="T01", photos=[(png_bytes(), "a.png")]),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "验收未通过,已转入整改" in response.get_data(as_text=True)
    case = detail(app_rt, team.inspector.actor, case_id)
    assert case.step == Step.RECTIFICATION and case.acceptance_rounds == 1


def test_acceptance_without_a_photo_is_422(client, login, app_rt, team):
    case_id = team.walk(app_rt, "works_completed")
    token = login(team.inspector)
    v = version(app_rt, team.inspector.actor, case_id)
    response = client.post(f"/cases/{case_id}/acceptance", data=acceptance_data(token, v))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请至少上传一张验收照片。" in html and 'href="#photos"' in html
    assert '<input checked id="safe_T01"' in html  # what was ticked is kept
    assert detail(app_rt, team.inspector.actor, case_id).step == Step.WORKS_COMPLETED


def test_a_non_image_upload_is_422_and_nothing_is_stored(client, login, app_rt, team):
    case_id = team.walk(app_rt, "works_completed")
    token = login(team.inspector)
    v = version(app_rt, team.inspector.actor, case_id)
    photos = [(png_bytes(), "good.png"), (b"%PDF-1.7 not a photo", "scan.png")]
    response = client.post(
        f"/cases/{case_id}/acceptance", data=acceptance_data(token, v, photos=photos)
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "只能上传 JPG 或 PNG 格式的照片。" in html
    assert "页面重新显示时照片需要重新选择" in html
    assert stored_files(app_rt) == []  # not even the good one
    assert detail(app_rt, team.inspector.actor, case_id).step == Step.WORKS_COMPLETED


def test_only_inspectors_open_the_acceptance_page_and_only_when_works_are_done(
    client, login, app_rt, team
):
    case_id = team.walk(app_rt, "works_started")
    login(team.caseworker)
    assert client.get(f"/cases/{case_id}/acceptance").status_code == 403
    login(team.inspector)
    response = client.get(f"/cases/{case_id}/acceptance")
    assert response.status_code == 303 and response.headers["Location"] == f"/cases/{case_id}"


def test_site_inspection_with_a_photo(client, login, app_rt, team):
    case_id = team.walk(app_rt, "works_started")
    token = login(team.inspector)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'action="/cases/{case_id}/site-inspection"' in page
    photo = png_bytes(red=99)
    v = version(app_rt, team.inspector.actor, case_id)
    data = step_data(
        token, "site_inspection", v, findings="扶手安装高度偏低", follow_up_required="yes"
    )
    data["site_inspection-photos"] = [(BytesIO(photo), "site.png")]
    response = client.post(f"/cases/{case_id}/site-inspection", data=data)
    assert response.status_code == 303
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "施工现场检查" in html and "扶手安装高度偏低" in html
    sha = hashlib.sha256(photo).hexdigest()
    assert fetch(client, f"/cases/{case_id}/photos/{sha}").status_code == 200
    case = detail(app_rt, team.inspector.actor, case_id)
    assert case.step == Step.WORKS_STARTED and case.version == v + 1


def test_site_inspection_without_findings_or_with_a_bad_file_is_422(client, login, app_rt, team):
    case_id = team.walk(app_rt, "works_started")
    token = login(team.inspector)
    v = version(app_rt, team.inspector.actor, case_id)
    no_findings = client.post(
        f"/cases/{case_id}/site-inspection",
        data=step_data(token, "site_inspection", v, findings="", follow_up_required="no"),
    )
    assert no_findings.status_code == 422
    assert "请填写检查发现的情况。" in no_findings.get_data(as_text=True)
    assert "<details open>" in no_findings.get_data(as_text=True)
    data = step_data(token, "site_inspection", v, findings="正常", follow_up_required="no")
    data["site_inspection-photos"] = [(BytesIO(b"GIF89a....."), "x.gif")]
    bad_file = client.post(f"/cases/{case_id}/site-inspection", data=data)
    assert bad_file.status_code == 422
    assert "只能上传 JPG 或 PNG 格式的照片。" in bad_file.get_data(as_text=True)
    assert stored_files(app_rt) == []
    assert detail(app_rt, team.inspector.actor, case_id).version == v


def test_caseworkers_cannot_log_site_inspections(client, login, app_rt, team):
    case_id = team.walk(app_rt, "works_started")
    token = login(team.caseworker)
    v = version(app_rt, team.caseworker.actor, case_id)
    response = client.post(
        f"/cases/{case_id}/site-inspection",
        data=step_data(token, "site_inspection", v, findings="正常", follow_up_required="no"),
    )
    assert response.status_code == 403
