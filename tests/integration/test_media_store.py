"""Staged media against the real Firestore emulator and fake-gcs-server: uploads through the
returned session URI, the checks on completion, /media/ lookups, and deletion on every final
status (through the status store every status path writes with)."""

from __future__ import annotations

import io
import time
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from PIL import Image

from emulator.stack import Stack
from shared import errors
from shared.config import Secret, SessionKey
from shared.media.serve import find_servable
from shared.media.service import (
    Staging,
    complete_slot,
    create_slot,
    delete_post_media,
    get_slot,
)
from shared.media.storage import open_bucket
from shared.media.tokens import MediaGrant, MediaTokens
from shared.status.order import Observation
from shared.store.documents import PostDoc
from shared.store.media import MediaStore
from shared.store.posts import PostStore
from shared.store.status import StatusStore

pytestmark = pytest.mark.emulators

UID = "uid-ann"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def staging(gcs: Stack, clean: Stack) -> Staging:
    from google.cloud import firestore

    db = firestore.Client(project=gcs.project_id)
    bucket = open_bucket(gcs.project_id, gcs.gcs_url, gcs.media_bucket)
    for blob in bucket.client.list_blobs(gcs.media_bucket):
        blob.delete()
    db.document(f"users/{UID}").set({"uid": UID, "created_at": NOW, "last_login_at": NOW})
    return Staging(media=MediaStore(db), bucket=bucket, app_origin="http://127.0.0.1:5000")


def jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(out, "JPEG")
    return out.getvalue()


def upload(staging: Staging, data: bytes, now: datetime = NOW) -> str:
    slot = create_slot(
        staging,
        uid=UID,
        body={"type": "photo", "content_type": "image/jpeg", "size": len(data)},
        now=now,
    )
    sent = httpx.put(slot["upload"]["url"], content=data, headers=slot["upload"]["headers"])
    assert sent.status_code in (200, 201), sent.text
    media_id: str = slot["id"]
    return media_id


def objects(staging: Staging) -> list[str]:
    return [b.name for b in staging.bucket.client.list_blobs(staging.bucket.name)]


def used_by_post(staging: Staging, status: str = "PROCESSING_DOWNLOAD") -> tuple[str, str]:
    media_id = upload(staging, jpeg((300, 200)))
    complete_slot(staging, uid=UID, media_id=media_id, now=NOW)
    posts = PostStore(staging.media.db)
    post_id = posts.new_post_id(UID)
    # Only the fields the media store reads.
    doc = cast("PostDoc", {"uid": UID, "status": status, "media_ids": [media_id]})
    posts.create_post(UID, post_id, doc)
    staging.media.take_for_post(
        UID, [media_id], kind="photo", post_id=post_id, now=NOW, expire_at=NOW + timedelta(days=2)
    )
    return post_id, media_id


def test_an_upload_is_checked_from_its_real_bytes(staging: Staging) -> None:
    data = jpeg((640, 480))
    media_id = upload(staging, data)
    assert get_slot(staging, uid=UID, media_id=media_id, now=NOW)["state"] == "pending"
    ready = complete_slot(staging, uid=UID, media_id=media_id, now=NOW)
    assert (ready["state"], ready["size"], ready["width"], ready["height"]) == (
        "ready",
        len(data),
        640,
        480,
    )
    name = staging.media.get(UID, media_id)["object"]  # type: ignore[index]
    assert name.startswith("staged/")
    assert UID not in name
    assert objects(staging) == [name]


def test_completing_before_the_upload_or_after_the_window_is_refused(staging: Staging) -> None:
    slot = create_slot(
        staging, uid=UID, body={"type": "photo", "content_type": "image/jpeg", "size": 10}, now=NOW
    )
    with pytest.raises(errors.FailedPrecondition) as exc:
        complete_slot(staging, uid=UID, media_id=slot["id"], now=NOW)
    assert exc.value.reason == "media.upload_missing"
    with pytest.raises(errors.NotFound):
        complete_slot(staging, uid=UID, media_id=slot["id"], now=NOW + timedelta(hours=2))


def test_a_refused_upload_is_deleted_and_says_why(staging: Staging) -> None:
    media_id = upload(staging, jpeg((2000, 2000)))
    with pytest.raises(errors.FailedPrecondition) as exc:
        complete_slot(staging, uid=UID, media_id=media_id, now=NOW)
    assert exc.value.reason == "media.photo_dimensions"
    assert objects(staging) == []
    again = complete_slot(staging, uid=UID, media_id=media_id, now=NOW)
    assert again["state"] == "refused"
    assert again["refusal"]["reason"] == "media.photo_dimensions"


def test_an_expired_token_and_a_final_post_open_nothing(staging: Staging) -> None:
    posts = PostStore(staging.media.db)
    tokens = MediaTokens([SessionKey("k", Secret("s" * 40))])
    post_id, media_id = used_by_post(staging)
    other_post, other_media = used_by_post(staging)
    now = time.time()
    good = tokens.issue(MediaGrant(UID, post_id, media_id, int(now) + 3600))
    assert find_servable(staging, tokens, posts, good, now) is not None
    assert find_servable(staging, tokens, posts, good, now + 3601) is None  # expired
    crossed = tokens.issue(MediaGrant(UID, other_post, media_id, int(now) + 3600))
    assert find_servable(staging, tokens, posts, crossed, now) is None  # another post's media
    posts.update_post(UID, post_id, {"status": "FAILED"})
    assert find_servable(staging, tokens, posts, good, now) is None  # final post
    assert delete_post_media(staging, uid=UID, post_id=post_id) == 1
    assert delete_post_media(staging, uid=UID, post_id=post_id) == 0  # repeatable
    assert staging.media.get(UID, other_media) is not None


@pytest.mark.parametrize("final", ["PUBLISH_COMPLETE", "SEND_TO_USER_INBOX", "FAILED"])
def test_every_final_status_deletes_the_posts_objects(staging: Staging, final: str) -> None:
    post_id, media_id = used_by_post(staging)
    kept_post, _ = used_by_post(staging)
    deleted: list[Any] = []

    def on_final(uid: str, post: str) -> None:
        deleted.append(post)
        delete_post_media(staging, uid=uid, post_id=post)

    store = StatusStore(staging.media.db, on_final=on_final)
    store.apply(UID, post_id, Observation(source="webhook", status="PROCESSING_DOWNLOAD"), NOW)
    assert deleted == []
    store.apply(UID, post_id, Observation(source="webhook", status=final), NOW)
    assert deleted == [post_id]
    assert staging.media.get(UID, media_id) is None
    assert len(objects(staging)) == 1  # the other post's object stays
    store.apply(UID, post_id, Observation(source="poll", status=final), NOW)
    assert deleted == [post_id]  # once
    assert staging.media.of_post(UID, kept_post)


def test_the_sweep_deletes_expired_slots_and_their_objects(staging: Staging) -> None:
    from shared.media.sweep import sweep_expired_slots

    never_completed = upload(staging, jpeg((50, 50)))  # uploaded, never completed: 1 hour
    unused = upload(staging, jpeg((60, 60)))
    complete_slot(staging, uid=UID, media_id=unused, now=NOW)  # ready, taken by no post: 1 day
    later = upload(staging, jpeg((70, 70)), now=NOW + timedelta(days=1, minutes=30))
    assert len(objects(staging)) == 3
    assert sweep_expired_slots(staging, now=NOW + timedelta(hours=2)) == 1
    assert staging.media.get(UID, never_completed) is None
    assert len(objects(staging)) == 2
    assert sweep_expired_slots(staging, now=NOW + timedelta(days=1, hours=1)) == 1
    assert staging.media.get(UID, unused) is None
    assert staging.media.get(UID, later) is not None
    assert len(objects(staging)) == 1


def test_a_user_being_deleted_gets_no_new_slot(staging: Staging) -> None:
    from shared.store.user_data import UserData
    from shared.users.deletion import mark_deleting

    mark_deleting(UserData(staging.media.db), UID, NOW)
    with pytest.raises(errors.NotFound) as exc:
        create_slot(
            staging,
            uid=UID,
            body={"type": "photo", "content_type": "image/jpeg", "size": 10},
            now=NOW,
        )
    assert exc.value.reason == "user.deleted"
    assert staging.media.all_of(UID) == []


def test_a_stream_reads_exactly_its_range_of_that_generation_in_bounded_pieces(
    staging: Staging,
) -> None:
    data = bytes(range(256)) * 12_000  # 3,072,000 bytes: several pieces
    name = "staged/stream-test"
    url = staging.bucket.upload_session(
        name, content_type="video/mp4", size=len(data), origin=staging.app_origin
    )
    assert httpx.put(url, content=data).status_code in (200, 201)
    info = staging.bucket.info(name)
    assert info is not None
    bucket = staging.bucket

    pieces = list(bucket.stream(name, info.generation, 0, len(data) - 1, chunk=1 << 20))
    assert b"".join(pieces) == data
    assert max(len(p) for p in pieces) <= 1 << 20
    assert len(pieces) >= 3
    assert b"".join(bucket.stream(name, info.generation, 1000, 1999)) == data[1000:2000]
    assert b"".join(bucket.stream(name, info.generation, len(data) - 5, len(data) - 1)) == data[-5:]
    # A reader that stops early ends the download (the generator closes its response).
    early = bucket.stream(name, info.generation, 0, len(data) - 1, chunk=65536)
    assert isinstance(early, Generator)
    assert len(next(early)) == 65536
    early.close()
    # Another generation (the object was replaced) or a deleted object: no byte at all.
    assert list(bucket.stream(name, info.generation + 1, 0, 99)) == []
    bucket.delete(name)
    assert list(bucket.stream(name, info.generation, 0, 99)) == []


def test_a_png_is_converted_in_place_and_the_slot_records_the_jpeg(staging: Staging) -> None:
    out = io.BytesIO()
    Image.new("RGBA", (2400, 1200), (0, 0, 0, 0)).save(out, "PNG")
    png = out.getvalue()
    slot = create_slot(
        staging,
        uid=UID,
        body={"type": "photo", "content_type": "image/png", "size": len(png)},
        now=NOW,
    )
    sent = httpx.put(slot["upload"]["url"], content=png, headers=slot["upload"]["headers"])
    assert sent.status_code in (200, 201)
    done = complete_slot(staging, uid=UID, media_id=slot["id"], now=NOW)
    assert done["state"] == "ready"
    assert done["converted_from"] == "image/png"
    assert done["resized_from"] == {"width": 2400, "height": 1200}
    assert (done["width"], done["height"], done["content_type"]) == (1920, 960, "image/jpeg")
    stored = staging.media.get(UID, slot["id"])
    assert stored is not None
    info = staging.bucket.info(stored["object"])
    assert info is not None
    assert (info.size, info.generation) == (done["size"], stored["generation"])
    served = b"".join(staging.bucket.stream(stored["object"], info.generation, 0, info.size - 1))
    assert served.startswith(b"\xff\xd8\xff")
    with Image.open(io.BytesIO(served)) as image:
        assert image.size == (1920, 960)
        pixel = image.getpixel((10, 10))
        assert isinstance(pixel, tuple)
        assert min(pixel) >= 250  # transparent became white
