"""The statements of the policy: each one in words, with the promises or tests that prove it."""

from __future__ import annotations

from dataclasses import dataclass, field

from deploy.policy.facts import SCOPE_USES, Facts, Operator, duration


@dataclass(frozen=True)
class Statement:
    """One claim. ``proof`` names promises (``P3``) or tests (``tests.unit.test_x::test_y``)."""

    text: str
    proof: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    proof: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    title: str
    items: tuple[Statement | Table, ...] = field(default_factory=tuple)
    intro: str = ""  # plain text that claims nothing (who we are, how to reach us)


TTL_TEST = "tests.unit.test_deploy_ttl::test_every_expire_at_writer_has_a_ttl_policy"


def sections(facts: Facts, operator: Operator) -> tuple[Section, ...]:
    secure = facts.app_origin.startswith("https://")
    logs = (
        f"Technical logs are kept for {facts.log_retention_days} days, then deleted."
        if facts.log_retention_days
        else "Technical logs are kept for the logging service's default retention, then deleted."
    )
    return (
        Section(
            "Who we are",
            intro=f"{operator.company} ({operator.postal_address}) runs this service at "
            f"{facts.app_origin}. Questions about your data: {operator.contact_email}. "
            f"This part of our privacy policy is generated from the service's own "
            f"configuration; it is effective from {operator.effective_date}.",
        ),
        Section(
            "Signing in",
            (
                Statement(
                    "You sign in with your Google account through Firebase Authentication. We "
                    "never see or store a password. We keep your Google user id, e-mail "
                    "address, name and profile picture address.",
                    ("P1",),
                ),
                Statement(
                    "Your session is a token signed with HMAC-SHA256, held in a cookie your "
                    "browser's scripts cannot read (HttpOnly)"
                    + (", sent only over HTTPS (Secure)" if secure else "")
                    + f". It lasts at most {duration(facts.session_ttl)}.",
                    ("P2",),
                ),
                Statement(
                    "Signing out ends the session at once, on this device or on every device; "
                    "deleting your account ends all of your sessions, and none of them can do "
                    "anything afterwards.",
                    ("P18",),
                ),
            ),
        ),
        Section(
            "The TikTok permissions we ask for",
            (
                Table(
                    ("permission", "what we use it for"),
                    tuple((scope, SCOPE_USES[scope]) for scope in facts.scopes),
                    ("P6", "P10", "P12"),
                ),
                Statement(
                    "We read only what the permissions you granted allow; a permission you "
                    "declined on TikTok's consent page is never used.",
                    (
                        "tests.e2e.test_connect_http::test_scopes_the_user_did_not_grant_are_not_read",
                    ),
                ),
            ),
        ),
        Section(
            "How your TikTok connection is protected",
            (
                Statement(
                    "Your TikTok access and refresh tokens are encrypted with AES-256-GCM before "
                    "they are stored. The encryption keys are themselves encrypted by a key in "
                    f"Google Cloud Key Management Service ({facts.kms_location}), which is "
                    f"rotated every {duration(facts.kms_rotation)}; without that service the "
                    "stored tokens cannot be read.",
                    ("P3",),
                ),
                Statement(
                    "Access tokens are refreshed automatically before they expire; when TikTok "
                    "issues a new refresh token, it replaces the old one, which is discarded.",
                    ("P5",),
                ),
                Statement(
                    "Only you can use or see your TikTok connection and your posts: every "
                    "request is checked against your session, and browsers cannot query our "
                    "database directly.",
                    ("P4",),
                ),
                Statement("Everything we exchange with TikTok travels over TLS.", ("P16",)),
            ),
        ),
        Section(
            "What we store, where, and for how long",
            (
                Statement(
                    f"Everything is stored in Google Cloud Firestore ({facts.firestore_location}).",
                    ("P4",),
                ),
                Statement(
                    "For each connected TikTok account: its open id, union id, display name, "
                    "username, avatar, bio, verified badge and counts, for display, until you "
                    "disconnect it or delete your account.",
                    ("P6",),
                ),
                Statement(
                    "For each post: its title, caption, privacy and interaction settings, "
                    "status, TikTok's publish id and times, as your post history, until you "
                    "delete your account.",
                    ("P7",),
                ),
                Statement(
                    "A publish request prepared for you but not confirmed expires after "
                    f"{facts.kept('drafts')}.",
                    ("P8",),
                ),
                Table(
                    ("short-lived record", "kept for"),
                    tuple((r.what, r.kept) for r in facts.retention),
                    (TTL_TEST,),
                ),
                Statement(
                    "Expired short-lived records are refused as soon as they expire and deleted "
                    "by a Firestore time-to-live policy, usually within a day after that.",
                    (TTL_TEST, "P8"),
                ),
            ),
        ),
        Section(
            "What we send to TikTok, and when",
            (
                Statement(
                    "Nothing is sent to TikTok until you press Post on the confirmation page, "
                    "which shows your TikTok nickname and lets you choose the privacy level and "
                    "whether comments, duets and stitches are allowed; we refuse settings your "
                    "TikTok account does not offer.",
                    ("P10",),
                ),
                Statement(
                    "A video you upload from your device passes through our servers to TikTok "
                    "in pieces, in memory only; we never store its content.",
                    ("P9",),
                ),
                Statement(
                    "We follow each post until TikTok has finished it and show you whether it "
                    "was published or why it failed.",
                    ("P11",),
                ),
                Statement(
                    "A post you schedule is sent to TikTok once, at the time you chose, with the "
                    "settings you confirmed, after checking them again against your TikTok "
                    "account then; if one no longer holds, the post fails and we show you why. "
                    "Until its time you can change or cancel it; a cancelled post never reaches "
                    "TikTok, and photos or a video staged for it are deleted.",
                    ("P20",),
                ),
                Statement(
                    "Once a day, and right after you connect an account, we record its follower, "
                    "following, likes and video counts and your recent videos' views, likes, "
                    "comments and shares, only to show you your analytics. Each day's record is "
                    f"deleted after {facts.kept('analytics')}, when you disconnect the account "
                    "and when you delete your account; it is in your download.",
                    ("P19",),
                ),
            ),
        ),
        Section(
            "Your choices",
            (
                Statement(
                    "You can disconnect a TikTok account at any time: we tell TikTok to revoke "
                    "our access and delete its tokens and profile. If you remove our app in "
                    "TikTok's settings instead, we delete its tokens when TikTok tells us.",
                    ("P6", "P13"),
                ),
                Statement(
                    "You can turn analytics off for any connected account: we delete its "
                    "recorded days and record no new ones until you turn it back on.",
                    (
                        "tests.e2e.test_analytics_http::"
                        "test_turning_collection_off_deletes_the_snapshots_and_is_shown",
                    ),
                ),
                Statement(
                    "You can download everything we store about you, as JSON or as CSV files, "
                    "except the encrypted tokens.",
                    ("P14",),
                ),
                Statement(
                    "You can delete your account: we revoke every TikTok connection and delete "
                    "all of your data from every collection.",
                    ("P14",),
                ),
            ),
        ),
        Section(
            "Technical logs",
            (
                Statement(
                    "Our technical logs never contain a token, authorization code, secret, "
                    f"cookie or upload address. {logs}",
                    ("P15",),
                ),
            ),
        ),
        Section(
            "Governing law",
            intro=f"This policy is governed by {operator.governing_law}.",
        ),
    )
