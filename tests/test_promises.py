"""The index from each privacy promise (docs/promises.md) to the tests proving it.

``test_index_points_at_real_tests`` fails when an entry names a test that does not exist, so the
index cannot silently rot; ``test_every_promise_has_tests`` fails when a promise is neither proven
nor declared not yet built; ``test_docs_list_the_same_tests`` fails when docs/promises.md and this
index disagree, so the page a reader sees is the index the suite checks.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "promises.md"
ALL = {f"P{n}" for n in range(1, 21)}

# Promises whose feature does not exist yet: no test can prove them, and docs/promises.md says
# "Not yet built." for each. A promise leaves this set when its tests enter PROMISES.
NOT_YET_BUILT: dict[str, str] = {}

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
    "P3": [
        "tests.e2e.test_connect_http::test_no_token_plaintext_is_stored",
        "tests.unit.test_vault::test_a_moved_or_altered_value_does_not_decrypt",
        "tests.unit.test_vault::test_rotation_keeps_old_values_readable_and_rewrap_moves_them",
        "tests.unit.test_vault::test_kms_refusing_or_gone_is_unavailable",
        "tests.integration.test_connect::test_kms_outage_during_callback_stores_nothing",
    ],
    "P4": [
        "tests.integration.test_rules::test_signed_in_client_can_neither_read_nor_write",
        "tests.integration.test_rules::test_unauthenticated_client_is_refused_too",
        "tests.e2e.test_connect_http::test_users_cannot_see_or_touch_each_others_accounts",
        "tests.e2e.test_connect_http::test_another_users_state_is_refused_and_not_burnt",
        "tests.e2e.test_publish_http::test_users_cannot_publish_through_or_touch_each_others_posts",
        "tests.e2e.test_status_http::test_users_cannot_poll_or_list_each_others_posts",
        "tests.e2e.test_videos_http::test_users_cannot_list_or_query_each_others_videos",
        "tests.e2e.test_upload_lifecycle_http::test_delete_answers_409_for_a_post_that_is_not_an_unfinished_upload",
        "tests.e2e.test_history_http::test_history_filters_by_status_and_account",
    ],
    "P5": [
        "tests.integration.test_refresh::test_rotation_stores_the_new_refresh_token_and_the_old_one_is_dead",
        "tests.integration.test_refresh::test_twenty_concurrent_requests_make_one_tiktok_call_and_share_the_token",
        "tests.integration.test_refresh::test_a_killed_lease_holder_is_taken_over",
        "tests.integration.test_refresh::test_invalid_grant_marks_needs_reconnect_once_and_is_never_retried",
        "tests.integration.test_refresh::test_a_429_storm_backs_off_and_leaves_the_tokens",
        "tests.integration.test_refresh::test_redelivered_run_and_batch_messages_refresh_nothing_twice",
        "tests.e2e.test_refresh_pubsub::test_the_local_trigger_runs_the_scheduled_refresh_through_pubsub",
        "tests.e2e.test_refresh_pubsub::test_fan_out_through_pubsub_refreshes_every_due_account_exactly_once",
        "tests.integration.test_refresh_fencing::test_kms_refusing_before_a_refresh_stops_it_before_tiktok_rotates",
        "tests.integration.test_refresh_fencing::test_kms_refusing_during_a_refresh_still_stores_the_rotated_token",
        "tests.integration.test_refresh_fencing::test_a_lease_taken_over_mid_call_ends_with_the_valid_tokens_and_an_active_account",
        "tests.integration.test_refresh_fencing::test_a_rewrap_mid_refresh_does_not_make_the_refresh_drop_its_rotated_token",
    ],
    "P6": [
        "tests.e2e.test_connect_http::test_connect_list_creator_info_disconnect",
        "tests.e2e.test_connect_http::test_scopes_the_user_did_not_grant_are_not_read",
        "tests.e2e.test_connect_http::test_disconnect_deletes_even_when_tiktok_revoke_fails",
    ],
    "P8": [
        "tests.e2e.test_publish_http::test_an_expired_draft_can_neither_be_read_nor_confirmed",
        "tests.e2e.test_publish_http::test_a_draft_is_confirmed_once",
    ],
    "P9": [
        "tests.e2e.test_publish_http::test_a_30_mb_video_is_relayed_in_chunks_and_posted",
        "tests.e2e.test_relay_streaming::test_the_relay_reads_and_forwards_small_pieces_only",
    ],
    "P10": [
        "tests.e2e.test_publish_http::test_each_publish_rule_refuses_before_tiktok_is_called",
        "tests.e2e.test_publish_http::test_a_creator_who_cannot_post_now_is_refused",
        "tests.unit.test_publish_rules::test_missing_privacy_level_is_refused_no_default_ever",
        "tests.unit.test_publish_rules::test_privacy_level_not_offered_is_refused",
        "tests.unit.test_publish_rules::test_interaction_the_creator_disabled_is_refused",
        "tests.unit.test_publish_rules::test_video_longer_than_the_creator_may_post_is_refused",
        "tests.unit.test_publish_rules::test_branded_content_cannot_be_private",
    ],
    "P7": [
        "tests.e2e.test_status_http::test_history_lists_posts_newest_first_with_cursor_paging",
        "tests.e2e.test_status_http::test_a_post_completes_by_webhook_alone",
        "tests.e2e.test_history_http::test_history_filters_by_status_and_account",
    ],
    "P11": [
        "tests.e2e.test_status_http::test_a_post_completes_by_webhook_alone",
        "tests.e2e.test_status_http::test_a_post_completes_by_polling_alone_and_is_not_polled_once_final",
        "tests.e2e.test_status_http::test_the_sweep_completes_a_post_whose_webhooks_were_dropped_and_gives_up_after_a_bound",
        "tests.e2e.test_status_http::test_duplicated_and_reordered_deliveries_leave_the_same_final_state",
        "tests.e2e.test_status_http::test_a_failure_keeps_tiktoks_reason",
        "tests.e2e.test_status_http::test_bad_signatures_stale_timestamps_and_malformed_bodies_are_refused",
        "tests.unit.test_webhooks::test_status_never_moves_backwards_and_terminal_stays",
    ],
    "P12": [
        "tests.e2e.test_videos_http::test_public_videos_newest_first_with_cursor_paging_and_query",
        "tests.e2e.test_videos_http::test_an_account_without_video_list_scope_gets_a_clear_error",
    ],
    "P13": [
        "tests.e2e.test_status_http::test_authorization_removed_revokes_every_connection_and_deletes_the_tokens",
        "tests.integration.test_refresh_fencing::test_a_webhook_revoking_the_account_mid_refresh_keeps_it_revoked_without_tokens",
        "tests.integration.test_refresh_fencing::test_the_user_removing_the_app_mid_refresh_leaves_it_revoked_not_needs_reconnect",
        "tests.e2e.test_revoked_account_http::test_disconnecting_an_account_tiktok_revoked_says_no_revoke_was_needed",
    ],
    "P14": [
        "tests.e2e.test_data_rights_http::test_json_export_holds_every_stored_field_but_no_secret",
        "tests.e2e.test_data_rights_http::test_csv_export_is_a_zip_of_one_csv_per_collection",
        "tests.e2e.test_data_rights_http::test_export_of_ten_thousand_posts_is_streamed",
        "tests.e2e.test_data_rights_http::test_deletion_leaves_nothing_of_the_user_anywhere",
        "tests.e2e.test_data_rights_http::test_a_deletion_that_fails_half_way_completes_when_repeated",
        "tests.e2e.test_data_rights_http::test_deleting_ten_thousand_posts_returns_within_budget_and_the_job_finishes",
        "tests.e2e.test_deletion_races_http::test_deletion_during_two_publishes_leaves_nothing_and_cancels_what_tiktok_received",
        "tests.e2e.test_deletion_races_http::test_a_chunk_finishing_during_account_deletion_answers_404_and_leaves_nothing",
        "tests.integration.test_signin::test_a_sign_in_during_deletion_does_not_bring_the_user_back",
    ],
    "P15": [
        "tests.e2e.test_logs_hold_no_secrets::test_no_secret_the_run_used_appears_in_any_log_line",
        "tests.unit.test_logs::test_credential_shapes_are_redacted",
        "tests.unit.test_logs::test_registered_secrets_are_redacted_anywhere",
    ],
    "P16": [
        "tests.unit.test_tiktok_client::test_plain_http_api_base_is_refused",
        "tests.unit.test_config::test_plain_http_tiktok_base_only_for_loopback_in_demo_project",
    ],
    "P17": [
        "tests.unit.test_media_rules::test_media_tokens_bind_user_post_media_and_expiry_and_rotate",
        "tests.e2e.test_media_http::test_a_three_photo_post_from_files_completes_with_exactly_those_bytes",
        "tests.e2e.test_media_http::test_every_bad_token_gets_the_same_404",
        "tests.e2e.test_media_http::test_account_deletion_deletes_staged_objects",
        "tests.e2e.test_media_http::test_disconnect_deletes_the_staged_objects",
        "tests.e2e.test_media_http::test_the_export_lists_staged_media_and_never_a_url",
        "tests.integration.test_media_store::test_an_expired_token_and_a_final_post_open_nothing",
    ],
    "P18": [
        "tests.e2e.test_session_http::test_a_signed_out_cookie_gets_401_on_every_route_and_creates_nothing",
        "tests.e2e.test_session_http::test_a_deleted_accounts_cookie_gets_401_everywhere_and_connects_nothing",
        "tests.e2e.test_session_http::test_sign_out_everywhere_ends_the_other_browsers_sessions",
        "tests.e2e.test_data_rights_http::test_deletion_leaves_nothing_of_the_user_anywhere",
        "tests.integration.test_session_records::test_a_signed_out_cookie_is_401_at_once",
        "tests.integration.test_session_records::test_sign_out_everywhere_ends_every_session_of_the_user_only",
        "tests.integration.test_session_records::test_an_expired_record_is_401_even_if_the_cookie_is_not",
    ],
    "P19": [
        "tests.integration.test_analytics::test_a_snapshot_holds_the_stats_and_the_recent_videos_with_string_ids",
        "tests.integration.test_analytics::test_turning_analytics_off_deletes_the_snapshots_and_stops_new_ones",
        "tests.integration.test_analytics::test_a_snapshot_stored_after_a_disconnect_deletes_itself",
        "tests.e2e.test_analytics_http::test_disconnect_leaves_no_snapshot",
        "tests.e2e.test_analytics_http::test_the_export_holds_the_snapshots_with_string_ids_and_deletion_leaves_none",
        "tests.e2e.test_analytics_http::test_turning_collection_off_deletes_the_snapshots_and_is_shown",
        "tests.e2e.test_analytics_http::test_another_user_can_neither_read_nor_change_the_analytics",
        "tests.e2e.test_post_metrics_http::test_history_shows_a_published_posts_video_id_and_current_metrics",
        "tests.browser.test_analytics::test_turning_analytics_off_asks_deletes_the_snapshots_and_on_again",
    ],
    "P20": [
        "tests.e2e.test_schedule_due::test_a_scheduled_post_is_sent_once_at_its_time_with_the_confirmed_settings",
        "tests.e2e.test_schedule_due::test_twenty_concurrent_runs_of_one_minute_send_each_post_once",
        "tests.e2e.test_schedule_due::test_eight_posts_of_one_account_due_in_one_minute_go_six_then_two_in_order",
        "tests.e2e.test_schedule_due::test_killed_after_the_checks_before_the_claim_it_is_sent_by_the_next_run",
        "tests.e2e.test_schedule_due::test_killed_after_the_claim_it_is_never_sent_again_and_settles_unknown",
        "tests.e2e.test_schedule_due::test_a_cancel_during_the_checks_wins_and_the_post_never_reaches_tiktok",
        "tests.e2e.test_schedule_due::test_cancel_racing_the_claim_exactly_one_wins",
        "tests.e2e.test_schedule_due::test_an_edit_during_the_checks_is_what_is_sent",
        "tests.e2e.test_schedule_due::test_a_rule_that_no_longer_holds_when_due_fails_the_post_naming_it",
        "tests.e2e.test_schedule_due::test_tiktoks_daily_cap_at_init_fails_the_post_and_is_not_retried",
        "tests.e2e.test_schedule_due::test_a_revoked_or_reconnect_account_fails_its_posts_naming_it",
        "tests.e2e.test_schedule_due::test_a_post_left_scheduled_for_an_account_that_is_gone_fails_naming_it",
        "tests.e2e.test_schedule_due::test_a_creator_at_tiktoks_daily_cap_fails_the_post_naming_it_before_any_init",
        "tests.e2e.test_schedule_due::test_posts_made_now_spend_the_same_init_minute_the_due_run_counts",
        "tests.e2e.test_schedule_disconnect::test_disconnecting_cancels_the_accounts_scheduled_posts_and_none_ever_reaches_tiktok",
        "tests.e2e.test_schedule_disconnect::test_deleting_the_user_leaves_no_scheduled_post_to_reach_tiktok_and_announces_only_that",
        "tests.e2e.test_schedule_http::test_cancel_makes_it_cancelled_deletes_its_staged_media_and_stays_cancelled",
        "tests.e2e.test_schedule_http::test_a_scheduled_post_breaking_a_creator_rule_is_refused_now",
        "tests.unit.test_schedule::test_spring_forward_a_wall_time_that_does_not_exist_is_caught",
    ],
}


def test_index_points_at_real_tests() -> None:
    for promise, tests in PROMISES.items():
        assert tests, promise
        for node in tests:
            module_name, _, function = node.partition("::")
            module = importlib.import_module(module_name)
            assert callable(getattr(module, function, None)), f"{promise}: {node} does not exist"


def test_every_promise_has_tests() -> None:
    assert not set(PROMISES) & set(NOT_YET_BUILT), "a promise is both proven and not yet built"
    assert set(PROMISES) | set(NOT_YET_BUILT) == ALL


def _documented() -> dict[str, list[str] | None]:
    """Each ``## Pn.`` section of docs/promises.md: its listed tests, or None if not yet built."""
    sections: dict[str, list[str] | None] = {}
    current = ""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## (P\d+)\. ", line)
        if heading:
            current = heading.group(1)
            assert current not in sections, f"docs/promises.md: {current} appears twice"
            sections[current] = []
        elif current and line.strip() == "Not yet built.":
            sections[current] = None
        elif current and (test := re.fullmatch(r"- `(tests\.[\w.]+::\w+)`", line.strip())):
            listed = sections[current]
            assert listed is not None, f"docs/promises.md: {current} is not built yet lists a test"
            listed.append(test.group(1))
    return sections


def test_docs_list_the_same_tests() -> None:
    documented = _documented()
    assert set(documented) == ALL, "docs/promises.md must have a section for each of P1..P20"
    for promise in sorted(ALL, key=lambda p: int(p[1:])):
        expected, listed = PROMISES.get(promise), documented[promise]
        if expected is None or listed is None:
            assert listed is expected, f"docs/promises.md {promise}: built or not, it disagrees"
            continue
        missing = [t for t in expected if t not in listed]
        extra = [t for t in listed if t not in expected]
        assert listed == expected, (
            f"docs/promises.md {promise} disagrees with PROMISES: missing {missing}, extra {extra}"
            " (same tests in the same order)"
        )
