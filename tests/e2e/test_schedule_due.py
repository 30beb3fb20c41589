"""Scheduled posts when they are due: sent once, in order, 6 a minute, never a duplicate.

Posts are scheduled over real HTTP (dev server, emulators, fake KMS, fake TikTok), then the due
run (``shared/publishing/due_run.py``, what ``publish_scheduled`` runs) is called in this process
with its clock set to the posts' time: the fake TikTok counts every init it receives. Crashes are
an exception the run cannot handle raised at the exact step (before the claim, between claim and
init, between init and its record), with the lease left behind as a killed instance leaves it.
Promise P20.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from emulator.stack import Stack
from shared import runtime
from shared.publishing.due import LEASE_TTL, Due
from shared.publishing.due_run import DueSummary, run_due
from shared.status.sweep import STALLED_INIT, run_sweep
from shared.store.leases import Leases
from shared.store.scheduled import ScheduleStore
from tests.e2e.test_media_http import jpeg, objects_soon, stage
from tests.media_server import MediaServer
from tests.support import FakeTikTok

pytestmark = pytest.mark.e2e

INIT_ENDPOINTS = ("video_init", "inbox_init", "content_init")


class Killed(BaseException):
    """The instance dies here (nothing in the run catches it)."""


@pytest.fixture
def creator(fake_tiktok: FakeTikTok, media: MediaServer, devserver: Stack) -> dict[str, Any]:
    prefixes = [media.base + "/media/", f"{devserver.functions_url}/media/"]
    fake_tiktok.control("POST", "config", json={"verified_url_prefixes": prefixes})
    return fake_tiktok.create_user(display_name="Casey", username="casey")


@pytest.fixture
def no_release(monkeypatch: pytest.MonkeyPatch) -> None:
    """A killed instance never releases its lease: it expires."""
    monkeypatch.setattr(Leases, "release", lambda self, lease: None)


def schedule(
    ann: httpx.Client, open_id: str, media: MediaServer, when: timedelta, **post: Any
) -> dict[str, Any]:
    at = (datetime.now(UTC) + when).replace(microsecond=0)
    body = {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "video", "source": "url", "url": media.url(1_000_000, "clip.mp4")},
        "post": {"title": "later", "privacy_level": "PUBLIC_TO_EVERYONE", **post},
        "duration_sec": 30.0,
        "schedule_at": at.isoformat(),
    }
    response = ann.post("/api/publish", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["post"]
    created["at"] = at
    return created


def due(clock: Callable[[], datetime], holder: str = "test", **publisher: Any) -> Due:
    d = runtime.due(holder)
    if publisher:
        d = dataclasses.replace(d, publisher=dataclasses.replace(d.publisher, **publisher))
    return dataclasses.replace(d, clock=clock, sleep=lambda seconds: None)


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def _run(d: Due, moment: datetime) -> DueSummary:
    class NoFanOut:
        def publish(self, topic: str, data: bytes) -> str:
            raise AssertionError("this run should not need to fan out")

    return run_due(d, NoFanOut(), now=moment)


def inits(fake: FakeTikTok) -> int:
    counts = fake.calls()
    return sum(counts.get(name, 0) for name in INIT_ENDPOINTS)


def post_of(ann: httpx.Client, post_id: str) -> dict[str, Any]:
    found: dict[str, Any] = ann.get(f"/api/publish/{post_id}/status").json()["post"]
    return found


def received(fake: FakeTikTok, open_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = fake.control("GET", "publishes", params={"open_id": open_id})[
        "publishes"
    ]
    return found


class Dying:
    """The TikTok client of an instance that dies at ``where`` (``creator_info``, ``before_init``
    or ``after_init``); every other call goes to the real client."""

    def __init__(self, real: Any, where: str, hook: Callable[[], None] | None = None) -> None:
        self.real, self.where, self.hook = real, where, hook

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.real, name)
        if name == "creator_info" and self.where in ("creator_info", "hook"):

            def creator_info(*args: Any, **kwargs: Any) -> Any:
                if self.where == "creator_info":
                    raise Killed
                answer = attribute(*args, **kwargs)
                assert self.hook is not None
                self.hook()  # e.g. the user cancels while the checks run
                return answer

            return creator_info
        if name.startswith("init_"):

            def init(*args: Any, **kwargs: Any) -> Any:
                if self.where == "before_init":
                    raise Killed
                answer = attribute(*args, **kwargs)
                if self.where == "after_init":
                    raise Killed
                return answer

            return init
        return attribute


def test_a_scheduled_post_is_sent_once_at_its_time_with_the_confirmed_settings(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    post = schedule(ann, creator["open_id"], media, timedelta(minutes=10), allow_comment=True)
    sent_at = post["at"] + timedelta(seconds=20)

    early = _run(due(at(post["at"] - timedelta(minutes=1))), post["at"] - timedelta(minutes=1))
    assert early.accounts == 0
    assert inits(fake_tiktok) == 0
    summary = _run(due(at(sent_at)), sent_at)
    again = _run(due(at(sent_at + timedelta(minutes=1))), sent_at + timedelta(minutes=1))

    assert summary.outcomes["sent"] == 1
    assert again.accounts == 0
    assert inits(fake_tiktok) == 1
    (publish,) = received(fake_tiktok, creator["open_id"])
    assert publish["post_info"]["title"] == "later"
    assert publish["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert publish["post_info"]["disable_comment"] is False
    stored = post_of(ann, post["id"])
    assert stored["publish_id"] == publish["publish_id"]
    assert stored["status"] in ("PROCESSING_DOWNLOAD", "PUBLISH_COMPLETE")
    assert stored["late_by_sec"] is None  # 20 s after its time is on time


def test_a_post_sent_more_than_two_minutes_late_records_by_how_much(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    post = schedule(ann, creator["open_id"], media, timedelta(minutes=10))
    moment = post["at"] + timedelta(minutes=7, seconds=5)

    _run(due(at(moment)), moment)

    assert post_of(ann, post["id"])["late_by_sec"] == 425
    assert inits(fake_tiktok) == 1


def test_twenty_concurrent_runs_of_one_minute_send_each_post_once(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    posts = [schedule(ann, creator["open_id"], media, timedelta(minutes=10)) for _ in range(5)]
    moment = max(p["at"] for p in posts) + timedelta(seconds=5)
    start = threading.Barrier(20)
    summaries: list[DueSummary] = []

    def delivery(n: int) -> None:
        start.wait()
        summaries.append(_run(due(at(moment), holder=f"instance-{n}"), moment))

    threads = [threading.Thread(target=delivery, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(summaries) == 20
    assert sum(s.outcomes["sent"] for s in summaries) == 5
    assert inits(fake_tiktok) == 5
    publish_ids = {post_of(ann, p["id"])["publish_id"] for p in posts}
    assert None not in publish_ids
    assert len(publish_ids) == 5
    assert {p["publish_id"] for p in received(fake_tiktok, creator["open_id"])} == publish_ids


def test_eight_posts_of_one_account_due_in_one_minute_go_six_then_two_in_order(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    base = timedelta(minutes=10)
    # Scheduled out of order: two share a second (then the id decides).
    offsets = [7, 3, 0, 5, 3, 1, 6, 2]
    posts = [
        schedule(ann, creator["open_id"], media, base + timedelta(seconds=s), title=f"post {i}")
        for i, s in enumerate(offsets)
    ]
    expected = [p["title"] for p in sorted(posts, key=lambda p: (p["at"], p["id"]))]
    minute = max(p["at"] for p in posts) + timedelta(seconds=1)

    first = _run(due(at(minute)), minute)
    assert (first.outcomes["sent"], first.outcomes["waiting"]) == (6, 2)
    fake_tiktok.control("POST", "advance", json={"seconds": 60})
    second = _run(due(at(minute + timedelta(seconds=60))), minute + timedelta(seconds=60))

    assert second.outcomes["sent"] == 2
    titles = [p["post_info"]["title"] for p in received(fake_tiktok, creator["open_id"])]
    assert titles == expected  # TikTok received them in (schedule_at, id) order
    assert fake_tiktok.calls()["video_init"] == 8  # no init was refused: none over 6 a minute


def test_killed_after_the_checks_before_the_claim_it_is_sent_by_the_next_run(
    ann: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    media: MediaServer,
    no_release: None,
) -> None:
    post = schedule(ann, creator["open_id"], media, timedelta(minutes=10))
    moment = post["at"] + timedelta(seconds=5)
    real = runtime.tiktok()

    with pytest.raises(Killed):
        _run(due(at(moment), tiktok=Dying(real, "creator_info")), moment)
    assert post_of(ann, post["id"])["status"] == "SCHEDULED"
    busy = _run(due(at(moment + timedelta(seconds=30))), moment + timedelta(seconds=30))
    assert busy.outcomes["busy"] == 1  # the dead instance's lease still stands
    later = moment + LEASE_TTL + timedelta(seconds=1)
    _run(due(at(later)), later)

    assert inits(fake_tiktok) == 1
    assert post_of(ann, post["id"])["publish_id"]


@pytest.mark.parametrize("where", ["before_init", "after_init"])
def test_killed_after_the_claim_it_is_never_sent_again_and_settles_unknown(
    ann: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    media: MediaServer,
    no_release: None,
    where: str,
) -> None:
    post = schedule(ann, creator["open_id"], media, timedelta(minutes=10))
    moment = post["at"] + timedelta(seconds=5)

    with pytest.raises(Killed):
        _run(due(at(moment), tiktok=Dying(runtime.tiktok(), where)), moment)
    sent = 1 if where == "after_init" else 0
    assert inits(fake_tiktok) == sent
    assert post_of(ann, post["id"])["status"] == "INITIALIZING"
    for minutes in (1, 5, 15):  # Every later run (the lease long expired) leaves it alone.
        later = moment + timedelta(minutes=minutes)
        _run(due(at(later)), later)
    run_sweep(runtime.tracker(), now=moment + STALLED_INIT + timedelta(seconds=1))

    settled = post_of(ann, post["id"])
    assert (settled["status"], settled["fail_reason"]) == ("UNKNOWN", "init_outcome_unknown")
    assert inits(fake_tiktok) == sent  # never initialised a second time


def test_a_cancel_during_the_checks_wins_and_the_post_never_reaches_tiktok(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    post = schedule(ann, creator["open_id"], media, timedelta(minutes=10))
    moment = post["at"] + timedelta(seconds=5)

    def cancel() -> None:
        assert ann.delete(f"/api/publish/{post['id']}").status_code == 200

    summary = _run(due(at(moment), tiktok=Dying(runtime.tiktok(), "hook", cancel)), moment)

    assert summary.outcomes["withdrawn"] == 1
    assert post_of(ann, post["id"])["status"] == "CANCELLED"
    assert inits(fake_tiktok) == 0


def test_an_edit_during_the_checks_is_what_is_sent(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    post = schedule(ann, creator["open_id"], media, timedelta(minutes=10))
    moment = post["at"] + timedelta(seconds=5)
    edited: list[httpx.Response] = []

    def edit() -> None:
        if not edited:  # once: the re-check after it calls creator info again
            edited.append(ann.patch(f"/api/publish/{post['id']}", json={"post": {"title": "v2"}}))

    _run(due(at(moment), tiktok=Dying(runtime.tiktok(), "hook", edit)), moment)

    assert edited[0].status_code == 200, edited[0].text
    (publish,) = received(fake_tiktok, creator["open_id"])
    assert publish["post_info"]["title"] == "v2"


def test_cancel_racing_the_claim_exactly_one_wins(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    posts = [schedule(ann, creator["open_id"], media, timedelta(minutes=10)) for _ in range(4)]
    moment = max(p["at"] for p in posts) + timedelta(seconds=5)
    start = threading.Barrier(len(posts) + 1)
    answers: dict[str, httpx.Response] = {}

    def cancel(post: dict[str, Any]) -> None:
        start.wait()
        answers[post["id"]] = ann.delete(f"/api/publish/{post['id']}")

    threads = [threading.Thread(target=cancel, args=(p,)) for p in posts]
    for thread in threads:
        thread.start()
    start.wait()
    _run(due(at(moment)), moment)
    for thread in threads:
        thread.join()

    sent = {p["publish_id"] for p in received(fake_tiktok, creator["open_id"])}
    for post in posts:
        stored = post_of(ann, post["id"])
        answer = answers[post["id"]]
        if answer.status_code == 200:  # the cancel won: never sent
            assert stored["status"] == "CANCELLED"
            assert stored["publish_id"] is None
        else:  # the claim won: sent once, and the cancel was told why
            assert answer.status_code == 409
            assert answer.json()["error"]["reason"] == "schedule.publishing_started"
            assert stored["publish_id"] in sent
    assert (
        inits(fake_tiktok) == len(sent) == sum(1 for a in answers.values() if a.status_code == 409)
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"comment_disabled": True}, "post.allow_comment_disabled_by_creator"),
        ({"private_account": True}, "tiktok.privacy_level_option_mismatch"),
        ({"max_video_post_duration_sec": 15}, "post.duration_too_long"),
        ({"spam": "spam_risk_too_many_posts"}, "tiktok.spam_risk_too_many_posts"),
        (
            {"spam": "spam_risk_user_banned_from_posting"},
            "tiktok.spam_risk_user_banned_from_posting",
        ),
    ],
)
def test_a_rule_that_no_longer_holds_when_due_fails_the_post_naming_it(
    ann: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    media: MediaServer,
    change: dict[str, Any],
    reason: str,
) -> None:
    post = schedule(ann, creator["open_id"], media, timedelta(minutes=10), allow_comment=True)
    fake_tiktok.control("PATCH", f"users/{creator['open_id']}", json=change)
    moment = post["at"] + timedelta(seconds=5)

    summary = _run(due(at(moment)), moment)
    again = _run(due(at(moment + timedelta(minutes=1))), moment + timedelta(minutes=1))

    assert summary.outcomes["failed"] == 1
    assert again.accounts == 0
    stored = post_of(ann, post["id"])
    assert (stored["status"], stored["fail_reason"]) == ("FAILED", reason)
    assert inits(fake_tiktok) == 0


def test_a_creator_at_tiktoks_daily_cap_fails_the_post_naming_it_before_any_init(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    """The creator reached the cap posting now; TikTok's creator info says they cannot post
    (HTTP 200, spam_risk_too_many_posts), so each due post fails naming it, unsent, for good."""
    posts = [schedule(ann, creator["open_id"], media, timedelta(minutes=10)) for _ in range(2)]
    fake_tiktok.control("POST", "config", json={"daily_post_cap": 2})
    for n in range(2):
        now = {
            "open_id": creator["open_id"],
            "mode": "direct",
            "media": {"type": "video", "source": "url", "url": media.url(1000, f"{n}.mp4")},
            "post": {"title": f"now {n}", "privacy_level": "SELF_ONLY"},
            "duration_sec": 5.0,
        }
        assert ann.post("/api/publish", json=now).status_code == 201
    before = fake_tiktok.calls()["creator_info"]
    moment = max(p["at"] for p in posts) + timedelta(seconds=5)

    summary = _run(due(at(moment)), moment)
    again = _run(due(at(moment + timedelta(minutes=1))), moment + timedelta(minutes=1))

    assert summary.outcomes["failed"] == 2
    assert again.accounts == 0  # failed for good: nothing left to retry
    for post in posts:
        stored = post_of(ann, post["id"])
        assert (stored["status"], stored["fail_reason"]) == (
            "FAILED",
            "tiktok.spam_risk_too_many_posts",
        )
        assert stored["publish_id"] is None
    assert fake_tiktok.calls()["video_init"] == 2  # the two posted now; none of the scheduled
    assert fake_tiktok.calls()["creator_info"] == before + 1  # asked once for the account


def test_tiktoks_daily_cap_at_init_fails_the_post_and_is_not_retried(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    """The cap is reached between creator info and the init (TikTok's cap counts every app's
    posts): the init's 403 fails the post with it, and it is never sent again."""
    post = schedule(ann, creator["open_id"], media, timedelta(minutes=10))
    moment = post["at"] + timedelta(seconds=5)

    def cap_reached() -> None:
        fake_tiktok.control("POST", "config", json={"daily_post_cap": 0})

    _run(due(at(moment), tiktok=Dying(runtime.tiktok(), "hook", cap_reached)), moment)
    _run(due(at(moment + timedelta(minutes=1))), moment + timedelta(minutes=1))

    stored = post_of(ann, post["id"])
    assert (stored["status"], stored["fail_reason"]) == (
        "FAILED",
        "tiktok.spam_risk_too_many_posts",
    )
    assert fake_tiktok.calls()["video_init"] == 1  # refused once, never sent again


def test_a_revoked_or_reconnect_account_fails_its_posts_naming_it(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    posts = [schedule(ann, creator["open_id"], media, timedelta(minutes=10)) for _ in range(2)]
    store = runtime.account_store()
    (account,) = store.list(ann_uid(ann))
    store.update_checked(account.uid, account.open_id, lambda a: {"status": "needs_reconnect"})
    moment = max(p["at"] for p in posts) + timedelta(seconds=5)

    _run(due(at(moment)), moment)

    for post in posts:
        stored = post_of(ann, post["id"])
        assert (stored["status"], stored["fail_reason"]) == ("FAILED", "account.needs_reconnect")
    assert inits(fake_tiktok) == 0


def test_a_post_left_scheduled_for_an_account_that_is_gone_fails_naming_it(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    """Disconnecting cancels the account's scheduled posts (test_schedule_disconnect.py); one
    scheduled in the same instant as the disconnect, after its cancels, fails at its time."""
    post = schedule(ann, creator["open_id"], media, timedelta(minutes=10))
    assert runtime.account_store().delete(ann_uid(ann), creator["open_id"])  # the account only
    moment = post["at"] + timedelta(seconds=5)

    _run(due(at(moment)), moment)

    stored = post_of(ann, post["id"])
    assert (stored["status"], stored["fail_reason"]) == ("FAILED", "account.disconnected")
    assert inits(fake_tiktok) == 0


def test_staged_photos_are_pulled_by_tiktok_at_the_posts_time_then_deleted(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], devserver: Stack
) -> None:
    from tests.e2e.test_media_http import bucket

    for blob in bucket(devserver).client.list_blobs(devserver.media_bucket):
        blob.delete()
    photos = [stage(ann, jpeg((1080, 1920), (0, 90, 30 * i)))["id"] for i in range(2)]
    when = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    created = ann.post(
        "/api/publish",
        json={
            "open_id": creator["open_id"],
            "mode": "direct",
            "media": {"type": "photo", "media_ids": photos},
            "post": {"title": "two", "privacy_level": "SELF_ONLY"},
            "schedule_at": when.isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    post = created.json()["post"]
    moment = when + timedelta(seconds=5)

    _run(due(at(moment)), moment)

    final = wait_final(ann, post["id"])
    assert final["status"] == "PUBLISH_COMPLETE", final
    assert objects_soon(devserver, 0) == 0


def wait_final(ann: httpx.Client, post_id: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        post = post_of(ann, post_id)
        if post["status"] in ("PUBLISH_COMPLETE", "FAILED"):
            return post
        time.sleep(0.3)
    raise AssertionError("the post never became final")


def ann_uid(ann: httpx.Client) -> str:
    uid: str = ann.get("/api/session").json()["user"]["uid"]
    return uid


def test_the_due_query_sees_only_due_scheduled_posts(
    ann: httpx.Client, creator: dict[str, Any], media: MediaServer
) -> None:
    soon = schedule(ann, creator["open_id"], media, timedelta(minutes=10))
    schedule(ann, creator["open_id"], media, timedelta(hours=5))
    store = ScheduleStore(runtime.firestore_client())

    found = [s.id for s in store.due_query(soon["at"]).stream()]

    assert found == [soon["id"]]


def post_events(post_id: str) -> list[tuple[str, str | None]]:
    """The status events written for a post (docs/events.md), in the order they were written."""
    from shared.store.outbox import OUTBOX

    entries = [s.to_dict() or {} for s in runtime.firestore_client().collection(OUTBOX).stream()]
    mine = sorted(
        (e for e in entries if e["event"]["post_id"] == post_id), key=lambda e: e["created_at"]
    )
    return [(e["event"]["status"], e["event"]["reason"]) for e in mine]


def test_each_status_of_a_scheduled_post_is_one_event(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    sent = schedule(ann, creator["open_id"], media, timedelta(minutes=10))
    cancelled = schedule(ann, creator["open_id"], media, timedelta(minutes=10))
    failed = schedule(ann, creator["open_id"], media, timedelta(minutes=10), allow_comment=True)
    assert ann.patch(f"/api/publish/{sent['id']}", json={"post": {"title": "x"}}).status_code == 200
    assert ann.delete(f"/api/publish/{cancelled['id']}").status_code == 200
    runtime.firestore_client().document(f"users/{ann_uid(ann)}/posts/{failed['id']}").update(
        {"allow_comment": True, "privacy_level": "FOLLOWER_OF_CREATOR"}
    )
    moment = sent["at"] + timedelta(seconds=5)

    _run(due(at(moment)), moment)

    assert post_events(sent["id"])[:3] == [
        ("SCHEDULED", None),
        ("INITIALIZING", None),
        ("PROCESSING_DOWNLOAD", None),
    ]
    assert post_events(cancelled["id"]) == [("SCHEDULED", None), ("CANCELLED", None)]
    assert post_events(failed["id"]) == [
        ("SCHEDULED", None),
        ("FAILED", "tiktok.privacy_level_option_mismatch"),
    ]


def post_now(ann: httpx.Client, open_id: str, media: MediaServer, n: int) -> None:
    body = {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "video", "source": "url", "url": media.url(1000, f"{n}.mp4")},
        "post": {"title": f"now {n}", "privacy_level": "SELF_ONLY"},
        "duration_sec": 5.0,
    }
    response = ann.post("/api/publish", json=body)
    assert response.status_code == 201, response.text


def make_due_now(ann: httpx.Client, post: dict[str, Any]) -> datetime:
    """The post's minute is now, in real time (posting now counts in real time too)."""
    moment = datetime.now(UTC)
    runtime.firestore_client().document(f"users/{ann_uid(ann)}/posts/{post['id']}").update(
        {"schedule_at": moment - timedelta(seconds=5)}
    )
    return moment


def test_posts_made_now_spend_the_same_init_minute_the_due_run_counts(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    """TikTok's 6 inits a minute are the token's: 4 posted now leave the due run 2, and the third
    scheduled post waits for the next minute without TikTok ever answering 429."""
    posts = [schedule(ann, creator["open_id"], media, timedelta(minutes=10)) for _ in range(3)]
    for n in range(4):
        post_now(ann, creator["open_id"], media, n)
    moment = max(make_due_now(ann, post) for post in posts)

    first = _run(due(at(moment)), moment)

    assert (first.outcomes["sent"], first.outcomes["waiting"]) == (2, 1)
    assert fake_tiktok.calls()["video_init"] == 6  # 4 now and 2 scheduled: no 7th, no 429
    stored = [post_of(ann, p["id"]) for p in posts]
    assert [bool(p["publish_id"]) for p in stored] == [True, True, False]
    assert stored[2]["status"] == "SCHEDULED"
    fake_tiktok.control("POST", "advance", json={"seconds": 61})
    later = moment + timedelta(seconds=61)
    assert _run(due(at(later)), later).outcomes["sent"] == 1
    assert post_of(ann, posts[2]["id"])["publish_id"]
    assert fake_tiktok.calls()["video_init"] == 7


def test_tiktoks_rate_limit_sends_the_post_back_to_wait_for_the_next_minute(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    """TikTok answers 429 although the count had room (its window is its own; a post now whose
    count Firestore did not take): nothing was created, so the post waits, and goes once."""
    post = schedule(ann, creator["open_id"], media, timedelta(minutes=10))
    fake_tiktok.control(
        "POST",
        "fail",
        json={"endpoint": "video_init", "status": 429, "code": "rate_limit_exceeded", "times": 1},
    )
    moment = post["at"] + timedelta(seconds=5)

    first = _run(due(at(moment)), moment)
    assert first.outcomes["waiting"] == 1, post_of(ann, post["id"])["fail_reason"]
    assert post_of(ann, post["id"])["status"] == "SCHEDULED"  # TikTok's 429 created nothing
    soon = moment + timedelta(seconds=30)
    assert _run(due(at(soon)), soon).outcomes["waiting"] == 1  # the minute counts as spent
    later = moment + timedelta(seconds=61)
    second = _run(due(at(later)), later)

    assert second.outcomes["sent"] == 1
    assert post_of(ann, post["id"])["publish_id"]
    assert fake_tiktok.calls()["video_init"] == 2  # the refused one, the sent one
    assert len(received(fake_tiktok, creator["open_id"])) == 1


def test_a_429_when_posting_now_holds_the_due_run_back_for_the_minute(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    post = schedule(ann, creator["open_id"], media, timedelta(minutes=10))
    fake_tiktok.control(
        "POST",
        "fail",
        json={"endpoint": "video_init", "status": 429, "code": "rate_limit_exceeded", "times": 1},
    )
    body = {
        "open_id": creator["open_id"],
        "mode": "direct",
        "media": {"type": "video", "source": "url", "url": media.url(1000, "now.mp4")},
        "post": {"title": "now", "privacy_level": "SELF_ONLY"},
        "duration_sec": 5.0,
    }
    refused = ann.post("/api/publish", json=body)
    assert refused.status_code == 429
    assert refused.json()["error"]["reason"] == "tiktok.rate_limit_exceeded"
    moment = make_due_now(ann, post)

    assert _run(due(at(moment)), moment).outcomes["waiting"] == 1
    assert fake_tiktok.calls()["video_init"] == 1  # only the refused post now
    later = moment + timedelta(seconds=61)
    assert _run(due(at(later)), later).outcomes["sent"] == 1
