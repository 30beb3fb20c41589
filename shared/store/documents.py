"""The shapes of the documents the stores keep, as ``TypedDict``s, so mypy checks every field
name and value type where a post, a draft, a slot or a receipt is written or read.

Each collection has its document type (the fields it holds, ``NotRequired`` where a field exists
only in some states) and, where documents are changed field by field, a ``...Changes`` type with
the same fields, every one optional (what ``update()`` writes; a field may also be Firestore's
``DELETE_FIELD``). ``tests/unit/test_documents.py`` holds the two of each pair to the same fields
and types, and the stored post settings to ``shared/tiktok/settings.py``'s declaration. Typing
only: Firestore hands back plain dicts, and nothing here checks them at run time.

Fields a reader uses ``.get()`` for (rather than ``[]``) may be missing from documents an older
release wrote; what a document holds is what the current code writes.
"""

# No ``from __future__ import annotations``: with it, Python 3.11 cannot tell NotRequired fields
# at run time (``__required_keys__``), which tests/unit/test_documents.py reads.
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

if TYPE_CHECKING:
    from shared.store.outbox import Event


def to_firestore(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A typed document (or its changes) as Firestore's client takes it: a plain dict. What a
    store reads back it casts to the document's type (Firestore checks nothing)."""
    return dict(doc)


# Posts: users/{uid}/posts/{post_id} (shared/store/posts.py) ----------------------------------


class PostSettingsDoc(TypedDict):
    """The user's post settings as the post stores them: one field per setting declared in
    ``shared/tiktok/settings.py`` (``PostSettings``), same name, same type."""

    title: str
    description: str
    privacy_level: str | None
    allow_comment: bool
    allow_duet: bool
    allow_stitch: bool
    brand_content: bool
    brand_organic: bool
    disclose_commercial_content: bool
    is_aigc: bool
    auto_add_music: bool
    cover_timestamp_ms: int | None


class UploadPlanDoc(TypedDict):
    """A file upload's chunk plan (``ChunkPlan.public()``)."""

    video_size: int
    chunk_size: int
    total_chunks: int


class PostDoc(PostSettingsDoc):
    """One publish. The required fields are written when the post is recorded (``new_post_doc``
    and ``publish()``), before TikTok's init; the others once the post reaches a state that has
    them."""

    uid: str
    post_id: str
    open_id: str
    mode: str  # direct | inbox
    media_type: str  # video | photo
    source: str  # FILE_UPLOAD | PULL_FROM_URL (the media's, as TikTok's init takes it)
    media_url: str | None
    photo_urls: list[str]
    media_ids: list[str]  # staged media (shared/store/media.py); never their /media/ URLs
    photo_cover_index: int | None  # photos only
    duration_sec: float | None
    draft_id: str | None  # the draft this post confirmed
    idempotency_id: str | None  # the Idempotency-Key record it answers (shared/store/posts.py)
    publish_id: str | None  # TikTok's, stored the moment init returns
    status: str  # TikTok's names, plus INITIALIZING, UNKNOWN, SCHEDULED, CANCELLED
    fail_reason: str | None
    post_ids: list[str]  # TikTok's ids of the published post (strings: they exceed 2**53)
    upload_plan: UploadPlanDoc | None  # file uploads only, as are the five progress fields
    total_bytes: int | None
    uploaded_bytes: int | None
    downloaded_bytes: int | None
    next_chunk: int | None
    upload_complete: bool | None
    status_check_at: datetime | None  # when the sweep next looks (None: it never does)
    created_at: datetime
    updated_at: datetime
    # Once TikTok's init answered a file upload: its upload URL, sealed (shared/crypto/fields.py).
    upload_url_enc: NotRequired[str]
    upload_expires_at: NotRequired[datetime]
    chunk_claim_until: NotRequired[datetime | None]  # a chunk being relayed holds the upload
    # Once something moved its status: webhook, poll, sweep, upload, user or schedule.
    status_source: NotRequired[str]
    fail_message: NotRequired[str]  # a scheduled post that failed when due: why, in words
    status_checked_at: NotRequired[datetime]  # the last time TikTok was asked
    status_checks: NotRequired[int]  # how often the sweep asked (its backoff)
    withdrawn_post_ids: NotRequired[list[str]]  # TikTok said no longer public
    # Scheduled posts only (shared/store/scheduled.py).
    schedule_at: NotRequired[datetime]
    schedule_tz: NotRequired[str | None]
    scheduled_at: NotRequired[datetime]  # when the user scheduled it
    claimed_at: NotRequired[datetime]  # when the due run took it to send
    cancelled_at: NotRequired[datetime]
    late_by_sec: NotRequired[int]  # initialised more than LATE_AFTER after its time


class PostChanges(TypedDict, total=False):
    """Fields written onto an existing post: any of :class:`PostDoc`'s."""

    title: str
    description: str
    privacy_level: str | None
    allow_comment: bool
    allow_duet: bool
    allow_stitch: bool
    brand_content: bool
    brand_organic: bool
    disclose_commercial_content: bool
    is_aigc: bool
    auto_add_music: bool
    cover_timestamp_ms: int | None
    uid: str
    post_id: str
    open_id: str
    mode: str
    media_type: str
    source: str
    media_url: str | None
    photo_urls: list[str]
    media_ids: list[str]
    photo_cover_index: int | None
    duration_sec: float | None
    draft_id: str | None
    idempotency_id: str | None
    publish_id: str | None
    status: str
    fail_reason: str | None
    post_ids: list[str]
    upload_plan: UploadPlanDoc | None
    total_bytes: int | None
    uploaded_bytes: int | None
    downloaded_bytes: int | None
    next_chunk: int | None
    upload_complete: bool | None
    status_check_at: datetime | None
    created_at: datetime
    updated_at: datetime
    upload_url_enc: str
    upload_expires_at: datetime
    chunk_claim_until: datetime | None
    status_source: str
    fail_message: str
    status_checked_at: datetime
    status_checks: int
    withdrawn_post_ids: list[str]
    schedule_at: datetime
    schedule_tz: str | None
    scheduled_at: datetime
    claimed_at: datetime
    cancelled_at: datetime
    late_by_sec: int


# Drafts: users/{uid}/drafts/{draft_id} (shared/store/posts.py) -------------------------------


class DraftRequest(TypedDict, total=False):
    """A draft's publish request: the fields of ``POST /api/publish``'s body it was given, as
    given (checked by the publish rules when stored, and again when confirmed)."""

    open_id: str
    mode: str
    media: dict[str, Any]  # the body's JSON object, as sent
    post: dict[str, Any]  # likewise
    duration_sec: float


class DraftDoc(TypedDict):
    uid: str
    request: DraftRequest
    created_at: datetime
    expire_at: datetime  # created_at + 30 minutes; every read treats a later draft as gone
    # Once a publish confirmed it (the confirmation's id is removed if that publish failed).
    confirmed_post_id: NotRequired[str]
    confirmed_at: NotRequired[datetime]


# Idempotency keys: idempotency/{sha256(uid, key)} (shared/store/posts.py) --------------------


class IdempotencyDoc(TypedDict):
    uid: str
    request_hash: str  # SHA-256 of the first request's body
    state: Literal["pending", "done"]
    post_id: str | None  # the first request's post, once it has one
    created_at: datetime
    expire_at: datetime


class IdempotencyChanges(TypedDict, total=False):
    state: Literal["pending", "done"]
    post_id: str | None


# Publish-id pointers: publish_ids/{pointer_id(publish_id)} (shared/store/pointers.py) --------


class PointerDoc(TypedDict):
    publish_id: str
    uid: str
    post_id: str
    open_id: str


# Webhook receipts: webhook_events/{sha256(body)} (shared/store/receipts.py) ------------------


class ReceiptFields(TypedDict):
    """What the webhook handler records of a delivery (no content: no post id, no account)."""

    event: str
    create_time: int


class ReceiptDoc(ReceiptFields):
    state: Literal["processing", "done"]
    received_at: datetime
    expire_at: datetime  # 80 hours: TikTok retries for 72
    outcome: NotRequired[str]  # once done: applied, duplicate, ignored, revoked, ...
    done_at: NotRequired[datetime]


class ReceiptChanges(TypedDict, total=False):
    state: Literal["processing", "done"]
    outcome: str
    done_at: datetime


# Poll budgets: users/{uid}/poll_budgets/{open_id}, {open_id}.init (shared/store/budgets.py) -


class BudgetDoc(TypedDict):
    calls: list[float]  # epoch seconds of the calls in the window
    expire_at: datetime


# Staging slots: users/{uid}/media/{media_id} (shared/store/media.py) -------------------------

SlotState = Literal["pending", "ready", "refused", "used"]


class ResizedFrom(TypedDict):
    width: int
    height: int


class SlotDoc(TypedDict):
    """One staged object. The required fields are written when the slot is created; the
    probe's findings when its upload is checked (``ready`` or ``refused``); ``post_id`` while a
    post uses it."""

    id: str
    uid: str
    object: str  # the random object name in the staging bucket
    type: str  # photo | video
    declared_content_type: str
    declared_size: int
    state: SlotState
    created_at: datetime
    expire_at: datetime
    size: NotRequired[int]
    content_type: NotRequired[str | None]  # None: not a type the probe knows
    width: NotRequired[int | None]
    height: NotRequired[int | None]
    duration_sec: NotRequired[float | None]
    generation: NotRequired[int]  # the object's generation that was checked
    completed_at: NotRequired[datetime]
    converted_from: NotRequired[str]  # a PNG or HEIC photo rewritten as JPEG
    resized_from: NotRequired[ResizedFrom]
    refusal: NotRequired[dict[str, Any]]  # reason, message and the error's details
    post_id: NotRequired[str]
    used_at: NotRequired[datetime]


class SlotChanges(TypedDict, total=False):
    """Fields written onto an existing slot: any of :class:`SlotDoc`'s."""

    id: str
    uid: str
    object: str
    type: str
    declared_content_type: str
    declared_size: int
    state: SlotState
    created_at: datetime
    expire_at: datetime
    size: int
    content_type: str | None
    width: int | None
    height: int | None
    duration_sec: float | None
    generation: int
    completed_at: datetime
    converted_from: str
    resized_from: ResizedFrom
    refusal: dict[str, Any]
    post_id: str
    used_at: datetime


# OAuth states: oauth_states/{sha256(state)} (shared/store/oauth_states.py) -------------------


class OAuthStateDoc(TypedDict):
    uid: str
    return_to: str  # the same-origin path to return to
    created_at: datetime
    expire_at: datetime  # 10 minutes


# Sessions: users/{uid}/sessions/{sid} (shared/store/sessions.py) -----------------------------


class SessionDoc(TypedDict):
    created_at: datetime
    expire_at: datetime  # the cookie's own expiry


# Leases: leases/{key} (shared/store/leases.py) -----------------------------------------------


class LeaseDoc(TypedDict):
    holder: str
    subject: str  # what it guards, for people reading the collection
    acquired_at: datetime
    expire_at: datetime


# The event outbox: event_outbox/{event_id} (shared/store/outbox.py) --------------------------


class OutboxEntry(TypedDict):
    event: "Event"  # the message body (docs/events.md)
    uid: str
    state: Literal["pending", "sent"]
    claim_until: datetime  # no drain touches it before then
    purge_with_user: bool  # false only for the events announcing the deletion itself
    created_at: datetime
    expire_at: datetime
    sent_at: NotRequired[datetime]  # once published (an entry with purge_with_user)
    message_id: NotRequired[str]


class OutboxChanges(TypedDict, total=False):
    state: Literal["pending", "sent"]
    claim_until: datetime
    sent_at: datetime
    message_id: str
