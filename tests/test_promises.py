"""The index from each privacy promise (shared reference promises.md) to the tests proving it.

``test_index_points_at_real_tests`` fails when an entry names a test that does not exist, so the
index cannot silently rot. Promises whose feature is not built yet are listed in ``PENDING`` with
the issue that delivers them; ``test_every_promise_is_indexed_or_pending`` keeps the two honest.
"""

from __future__ import annotations

import importlib

PROMISES: dict[str, list[str]] = {
    "P1": [
        "tests.integration.test_signin::test_user_document_holds_profile_and_times_and_nothing_secret",
        "tests.integration.test_signin::test_second_sign_in_keeps_creation_time_and_updates_profile",
        "tests.integration.test_signin::test_expired_id_token_is_refused",
        "tests.integration.test_signin::test_revoked_id_token_is_refused",
        "tests.integration.test_signin::test_id_token_for_another_project_is_refused",
    ],
    "P2": [
        "tests.e2e.test_session_http::test_sign_in_sets_an_httponly_lax_cookie_and_returns_the_user",
        "tests.e2e.test_session_http::test_tampered_cookie_is_401",
        "tests.unit.test_sessions::test_token_holds_the_user_claims_and_kid",
        "tests.unit.test_sessions::test_tampered_payload_is_refused",
        "tests.unit.test_sessions::test_alg_none_is_refused",
        "tests.unit.test_sessions::test_expired_token_is_refused",
        "tests.unit.test_sessions::test_wrong_key_with_known_kid_is_refused",
        "tests.unit.test_sessions::test_rotation_old_kid_verifies_until_removed",
        "tests.unit.test_session_cookie::test_cookie_is_secure_when_the_app_origin_is_https",
    ],
    "P4": [
        "tests.integration.test_rules::test_signed_in_client_can_neither_read_nor_write",
        "tests.integration.test_rules::test_unauthenticated_client_is_refused_too",
    ],
}

# Promise -> the issue whose work proves it (or the part of it still open).
PENDING: dict[str, str] = {
    "P3": "issue 3 (token vault)",
    "P4": "issues 3, 5, 6: user A cannot use user B's accounts or posts",
    "P5": "issue 4 (token refresh)",
    "P6": "issue 3 (connect and disconnect)",
    "P7": "issue 6 (post history)",
    "P8": "issue 5 (drafts)",
    "P9": "issue 5 (chunk relay)",
    "P10": "issue 5 (publish rules)",
    "P11": "issue 6 (status)",
    "P12": "issue 6 (video list)",
    "P13": "issue 6 (authorization.removed)",
    "P14": "issue 7 (export and deletion)",
    "P15": "issue 7 (log scan over the e2e run)",
    "P16": "issue 3 (TikTok client refuses plain http)",
}


def test_index_points_at_real_tests() -> None:
    for promise, tests in PROMISES.items():
        assert tests, promise
        for node in tests:
            module_name, _, function = node.partition("::")
            module = importlib.import_module(module_name)
            assert callable(getattr(module, function, None)), f"{promise}: {node} does not exist"


def test_every_promise_is_indexed_or_pending() -> None:
    every = {f"P{n}" for n in range(1, 17)}
    assert set(PROMISES) | set(PENDING) == every
