"""Uploads (issue 6, item 14): the request size limit answers 413 with the friendly page; what a
file is comes from its content, never its name; photos are re-encoded so no EXIF, GPS or other
metadata is kept (turned upright first); decompression bombs are refused from the header; files
are kept under their content hash outside the static folder and served only through the
authorized photo routes; the hash events record is that of the kept file."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from PIL import ExifTags, Image

from events.clock import frozen_at
from events.facility import Kind
from events.retrofit import RetrofitCase, Step
from events.roles import Role
from portal.runtime import Runtime
from services.evidence_pack import evidence_pack
from services.photos import MAX_PIXELS, InvalidPhoto, PhotoStore
from services.settings import Settings
from tests.security.support_uploads import (
    CAMERA_MAKE,
    CAMERA_MODEL,
    COMMENT,
    jpeg_claiming,
    opened,
    phone_jpeg,
    png_bomb,
    png_with_text,
    solid,
)
from tests.support import facilities
from tests.support.scenario import ASSESSED_LINES, version
from tests.support.staff_helpers import fetch, make_team, step_data

CODES = [line["code"] for line in ASSESSED_LINES]
NOT_A_PHOTO = "只能上传 JPG 或 PNG 格式的照片。"


def acceptance(token: str, v: int, files: list[tuple[bytes, str, str]]) -> dict[str, object]:
    """The acceptance form, every check ticked, with (content, file name, browser type) files."""
    data: dict[str, object] = {"csrf_token": token, "version": str(v), "remarks": "整体良好"}
    for code in CODES:
        data |= {f"installed_{code}": "y", f"works_{code}": "y", f"safe_{code}": "y"}
    data["photos"] = [(BytesIO(content), name, kind) for content, name, kind in files]
    return data


def kept_files(rt: Runtime) -> list[Path]:
    folder = rt.settings.upload_path
    return sorted(folder.iterdir()) if folder.exists() else []


def recorded_photos(rt: Runtime, case_id) -> list[dict[str, str]]:
    """The photos the acceptance event recorded, read from the event itself."""
    history = rt.retrofit.events.get(case_id)
    return [p for e in history if isinstance(e, RetrofitCase.AcceptanceInspected) for p in e.photos]


def assert_no_metadata(content: bytes) -> None:
    """No EXIF (so no GPS, camera or time), no comment, no text chunks, in the bytes or as
    Pillow reads them."""
    image = opened(content)
    assert dict(image.getexif()) == {}
    assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert not set(image.info) & {"exif", "comment", "xmp", "Author", "parameters"}
    for trace in (b"Exif", CAMERA_MAKE.encode(), CAMERA_MODEL.encode(), COMMENT, b"GPS", b"Loc"):
        assert trace not in content
    assert b"13812345678" not in content and "张秀英".encode() not in content


@pytest.fixture
def store(tmp_path: Path) -> PhotoStore:
    return PhotoStore(tmp_path / "uploads", max_bytes=5 * 1024 * 1024)


# -- re-encoding: metadata gone, picture upright, the hash is the kept file's ---------------------
def test_a_phone_photo_loses_gps_and_camera_data_and_stays_upright(store: PhotoStore) -> None:
    original = phone_jpeg()
    source = opened(original).getexif()
    assert source.get_ifd(ExifTags.IFD.GPSInfo) and source[ExifTags.Base.Make] == CAMERA_MAKE
    recorded = store.store(original)
    path = store.path_for(recorded["sha256"])
    assert path is not None and path.name == f"{recorded['sha256']}.jpg"
    kept = path.read_bytes()
    assert hashlib.sha256(kept).hexdigest() == recorded["sha256"] != hashlib.sha256(original)
    assert recorded["media_type"] == "image/jpeg"
    assert_no_metadata(kept)
    upright = opened(kept)
    assert upright.size == (20, 40)  # the Orientation flag was applied before it was dropped
    top, bottom = upright.getpixel((10, 3)), upright.getpixel((10, 36))
    assert top[2] > 200 > top[0] and bottom[0] > 200 > bottom[2]  # blue above red


def test_png_text_and_exif_chunks_are_dropped(store: PhotoStore) -> None:
    original = png_with_text()
    assert all(chunk in original for chunk in (b"tEXt", b"iTXt", b"eXIf"))
    kept = store.path_for(store.store(original)["sha256"]).read_bytes()  # type: ignore[union-attr]
    assert not any(chunk in kept for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf"))
    assert_no_metadata(kept)
    assert opened(kept).getpixel((0, 0)) == (30, 120, 60)


def test_bytes_hidden_after_the_picture_are_not_kept(store: PhotoStore) -> None:
    polyglot = solid("PNG", (10, 20, 30)) + b"<script>alert(1)</script><?php system($_GET[1]);"
    kept = store.path_for(store.store(polyglot)["sha256"]).read_bytes()  # type: ignore[union-attr]
    assert kept == solid("PNG", (10, 20, 30))


def test_the_same_picture_is_kept_once_whatever_metadata_it_came_with(store: PhotoStore) -> None:
    plain = Image.new("RGB", (16, 16), (120, 60, 200))
    copies = []
    for comment in (b"first", b"second"):
        out = BytesIO()
        plain.save(out, "JPEG", quality=95, comment=comment)
        copies.append(out.getvalue())
    assert copies[0] != copies[1]
    digests = {store.store(c)["sha256"] for c in copies} | {store.store(copies[0])["sha256"]}
    assert len(digests) == 1 and len(list(store.path_for(digests.pop()).parent.iterdir())) == 1  # type: ignore[union-attr]


# -- type by content, not name ------------------------------------------------------------------
@pytest.mark.parametrize(
    "content",
    [
        b"just some text, named photo.png",
        b"\x89PNG\r\n\x1a\n" + b"a PNG signature and nothing after it",
        b"\xff\xd8\xff\xe0" + b"a JPEG signature and nothing after it",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"%PDF-1.7\n1 0 obj<<>>endobj",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        solid("PNG", (1, 2, 3))[:40],  # a real PNG cut short
    ],
    ids=["text", "png-magic-only", "jpeg-magic-only", "gif", "pdf", "svg", "truncated-png"],
)
def test_anything_but_a_decodable_jpeg_or_png_is_refused(store: PhotoStore, content) -> None:
    with pytest.raises(InvalidPhoto) as refused:
        store.store(content)
    assert refused.value.reason == "type"
    assert not store.path_for(hashlib.sha256(content).hexdigest())


def test_empty_and_oversized_files_are_refused_before_decoding(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path, max_bytes=1000)
    with pytest.raises(InvalidPhoto, match="empty"):
        store.store(b"")
    big = png_with_text() + bytes(1000)
    with pytest.raises(InvalidPhoto, match="too_large"):
        store.store(big)
    assert list(tmp_path.iterdir()) == []


# -- decompression bombs -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bomb",
    [
        pytest.param(lambda: png_bomb(30_000, 30_000), id="png-900-megapixels"),
        pytest.param(lambda: png_bomb(8_000, 8_000), id="png-64-megapixels"),
        pytest.param(lambda: jpeg_claiming(60_000, 60_000), id="jpeg-header-3600-megapixels"),
    ],
)
def test_decompression_bombs_are_refused_from_their_header(store: PhotoStore, bomb) -> None:
    content = bomb()
    assert len(content) < store.max_bytes  # small enough to pass the size check
    with pytest.raises(InvalidPhoto) as refused:
        store.store(content)
    assert refused.value.reason == "too_many_pixels"
    assert not store._folder.exists() or list(store._folder.iterdir()) == []


def test_the_pixel_limit_is_a_setting_of_the_store(tmp_path: Path) -> None:
    assert MAX_PIXELS >= 24_000_000  # a 24-megapixel camera photo (6000x4000) fits by default
    store = PhotoStore(tmp_path, max_bytes=10**6, max_pixels=400)
    assert store.store(solid("PNG", (5, 5, 5), size=(20, 20)))["media_type"] == "image/png"
    with pytest.raises(InvalidPhoto, match="too_many_pixels"):
        store.store(solid("PNG", (5, 5, 5), size=(21, 20)))


# -- through the portal: the acceptance form, the photo route, the evidence pack ----------------
@pytest.fixture
def team(make_user):
    return make_team(make_user)


def test_acceptance_keeps_a_clean_upright_photo_and_every_record_agrees(
    client, login, app_rt, team
) -> None:
    case_id = team.walk(app_rt, Step.WORKS_COMPLETED)
    token = login(team.inspector)
    v = version(app_rt, team.inspector.actor, case_id)
    posted = client.post(
        f"/cases/{case_id}/acceptance",
        data=acceptance(token, v, [(phone_jpeg(), "IMG_0001.png", "image/png")]),
    )
    assert posted.status_code == 303
    [photo] = recorded_photos(app_rt, case_id)
    assert photo["media_type"] == "image/jpeg"  # the content decided, not the name or type sent
    [kept] = kept_files(app_rt)
    assert kept.name == f"{photo['sha256']}.jpg"
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == photo["sha256"]
    served = fetch(client, f"/cases/{case_id}/photos/{photo['sha256']}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data == kept.read_bytes()
    assert_no_metadata(served.data)
    assert opened(served.data).size == (20, 40)
    pack = evidence_pack(app_rt.ledger, app_rt.photos, case_id, datetime.now(UTC))
    with zipfile.ZipFile(BytesIO(pack)) as archive:
        listed = json.loads(archive.read("acceptance_photos.json"))
    assert [(p["sha256"], p["status"]) for p in listed] == [(photo["sha256"], "intact")]


def test_a_png_named_jpg_is_kept_and_served_as_a_png(client, login, app_rt, team) -> None:
    case_id = team.walk(app_rt, Step.WORKS_COMPLETED)
    token = login(team.inspector)
    v = version(app_rt, team.inspector.actor, case_id)
    png = solid("PNG", (200, 10, 10))
    posted = client.post(
        f"/cases/{case_id}/acceptance", data=acceptance(token, v, [(png, "x.jpg", "image/jpeg")])
    )
    assert posted.status_code == 303
    [photo] = recorded_photos(app_rt, case_id)
    assert photo["media_type"] == "image/png"
    assert [p.name for p in kept_files(app_rt)] == [f"{photo['sha256']}.png"]
    served = fetch(client, f"/cases/{case_id}/photos/{photo['sha256']}")
    assert served.mimetype == "image/png" and served.data == png


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"<html><script>alert(1)</script></html>", NOT_A_PHOTO, id="text-named-png"),
        pytest.param(
            png_bomb(30_000, 30_000),
            "照片的像素太多了",
            id="decompression-bomb",
        ),
    ],
)
def test_a_refused_upload_is_422_with_a_clear_message_and_nothing_kept(
    client, login, app_rt, team, content, message
) -> None:
    case_id = team.walk(app_rt, Step.WORKS_COMPLETED)
    token = login(team.inspector)
    v = version(app_rt, team.inspector.actor, case_id)
    files = [(solid("PNG", (9, 9, 9)), "good.png", "image/png"), (content, "a.png", "image/png")]
    response = client.post(f"/cases/{case_id}/acceptance", data=acceptance(token, v, files))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert kept_files(app_rt) == []  # not even the good one
    assert app_rt.retrofit.repository.get(case_id).version == v


def test_photos_live_outside_static_and_only_the_authorized_route_serves_them(
    app: Flask, client, login, app_rt, team, make_user
) -> None:
    case_id = team.walk(app_rt, Step.WORKS_COMPLETED)
    token = login(team.inspector)
    v = version(app_rt, team.inspector.actor, case_id)
    client.post(
        f"/cases/{case_id}/acceptance",
        data=acceptance(token, v, [(phone_jpeg(), "IMG_0001.jpg", "image/jpeg")]),
    )
    [kept] = kept_files(app_rt)
    static = Path(app.static_folder or "").resolve()
    assert not kept.resolve().is_relative_to(static)
    assert kept.parent.resolve() == app_rt.settings.upload_path.resolve()
    sha = kept.stem
    for guess in (kept.name, f"uploads/{kept.name}", f"../instance/uploads/{kept.name}", sha):
        assert fetch(client, f"/static/{guess}").status_code == 404, guess
    route = f"/cases/{case_id}/photos/{sha}"
    assert fetch(client, route).status_code == 200
    login(team.caseworker)
    assert fetch(client, route).status_code == 200
    login(make_user(Role.CASEWORKER, district="D02"))
    assert fetch(client, route).status_code == 404  # another district's case does not exist
    login(make_user(Role.INSPECTOR, district="D02"))
    assert fetch(client, route).status_code == 404
    family_token = login(team.family)
    assert fetch(client, route).status_code in (403, 404)
    assert client.post("/logout", data={"csrf_token": family_token}).status_code in (302, 303)
    anonymous = fetch(client, route)
    assert anonymous.status_code in (302, 303, 401) and anonymous.data[:3] != b"\xff\xd8\xff"


def test_a_facility_inspection_photo_is_cleaned_and_served_only_for_its_district(
    client, login, app_rt, make_user
) -> None:
    with frozen_at(facilities.NOW):
        centre = facilities.walk_to(
            app_rt, facilities.register(app_rt, Kind.CARE_CENTRE), "construction_started"
        )
        app_rt.catch_up()
        inspector = make_user(Role.INSPECTOR, name="检查员小陈")
        token = login(inspector)
        data = step_data(
            token, "site_inspection", facilities.version(app_rt, centre),
            findings="脚手架未设防护网", follow_up_required="yes",
        )  # fmt: skip
        data["site_inspection-photos"] = [(BytesIO(phone_jpeg()), "site.png", "image/png")]
        assert client.post(f"/facilities/{centre}/site-inspection", data=data).status_code == 303
        [kept] = kept_files(app_rt)
        route = f"/facilities/{centre}/photos/{kept.stem}"
        served = fetch(client, route)
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert_no_metadata(served.data)
        login(make_user(Role.INSPECTOR, district="D02"))
        assert fetch(client, route).status_code == 404


# -- the request size limit ------------------------------------------------------------------
SMALL_PHOTO_LIMIT = 4096


def noisy_png(side: int) -> bytes:
    """A PNG of random pixels: it does not compress, so its size is about 3 * side * side."""
    out = BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(3 * side * side)).save(out, "PNG")
    return out.getvalue()


def test_the_portal_limits_request_bodies_to_six_photos(app: Flask, app_rt: Runtime) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 6 * app_rt.settings.max_photo_bytes
    assert app_rt.photos.max_bytes == app_rt.settings.max_photo_bytes == 5 * 1024 * 1024


class TestWithASmallPhotoLimit:
    """The same portal configured with 4 KB photos, so the limits are cheap to cross."""

    @pytest.fixture
    def settings(self, database_url: str, tmp_path: Path) -> Settings:
        return Settings(
            instance_path=tmp_path / "instance",
            database_url=database_url,
            secret_key="test-secret",
            max_photo_bytes=SMALL_PHOTO_LIMIT,
        )

    def test_a_request_over_the_limit_is_413_with_the_friendly_page(
        self, app: Flask, client, login, app_rt, team
    ) -> None:
        limit = app.config["MAX_CONTENT_LENGTH"]
        assert limit == 6 * SMALL_PHOTO_LIMIT
        anonymous = client.post("/login", data={"login": "x", "password": "y" * (limit + 1)})
        assert anonymous.status_code == 413
        case_id = team.walk(app_rt, Step.WORKS_COMPLETED)
        token = login(team.inspector)
        v = version(app_rt, team.inspector.actor, case_id)
        files = [(noisy_png(60), f"p{n}.png", "image/png") for n in range(3)]
        response = client.post(f"/cases/{case_id}/acceptance", data=acceptance(token, v, files))
        assert response.status_code == 413
        for page in (anonymous, response):
            html = page.get_data(as_text=True)
            assert "文件太大" in html and "上传的文件太大,请选择小一些的照片。" in html
            assert "Traceback" not in html and "Request Entity Too Large" not in html
        assert kept_files(app_rt) == []
        assert app_rt.retrofit.repository.get(case_id).version == v

    def test_a_photo_over_the_photo_limit_is_422_at_the_field(
        self, client, login, app_rt, team
    ) -> None:
        case_id = team.walk(app_rt, Step.WORKS_COMPLETED)
        token = login(team.inspector)
        v = version(app_rt, team.inspector.actor, case_id)
        photo = noisy_png(40)
        assert SMALL_PHOTO_LIMIT < len(photo) < 6 * SMALL_PHOTO_LIMIT - 2000
        response = client.post(
            f"/cases/{case_id}/acceptance",
            data=acceptance(token, v, [(photo, "big.png", "image/png")]),
        )
        assert response.status_code == 422
        assert "照片太大了" in response.get_data(as_text=True)
        assert kept_files(app_rt) == []

    @pytest.fixture
    def team(self, make_user):
        return make_team(make_user)
