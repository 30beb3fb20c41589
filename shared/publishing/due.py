"""Sending one account's due scheduled posts: in order, each at most once, 6 inits a minute.

One account is worked on by one holder at a time (a lease in Firestore, shared/store/leases.py),
so its posts go out in their order (``schedule_at``, then id) and its token's init budget has one
spender. For each post, oldest first:

1. the account must still be connected, active and granted the scope (else the post fails with
   ``account.disconnected``, ``account.needs_reconnect``, ``account.revoked``,
   ``account.scope_missing``);
2. fresh creator info (once per account per run; "can post now" is TikTok refusing it, e.g.
   ``tiktok.spam_risk_too_many_posts``, the daily cap) and every rule of posting now
   (``check_against_creator``): a rule that no longer holds fails the post naming it;
3. one init of the token's minute (``InitBudget``: reserved for the account's due posts in one
   write): none left, and this post and the rest wait for the next run, in order;
4. the claim: ``SCHEDULED`` -> ``INITIALIZING`` in one write conditioned on the version checked,
   so an edit or cancel since then wins and this post is looked at again (or not sent at all);
5. :func:`shared.publishing.send.initialise`, the code path of posting now.

A crash before step 4 leaves the post ``SCHEDULED`` (the lease expires; the next run sends it); a
crash after it leaves ``INITIALIZING``, which only the sweep settles (``UNKNOWN``), never a
second init. A refusal TikTok answered fails the post with TikTok's reason, except the two that
prove nothing was created and pass: its rate limit (the post waits for the next minute) and a
connection never made. Transient trouble (TikTok or KMS unavailable) leaves the post due for the
next run, until :data:`GIVE_UP_AFTER`, then it fails with ``schedule.missed``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.accounts.service import mark_if_unusable
from shared.publishing.posts import request_body
from shared.publishing.publish import check_scope
from shared.publishing.rules import PublishRequest, check_against_creator, parse_request
from shared.publishing.scheduled import delete_media
from shared.publishing.send import InitRefused, initialise
from shared.status.sweep import stalled_init_check
from shared.store.accounts import ACTIVE, Account
from shared.store.leases import Leases, lease_key
from shared.store.posts import SCHEDULED
from shared.store.scheduled import (
    INIT_LIMIT,
    INIT_WINDOW,
    AccountState,
    ScheduleStore,
    Versioned,
)
from shared.tokens.fresh import fresh_access_token

if TYPE_CHECKING:
    from shared.publishing.publish import Publisher
    from shared.store.accounts import Account
    from shared.store.documents import PostChanges
    from shared.store.outbox import Event

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(minutes=2)  # later than this, the post records late_by_sec
GIVE_UP_AFTER = timedelta(hours=6)  # transient trouble this long after its time: schedule.missed
LEASE_TTL = timedelta(minutes=3)  # beyond one account's run: 6 inits and their creator info
MARK_WITHIN = 20.0  # seconds: published events are marked sent well inside the outbox's claim
PER_RUN = 50  # due posts of one account read per run (6 go out a minute; the rest wait)
# TikTok's answers to an init that prove no post was created there and that trying later may
# succeed: the post stays SCHEDULED (rate limit: for the next minute).
_RETRY_REASONS = frozenset({"tiktok.rate_limit_exceeded", "tiktok.unreachable"})
_TRANSIENT = (errors.Unavailable, errors.ResourceExhausted, errors.DeadlineExceeded, errors.Aborted)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Budget:
    """TikTok's init limit per token, and how long a run waits for an init to free up (a run
    that starts a moment before the minute is over waits rather than leaving it a whole minute)."""

    limit: int = INIT_LIMIT
    window: float = INIT_WINDOW
    wait_up_to: float = 10.0


@dataclass
class Due:
    """The collaborators one account's run needs."""

    publisher: Publisher
    schedules: ScheduleStore
    leases: Leases
    holder: str
    budget: Budget = Budget()
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], None] = time.sleep


class _Stop(Exception):
    """Nothing more for this account in this run (no init budget left)."""


def publish_due_account(d: Due, uid: str, open_id: str) -> Counter[str]:
    """Send the account's due posts that this minute allows; outcomes counted by name."""
    counts: Counter[str] = Counter()
    now = d.clock()
    key = lease_key("publish-due", f"{uid}/{open_id}")
    lease = d.leases.acquire(
        key, holder=d.holder, subject=f"users/{uid}/accounts/{open_id}", ttl=LEASE_TTL, now=now
    )
    if lease is None:
        counts["busy"] += 1  # another instance is sending this account's posts right now
        return counts
    run: _AccountRun | None = None
    try:
        posts = d.schedules.due_posts(uid, open_id, now, PER_RUN)
        if not posts:
            return counts
        state = d.schedules.account_state(uid, open_id, now, d.budget.window)
        if not state.user_live:
            counts["withdrawn"] += len(posts)  # being deleted: its posts go with it, unsent
            return counts
        run = _AccountRun(d, uid, open_id, counts, state)
        for index, post in enumerate(posts):
            run.remaining = len(posts) - index
            try:
                run.one(post)
            except _Stop:  # This one and the rest wait for the next run, in their order.
                counts["waiting"] += len(posts) - index
                break
    finally:
        try:
            if run is not None:
                run.close()
        finally:
            d.leases.release(lease)
    return counts


class _AccountRun:
    """One account's posts in one run: the account, token, creator info and init budget read
    once; the status events of each post published together after its last write (one check
    of the user for them), and marked sent together."""

    def __init__(
        self, d: Due, uid: str, open_id: str, counts: Counter[str], state: AccountState
    ) -> None:
        self.d, self.uid, self.open_id, self.counts = d, uid, open_id, counts
        self._account_doc = state.account
        self._account: Account | None = None
        self._token: str | None = None
        self._creator: Any = None
        self._creator_refusal: errors.AppError | None = None
        self.budget = state.budget
        self.remaining = 1  # due posts from the current one on (how many inits to reserve)
        self.events: list[Event] = []  # committed, not published yet
        self._sent: list[tuple[Event, str]] = []  # published, not marked sent yet
        self._sent_since = 0.0

    def close(self) -> None:
        """Publish what is left, mark what was published, give back unused inits."""
        with contextlib.suppress(Exception):
            self._publish()
        self._mark()
        with contextlib.suppress(Exception):
            self.budget.settle(self.d.clock())

    def _publish(self, *, user_live: bool = False) -> None:
        """Publish the events committed so far; ``user_live``: the user was read live after the
        last of their commits (else it is read here)."""
        if not self.events:
            return
        events, self.events = self.events, []
        outbox = self.d.schedules.outbox
        sent = outbox.publish_deferred(events, being_deleted=False if user_live else None)
        if sent and not self._sent:
            self._sent_since = time.monotonic()
        self._sent.extend(sent)
        if self._sent and time.monotonic() - self._sent_since > MARK_WITHIN:
            self._mark()

    def _mark(self) -> None:
        sent, self._sent = self._sent, []
        self.d.schedules.outbox.mark_sent(sent)

    def one(self, post: Versioned) -> None:
        for _ in range(3):  # re-read after an edit landed between the checks and the claim
            outcome = self._attempt(post)
            self._publish(user_live=outcome == "sent")
            if outcome != "changed":
                self.counts[outcome] += 1
                return
            reread = self.d.schedules.read(self.uid, post.post_id)
            if reread is None or reread.doc.get("status") != SCHEDULED:
                self.counts["withdrawn"] += 1  # cancelled (or deleted) meanwhile: never sent
                return
            post = reread
        self.counts["contended"] += 1

    def _attempt(self, post: Versioned) -> str:
        d, doc = self.d, post.doc
        now = d.clock()
        try:
            request = parse_request(request_body(doc), loopback_http=d.publisher.loopback_media)
            account = self._usable_account(now)
            check_scope(account.scopes, request)
            token = self._fresh_token(account, now)
            if request.needs_creator_info:
                check_against_creator(request, self._creator_info(account, token, now))
        except _TRANSIENT as exc:
            return self._later(post, exc, now)
        except errors.AppError as exc:
            return self._fail(post, exc.reason or exc.code, exc.message, now)
        self._take_init(now)
        claim: PostChanges = {
            "status": "INITIALIZING",
            "status_source": "schedule",
            "status_check_at": stalled_init_check(now),  # the sweep settles it if we die now
            "claimed_at": now,
            "updated_at": now,
        }
        claimed = d.schedules.change(self.uid, post, claim, deferred=self.events)
        if claimed is None:
            return "changed"
        return self._send(claimed, request, token)

    def _send(self, post: Versioned, request: PublishRequest, token: str) -> str:
        """``post`` as claimed: TikTok's init (one reserved init spent) and its record."""
        d, now = self.d, self.d.clock()
        doc = post.doc.copy()
        late = now - doc["schedule_at"]
        extra: PostChanges = {}
        if late > LATE_AFTER:
            extra["late_by_sec"] = int(late.total_seconds())
        try:
            try:
                initialise(
                    d.publisher,
                    token,
                    uid=self.uid,
                    post_id=post.post_id,
                    doc=doc,
                    request=request,
                    plan=None,
                    now=now,
                    extra=extra,
                    version=post.version,
                    deferred=self.events,
                )
            finally:  # TikTok counts the init from its arrival: the later time is the safe one
                self.budget.spend(d.clock())
        except InitRefused as refused:
            return self._refused(post, refused.error, now)
        except errors.DeadlineExceeded:
            return "unknown"  # recorded UNKNOWN by initialise: never sent again
        except errors.NotFound:
            return "withdrawn"  # the user was deleted while it was sent; initialise undid it
        log.info("scheduled post sent", extra={"post_id": post.post_id, **extra})
        return "sent"

    def _refused(self, post: Versioned, error: errors.AppError, now: datetime) -> str:
        d = self.d
        known = (post.doc, post.version)  # as claimed: nothing else writes it before the sweep
        if error.reason in _RETRY_REASONS:
            d.publisher.posts.update_post(
                self.uid,
                post.post_id,
                {
                    "status": SCHEDULED,
                    "status_source": "schedule",
                    "status_check_at": None,
                    "updated_at": now,
                },
                known=known,
                deferred=self.events,
            )
            if error.reason == "tiktok.rate_limit_exceeded":
                d.schedules.fill_init_window(self.uid, self.open_id, now, d.budget.limit)
                raise _Stop
            return "retry"
        if self._account is not None:
            with contextlib.suppress(errors.NotFound):  # disconnected meanwhile: nothing to mark
                mark_if_unusable(d.publisher.accounts, self._account, error, now)
        changes = _failed(error.reason or error.code, error.message, now)
        d.publisher.posts.update_post(
            self.uid, post.post_id, changes, known=known, deferred=self.events
        )
        if post.doc.get("media_ids"):
            delete_media(d.publisher, self.uid, post.post_id)
        log.warning(
            "scheduled post refused by TikTok",
            extra={"post_id": post.post_id, "reason": error.reason},
        )
        return "failed"

    def _take_init(self, now: datetime) -> None:
        """One of the inits reserved for this account's posts, reserving more (for the posts
        left) when none is."""
        d = self.d
        if self.budget.available:
            return
        for _ in range(3):
            wait = self.budget.take(now, self.remaining, d.budget.limit)
            if wait == 0.0:
                return
            if wait > d.budget.wait_up_to:
                raise _Stop
            d.sleep(wait)
            now = d.clock()
        raise _Stop

    def _usable_account(self, now: datetime) -> Account:
        if self._account is None:
            if not self._account_doc:
                raise errors.FailedPrecondition(
                    "the TikTok account was disconnected before the post's time",
                    reason="account.disconnected",
                )
            self._account = Account.from_doc(self._account_doc)
        if self._account.status != ACTIVE:
            raise errors.FailedPrecondition(
                f"the TikTok account is {self._account.status} and must be reconnected",
                reason=f"account.{self._account.status}",
            )
        return self._account

    def _fresh_token(self, account: Account, now: datetime) -> str:
        if self._token is None:
            p = self.d.publisher
            self._token = fresh_access_token(p.accounts, p.vault, p.tiktok, account, now=now)
        return self._token

    def _creator_info(self, account: Account, token: str, now: datetime) -> Any:
        # TikTok's answer holds for the whole run, a refusal too: a creator at the daily cap
        # fails each due post with it without asking again (20 creator infos a minute).
        if self._creator_refusal is not None:
            raise self._creator_refusal
        if self._creator is None:
            p = self.d.publisher
            try:
                self._creator = p.tiktok.creator_info(token)
            except errors.AppError as exc:
                self._creator_refusal = exc
                with contextlib.suppress(errors.NotFound):  # disconnected meanwhile
                    mark_if_unusable(p.accounts, account, exc, now)
                raise
        return self._creator

    def _later(self, post: Versioned, exc: errors.AppError, now: datetime) -> str:
        """Transient trouble: leave it due for the next run, unless it is hours late by now."""
        if now - post.doc["schedule_at"] < GIVE_UP_AFTER:
            log.warning(
                "scheduled post not sent yet",
                extra={"post_id": post.post_id, "code": exc.code, "reason": exc.reason},
            )
            return "retry"
        return self._fail(
            post,
            "schedule.missed",
            f"it could not be sent within {int(GIVE_UP_AFTER.total_seconds() // 3600)} hours of "
            f"its time ({exc.reason or exc.code})",
            now,
        )

    def _fail(self, post: Versioned, reason: str, message: str, now: datetime) -> str:
        """A rule no longer holds: FAILED naming it (conditioned, so a cancel or edit since then
        wins and the post is looked at again)."""
        failed = _failed(reason, message, now)
        if self.d.schedules.change(self.uid, post, failed, deferred=self.events) is None:
            return "changed"
        if post.doc.get("media_ids"):
            delete_media(self.d.publisher, self.uid, post.post_id)
        log.info("scheduled post failed", extra={"post_id": post.post_id, "reason": reason})
        return "failed"


def _failed(reason: str, message: str, now: datetime) -> PostChanges:
    return {
        "status": "FAILED",
        "fail_reason": reason,
        "fail_message": message,
        "status_source": "schedule",
        "status_check_at": None,
        "updated_at": now,
    }
