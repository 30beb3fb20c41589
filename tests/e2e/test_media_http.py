"""Photo posts from the user's device over real HTTP: staging slots, uploads straight to
fake-gcs-server through the returned session URI, the checks on completion, publish by
``media_ids``, the fake TikTok pulling the real bytes from ``/media/{token}``, and deletion once
the post is final. Promise P17.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import time
from typing import Any

import httpx
import pytest
from PIL import Image

from emulator.stack import Stack
from shared.media.storage import Bucket, open_bucket
from tests.support import FakeTikTok, all_documents

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def empty_bucket(devserver: Stack) -> None:
    """Each test starts with no staged object (Firestore is wiped by ``clean``)."""
    store = bucket(devserver)
    for blob in store.client.list_blobs(devserver.media_bucket):
        blob.delete()


@pytest.fixture
def creator(fake_tiktok: FakeTikTok, devserver: Stack) -> dict[str, Any]:
    fake_tiktok.control(
        "POST",
        "config",
        json={
            "verified_url_prefixes": [f"{devserver.functions_url}/media/"],
            "processing_seconds": 4,
        },
    )
    return fake_tiktok.create_user(display_name="Casey", username="casey")


def jpeg(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def bucket(stack: Stack) -> Bucket:
    return open_bucket(stack.project_id, stack.gcs_url, stack.media_bucket)


def stage(
    browser: httpx.Client, data: bytes, content_type: str = "image/jpeg", kind: str = "photo"
) -> dict[str, Any]:
    """What the web app does: ask for a slot, PUT the file to its URL, complete it."""
    created = browser.post(
        "/api/media", json={"type": kind, "content_type": content_type, "size": len(data)}
    )
    assert created.status_code == 201, created.text
    slot = created.json()["media"]
    assert slot["state"] == "pending"
    upload = slot["upload"]
    sent = httpx.request(upload["method"], upload["url"], content=data, headers=upload["headers"])
    assert sent.status_code in (200, 201), sent.text
    done = browser.post(f"/api/media/{slot['id']}/complete")
    return {"id": slot["id"], "response": done}


def objects_soon(stack: Stack, expected: int) -> int:
    """The staged objects in the bucket, after waiting up to 10 s for ``expected`` of them."""
    deadline = time.monotonic() + 10
    while True:
        count = len(list(bucket(stack).client.list_blobs(stack.media_bucket)))
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def photo_post(open_id: str, media_ids: list[str], cover: int = 0) -> dict[str, Any]:
    return {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "photo", "media_ids": media_ids, "cover_index": cover},
        "post": {"title": "three", "description": "from my phone", "privacy_level": "SELF_ONLY"},
    }


def wait_final(browser: httpx.Client, post_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        post: dict[str, Any] = browser.get(f"/api/publish/{post_id}/status").json()["post"]
        if post["status"] in ("PUBLISH_COMPLETE", "FAILED", "SEND_TO_USER_INBOX"):
            return post
        time.sleep(0.3)
    raise AssertionError("the post never became final")


def test_a_three_photo_post_from_files_completes_with_exactly_those_bytes(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], devserver: Stack
) -> None:
    photos = [jpeg((1080, 1350), (200, 10 * i, 40)) for i in range(3)]
    staged = [stage(ann, data) for data in photos]
    for item, data in zip(staged, photos, strict=True):
        assert item["response"].status_code == 200, item["response"].text
        ready = item["response"].json()["media"]
        assert ready["state"] == "ready"
        assert (ready["width"], ready["height"], ready["size"]) == (1080, 1350, len(data))
        assert ready["content_type"] == "image/jpeg"
        assert "upload" not in ready
        assert "url" not in ready
    ids = [item["id"] for item in staged]

    response = ann.post("/api/publish", json=photo_post(creator["open_id"], ids, cover=2))
    assert response.status_code == 201, response.text
    post = response.json()["post"]
    assert post["media_ids"] == ids
    at_tiktok = fake_tiktok.control("GET", f"publishes/{post['publish_id']}")
    urls = at_tiktok["source_info"]["photo_images"]
    assert at_tiktok["source_info"]["photo_cover_index"] == 2
    assert all(u.startswith(f"{devserver.functions_url}/media/") for u in urls)
    assert len(set(urls)) == 3

    # A Range request reads part of the object (TikTok may fetch in pieces), and HEAD its size.
    head = httpx.head(urls[0])
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(photos[0]))
    assert head.headers["accept-ranges"] == "bytes"
    assert head.headers["content-type"] == "image/jpeg"
    part = httpx.get(urls[1], headers={"Range": "bytes=10-99"})
    assert part.status_code == 206
    assert part.content == photos[1][10:100]
    assert part.headers["content-range"] == f"bytes 10-99/{len(photos[1])}"
    assert httpx.get(urls[1], headers={"Range": f"bytes={len(photos[1])}-"}).status_code == 416

    final = wait_final(ann, post["id"])
    assert final["status"] == "PUBLISH_COMPLETE"
    pulled = fake_tiktok.control("GET", f"publishes/{post['publish_id']}")["downloads"]
    assert [d["sha256"] for d in pulled] == [hashlib.sha256(p).hexdigest() for p in photos]
    assert [d["bytes"] for d in pulled] == [len(p) for p in photos]

    # Final: the objects and their records are gone (deleted by whichever status path learnt it,
    # maybe a moment after another path showed the status), and every URL answers the same 404.
    assert objects_soon(devserver, 0) == 0
    names = [d["name"] for d in all_documents(devserver)]
    assert not [n for n in names if "/media/" in n]
    gone = [httpx.get(u) for u in urls]
    assert {r.status_code for r in gone} == {404}
    assert len({r.content for r in gone}) == 1
    assert ann.get(f"/api/media/{ids[0]}").status_code == 404


def test_every_bad_token_gets_the_same_404(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], devserver: Stack
) -> None:
    fake_tiktok.control(
        "POST",
        "config",
        json={
            "processing_seconds": 600,
            "verified_url_prefixes": [f"{devserver.functions_url}/media/"],
        },
    )
    first = [stage(ann, jpeg((640, 480), (1, 2, 3)))["id"]]
    second = [stage(ann, jpeg((640, 480), (9, 9, 9)))["id"]]
    posts = []
    for ids in (first, second):
        response = ann.post("/api/publish", json=photo_post(creator["open_id"], ids))
        assert response.status_code == 201, response.text
        posts.append(response.json()["post"])
    url_a = fake_tiktok.control("GET", f"publishes/{posts[0]['publish_id']}")["source_info"][
        "photo_images"
    ][0]
    url_b = fake_tiktok.control("GET", f"publishes/{posts[1]['publish_id']}")["source_info"][
        "photo_images"
    ][0]
    assert httpx.get(url_a).status_code == 200
    token = url_a.rsplit("/", 1)[1]
    version, kid, payload, mac = token.split(".")
    other_payload = url_b.rsplit("/", 1)[1].split(".")[2]
    base = f"{devserver.functions_url}/media/"
    bad = [
        f"{version}.{kid}.{payload}.{mac[:-3]}AAA",  # tampered signature
        f"{version}.{kid}.{other_payload}.{mac}",  # another post's claims under this signature
        f"{version}.other.{payload}.{mac}",
        "garbage",
    ]
    answers = [httpx.get(base + t) for t in bad]
    assert {r.status_code for r in answers} == {404}
    assert len({r.content for r in answers}) == 1
    assert all("location" not in r.headers for r in answers)

    # A finished post's token: the post fails at TikTok; its URL is 404 and its object deleted.
    fake_tiktok.control(
        "POST", f"publish/{posts[0]['publish_id']}/fail", json={"reason": "photo_pull_failed"}
    )
    final = wait_final(ann, posts[0]["id"])
    assert final["status"] == "FAILED"
    again = httpx.get(url_a)
    assert again.status_code == 404
    assert again.content == answers[0].content
    assert httpx.get(url_b).status_code == 200  # the other post's media is untouched
    assert objects_soon(devserver, 1) == 1


def test_refusals_name_what_is_wrong(
    ann: httpx.Client, creator: dict[str, Any], devserver: Stack
) -> None:
    big = stage(ann, jpeg((4032, 3024), (5, 5, 5)))
    assert big["response"].status_code == 400
    error = big["response"].json()["error"]
    assert error["reason"] == "media.photo_dimensions"
    assert "4032x3024" in error["message"]
    assert ann.get(f"/api/media/{big['id']}").json()["media"]["state"] == "refused"

    liar = stage(ann, b"GIF89a" + b"\0" * 200)  # declared JPEG, really GIF
    assert liar["response"].json()["error"]["reason"] == "media.photo_type"
    broken = stage(ann, b"\x89PNG\r\n\x1a\n" + b"\0" * 200)  # a PNG's magic, then nothing
    assert broken["response"].json()["error"]["reason"] == "media.photo_unreadable"

    ok = stage(ann, jpeg((100, 100), (1, 1, 1)))["id"]
    refused = ann.post("/api/publish", json=photo_post(creator["open_id"], [ok, big["id"]]))
    assert refused.status_code == 400
    assert refused.json()["error"]["index"] == 1
    assert refused.json()["error"]["reason"] == "media.refused"
    # Nothing was taken: the good photo is still ready for another try.
    assert ann.get(f"/api/media/{ok}").json()["media"]["state"] == "ready"

    too_many = ann.post("/api/publish", json=photo_post(creator["open_id"], [ok] * 36))
    assert too_many.json()["error"]["reason"] == "request.media.media_ids"
    typo = photo_post(creator["open_id"], [ok])
    typo["media"]["cover"] = 0
    answer = ann.post("/api/publish", json=typo)
    assert answer.json()["error"]["reason"] == "request.unknown_field"
    assert answer.json()["error"]["field"] == "media.cover"
    gif = ann.post("/api/media", json={"type": "photo", "content_type": "image/gif", "size": 5})
    assert gif.json()["error"]["reason"] == "request.content_type"


def test_another_users_media_is_not_found(
    ann: httpx.Client, bob: httpx.Client, creator: dict[str, Any]
) -> None:
    mine = stage(ann, jpeg((100, 100), (1, 1, 1)))["id"]
    assert bob.get(f"/api/media/{mine}").status_code == 404
    assert bob.delete(f"/api/media/{mine}").status_code == 404
    assert ann.delete(f"/api/media/{mine}").status_code == 200
    assert ann.get(f"/api/media/{mine}").status_code == 404


def test_account_deletion_deletes_staged_objects(
    ann: httpx.Client, creator: dict[str, Any], devserver: Stack
) -> None:
    stage(ann, jpeg((100, 100), (1, 1, 1)))
    assert list(bucket(devserver).client.list_blobs(devserver.media_bucket))
    assert ann.delete("/api/me").status_code == 200
    assert list(bucket(devserver).client.list_blobs(devserver.media_bucket)) == []


def test_the_export_lists_staged_media_and_never_a_url(
    ann: httpx.Client, creator: dict[str, Any]
) -> None:
    data = jpeg((200, 100), (3, 3, 3))
    media_id = stage(ann, data)["id"]
    export = ann.get("/api/me/export").json()
    records = export["collections"]["media"]
    assert [(r["id"], r["type"], r["size"], r["state"]) for r in records] == [
        (media_id, "photo", len(data), "ready")
    ]
    dumped = json.dumps(records)
    assert "http://" not in dumped
    assert "https://" not in dumped
    assert "upload_id" not in dumped


def test_disconnect_deletes_the_staged_objects(
    ann: httpx.Client, creator: dict[str, Any], devserver: Stack
) -> None:
    stage(ann, jpeg((100, 100), (1, 1, 1)))
    assert objects_soon(devserver, 1) == 1
    assert ann.delete(f"/api/tiktok/accounts/{creator['open_id']}").status_code == 200
    assert objects_soon(devserver, 0) == 0


def mp4(seconds: float, padding: int = 300_000) -> bytes:
    """A minimal MP4: ftyp, the media data, then moov/mvhd (written last, as cameras do)."""

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(body), kind) + body

    mvhd = bytes(4) + struct.pack(">IIII", 0, 0, 1000, int(seconds * 1000)) + bytes(80)
    return (
        box(b"ftyp", b"isom\0\0\0\0isommp41")
        + box(b"mdat", bytes(padding))
        + box(b"moov", box(b"mvhd", mvhd))
    )


def test_a_staged_video_is_posted_with_the_duration_its_container_says(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], devserver: Stack
) -> None:
    data = mp4(12.5)
    staged = stage(ann, data, content_type="video/mp4", kind="video")
    ready = staged["response"].json()["media"]
    assert (ready["state"], ready["duration_sec"], ready["content_type"]) == (
        "ready",
        12.5,
        "video/mp4",
    )
    body = {
        "open_id": creator["open_id"],
        "mode": "direct",
        "media": {"type": "video", "source": "staged", "media_id": staged["id"]},
        "post": {"title": "a #clip", "privacy_level": "SELF_ONLY"},
    }
    response = ann.post("/api/publish", json=body)
    assert response.status_code == 201, response.text
    post = response.json()["post"]
    url = fake_tiktok.control("GET", f"publishes/{post['publish_id']}")["source_info"]["video_url"]
    assert url.startswith(f"{devserver.functions_url}/media/")
    assert wait_final(ann, post["id"])["status"] == "PUBLISH_COMPLETE"
    pulled = fake_tiktok.control("GET", f"publishes/{post['publish_id']}")["downloads"]
    assert [d["sha256"] for d in pulled] == [hashlib.sha256(data).hexdigest()]
    assert objects_soon(devserver, 0) == 0

    # A photo's slot cannot be posted as a video, and a used slot cannot be posted twice.
    photo = stage(ann, jpeg((100, 100), (1, 1, 1)))["id"]
    body["media"]["media_id"] = photo
    wrong = ann.post("/api/publish", json=body)
    assert wrong.json()["error"]["reason"] == "media.wrong_type"


def test_png_and_heic_photos_are_converted_to_jpeg_and_say_so(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], devserver: Stack
) -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    screenshot = io.BytesIO()
    Image.new("RGBA", (1170, 2532), (30, 120, 200, 255)).save(screenshot, "PNG")
    heic = io.BytesIO()
    Image.new("RGB", (4032, 3024), (10, 160, 40)).save(heic, "HEIF", quality=60)
    png_item = stage(ann, screenshot.getvalue(), content_type="image/png")
    heic_item = stage(ann, heic.getvalue(), content_type="image/heic")
    answers = [png_item["response"], heic_item["response"]]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    png_media, heic_media = (a.json()["media"] for a in answers)
    assert png_media["state"] == "ready"
    assert png_media["content_type"] == "image/jpeg"
    assert png_media["converted_from"] == "image/png"
    assert (png_media["width"], png_media["height"]) == (887, 1920)
    assert png_media["resized_from"] == {"width": 1170, "height": 2532}
    assert heic_media["converted_from"] == "image/heic"
    assert (heic_media["width"], heic_media["height"]) == (1440, 1080)
    assert heic_media["resized_from"] == {"width": 4032, "height": 3024}
    assert ann.get(f"/api/media/{png_item['id']}").json()["media"] == png_media

    ids = [png_item["id"], heic_item["id"]]
    response = ann.post("/api/publish", json=photo_post(creator["open_id"], ids))
    assert response.status_code == 201, response.text
    publish_id = response.json()["post"]["publish_id"]
    urls = fake_tiktok.control("GET", f"publishes/{publish_id}")["source_info"]["photo_images"]
    served = [httpx.get(u) for u in urls]
    assert [r.headers["content-type"] for r in served] == ["image/jpeg", "image/jpeg"]
    assert [len(r.content) for r in served] == [png_media["size"], heic_media["size"]]
    assert [Image.open(io.BytesIO(r.content)).size for r in served] == [(887, 1920), (1440, 1080)]
    wait_final(ann, response.json()["post"]["id"])
    pulled = fake_tiktok.control("GET", f"publishes/{publish_id}")["downloads"]
    assert [d["sha256"] for d in pulled] == [hashlib.sha256(r.content).hexdigest() for r in served]
