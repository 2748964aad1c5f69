#!/usr/bin/env python3
"""Generate the fault matrix of docs/reliability.md from a test run.

Usage: scripts/reliability.py TEST_LOG [docs/reliability.md]

TEST_LOG is the output of `cargo test --features browser-tests` (what `make reliability`
produces). Every fault below names the tests that hold its outcome; its "held" column is
taken from the run: `yes` only when every one of those tests printed `... ok`, `NO` when
one failed, `not run` when one is missing from the log. The table between the markers
`<!-- faults:begin -->` and `<!-- faults:end -->` is replaced; nothing else is touched.
"""
import re
import sys
from datetime import date

# (fault, outcome held, [test names as `cargo test` prints them, module path included])
FAULTS = [
    ("redirect loop (`ERR_TOO_MANY_REDIRECTS`)", "not observed, kind `navigation-failed`, exit 3, integrity ok",
     ["broken_pages_are_not_observed_never_clean"]),
    ("first page answers HTTP 500", "not observed, kind `http-error`, exit 3",
     ["broken_pages_are_not_observed_never_clean"]),
    ("site unreachable (connection refused)", "every visit not observed, reason names the site, exit 3",
     ["unreachable_site_is_not_observed_and_recorded"]),
    ("DNS miss", "not observed, `navigation-failed` (`ERR_NAME_NOT_RESOLVED`), exit 3",
     ["dns_miss_and_a_page_that_never_loads_are_not_observed"]),
    ("a page that never finishes loading", "not observed, `page-load-timeout`, exit 3, integrity ok",
     ["dns_miss_and_a_page_that_never_loads_are_not_observed"]),
    ("TLS handshake fails", "not observed, `navigation-failed`, exit 3, integrity ok",
     ["a_tls_failure_is_not_observed"]),
    ("port 0 or a port Chromium refuses (`127.0.0.1:1`)", "rejected by validate and audit (exit 2) with a hint",
     ["scenario::load::tests::restricted_ports_are_refused"]),
    ("Chromium killed mid-visit", "that visit not observed (`browser-crashed`, names the page), others recorded",
     ["a_browser_that_dies_mid_scenario_is_reported_and_nothing_is_lost"]),
    ("a renderer crashes mid-visit (the browser survives)", "that visit not observed (`browser-crashed`, names the renderer), others recorded, integrity ok",
     ["a_renderer_crash_is_reported_and_nothing_is_lost"]),
    ("chromedriver killed mid-run", "its visits not observed with a reason, exit 3, integrity ok, nothing left",
     ["a_killed_chromedriver_is_reported_and_nothing_is_left"]),
    ("a CMP script that throws", "visit observed; exception stored and shown as a warning",
     ["a_throwing_cmp_script_is_evidence"]),
    ("consent click then immediate navigation", "no settle waits for cut-off requests; stored as `cancelled`",
     ["requests_cut_off_by_a_navigation_do_not_stall_the_settles",
      "capture_marks_cut_off_requests_cancelled_and_records_documents_and_errors"]),
    ("request flood (400 at once, loopback)", "every request captured; run complete; integrity ok",
     ["a_request_flood_and_huge_cookies_are_captured_and_bounded"]),
    ("150 cookies with 3 KB names; `Max-Age=i64::MAX`", "all recorded; lifetime clamped; report lines bounded",
     ["a_request_flood_and_huge_cookies_are_captured_and_bounded",
      "capture::cookies::tests::lifetimes_are_total_non_negative_and_monotone"]),
    ("SIGINT", "run `interrupted`, report printed, visits + findings kept, nothing left, exit 3",
     ["ctrl_c_keeps_what_was_recorded_and_cleans_up"]),
    ("SIGTERM, SIGHUP", "same as SIGINT",
     ["sigterm_and_sighup_behave_like_ctrl_c"]),
    ("`kill -9` mid-run", "no browser/profile left (watchdog); visits and findings intact; next audit marks it incomplete",
     ["kill_9_leaves_no_browser_and_the_next_audit_marks_the_run"]),
    ("control, newline, bidi characters in page text", "escaped in table, Markdown, stderr; exact in JSON",
     ["report::tests::hostile_page_text_is_escaped_and_clipped_in_every_human_format",
      "text::tests::escapes_controls_and_bidi"]),
    ("backticks in a cookie name (Markdown injection)", "code span fence longer than any backtick run",
     ["report::tests::markdown_code_spans_cannot_be_broken_out_of"]),
    ("100 KB cookie name (output amplification)", "cells clipped (60 / 600 chars); report < 20 KB",
     ["report::tests::hostile_page_text_is_escaped_and_clipped_in_every_human_format"]),
    ("newline or ESC in a scenario-file string", "validate cannot forge a line or drive the terminal",
     ["diag::display_tests::file_strings_cannot_forge_lines_or_drive_the_terminal"]),
    ("`policy = \"/dev/zero\"`, a FIFO, an oversized file", "refused at once (8 MiB limit)",
     ["special_and_oversized_files_are_refused"]),
    ("40 000 `[[scenario]]` / `[[vendor]]` tables", "linear validation, every error reported",
     ["scenario::load::tests::forty_thousand_scenarios_validate", "forty_thousand_vendors"]),
    ("invalid UTF-8", "reported at its real line:col",
     ["not_utf8_is_reported_where_it_is"]),
    ("timeouts out of range, `settle_quiet > settle_timeout`, public-suffix vendor domains",
     "rejected with file:line:col and a hint",
     ["scenario_limits_are_checked", "new_policy_keys_are_checked"]),
    ("illegal declaration (LI for TCF purpose 4)", "audited to completion; map finding with file:line:col",
     ["an_illegal_declaration_is_audited_and_reported"]),
    ("a secret in a URL, a step, a script", "`[secret:NAME]` everywhere; the value in no output and no database byte",
     ["secrets_are_never_written_anywhere"]),
    ("a secret (with space, `!`, `\"`, `\\`) in the site name, page URLs, a cut script, a failing selector, built-ins, autoconsent, a CMP profile; URL-normalised and re-encoded by a tracker",
     "`[secret:NAME]` in every form; no trace in any format of audit/report/drift, stderr with progress, any database byte, any file or file name",
     ["secrets_reach_no_output_in_any_form_through_any_scenario_kind",
      "secrets::tests::a_visit_is_redacted_in_every_field_and_otherwise_unchanged",
      "secrets::tests::every_form_of_a_value_with_space_bang_quote_backslash_is_replaced",
      "secrets::tests::a_value_cut_by_a_clip_is_redacted_to_its_first_characters"]),
    ("`.db` copied without its `-wal`", "complete (checkpoint on close), integrity ok",
     ["closed_database_file_is_complete_on_its_own"]),
    ("two processes opening a new database at once", "both succeed",
     ["concurrent_first_opens_of_a_new_file_both_succeed"]),
    ("two writers on one database", "both write, nothing lost",
     ["two_stores_on_one_file_can_write_concurrently"]),
    ("guessable cookie values", "hashes keyed per database (HMAC-SHA-256), also when one process audits into two databases",
     ["each_database_has_its_own_stable_hash_key", "model::hash::tests::hmac_matches_rfc_4231_case_2",
      "one_process_audits_into_two_databases_each_keyed_by_its_own_key"]),
    ("malformed loader and cookie input (fuzzing)", "no panic; positions inside the file; lifetimes clamped",
     ["scenario_and_policy_loaders_never_panic", "cookie_parsers_never_panic_and_lifetimes_stay_sane"]),
    ("a TC string that panics the library (URL, cookie, `__tcfapi`)",
     "audit completes (not exit 101), run `complete`; each signal stored undecodable with the reason; stderr quiet",
     ["hostile_tc_strings_are_undecodable_signals_and_the_audit_completes",
      "signals::tcf::tests::short_optional_segments_do_not_panic_the_decoder",
      "signals::tcf::tests::hostile_request_parameter_is_a_signal_not_a_panic",
      "signals::tcf::tests::hostile_page_api_answer_cookie_and_events_are_signals_not_a_panic",
      "signals::tcf::tests::hostile_cmp_record_is_unreadable_not_a_panic",
      "signals::tcf::tests::preflight_is_exactly_the_panics_of_lib_tcstring"]),
    ("decoders fuzzed (108,064 inputs: TC strings, gcs/gcd, gpc.json, CMP records)",
     "no panic escapes; every input decoded or undecodable with a reason; lengths bounded",
     ["decoders_never_panic", "signals::contain::tests::a_panic_becomes_an_error_with_its_message",
      "signals::contain::tests::contained_panics_are_quiet_and_others_reach_the_previous_hook"]),
    ("a page calls a fresh iframe's capture binding with invented cookie/storage writes, swaps `JSON.stringify` and `String`",
     "no forged record stored: the hook takes its binding at install, so the page finds none; a call without the per-capture secret would be counted, never recorded; real writes kept, origin from the calling context",
     ["forged_capture_reports_change_no_stored_record",
      "capture::recorder::tests::forged_hook_reports_record_nothing_and_origins_come_from_the_context"]),
    ("a page floods the hook (more than 20,000 cookie/storage reports in one document)",
     "bounded: the rest counted, not recorded, and said in a warning",
     ["capture::recorder::tests::hook_reports_are_bounded_per_document"]),
    ("a page with no CMP forges autoconsent (its message function and binding, in the page and in a fresh iframe; answers `optIn` / `optOut` itself)",
     "autoconsent runs in an isolated world the page cannot reach: both consent scenarios not observed (`cmp-not-detected`), exit 3; a binding call from any other context counted, never used",
     ["forged_autoconsent_performs_no_consent_action",
      "capture::recorder::tests::autoconsent_is_believed_only_from_its_isolated_world"]),
    ("a page replaces the capture hook's binding with a no-op before any write (its own window, a fresh iframe's)",
     "the hook took its binding at install: the page's cookie and storage writes are still recorded",
     ["a_page_that_replaces_the_hook_binding_cannot_silence_it"]),
    ("a tracker fired 600 ms after load by a polling `setInterval`, a string `setTimeout`, a MessageChannel loop or a `requestIdleCallback` loop",
     "the settle after load waits for it: caught before the choice in `no_action`, before the click in `accept_all`; a permanent heartbeat holds a settle 2 s, not until the timeout",
     ["trackers_fired_600ms_after_load_are_caught_before_the_choice",
      "a_permanent_heartbeat_holds_a_settle_for_the_interval_horizon_only",
      "capture::settle::tests::a_page_is_idle_only_when_nothing_is_due_and_intervals_count_within_the_horizon",
      "settle_waits_for_short_timers_and_ends_early_when_nothing_is_pending"]),
    ("a page replaces `setTimeout`/`setInterval` after load (with a fresh iframe's) and fires a tracker through them",
     "the hook reports its wrappers gone; the settle waits the full quiet window, recorded `tampered`; the tracker is caught before the choice",
     ["a_page_that_replaces_the_timers_gets_the_full_quiet_window"]),
    ("`alert()` and `confirm()` while the page loads; an endless `alert()` loop",
     "each dialog dismissed at once (a confirm answers false), counted in a visit warning; beyond 20 in a document the dialog functions throw (the loop's script stops); the visit completes with what came after captured",
     ["javascript_dialogs_are_dismissed_at_once_and_reported",
      "capture::dialogs::tests::dialogs_are_answered_at_once_and_counted"]),
    ("`consentry purge` of 300,000 raw rows while another process writes (busy timeout 250 ms) and an audit records visits",
     "batches of 5,000 rows and 110 ms pauses: the other writer never fails, the visits land in well under the busy timeout",
     ["a_purge_of_many_rows_lets_a_concurrent_writer_in"]),
    ("another process holds the write lock 1.5 s past the 5 s busy timeout",
     "the visit's write is tried again with a doubling pause (up to 5 minutes) and lands once the lock is released",
     ["a_visit_write_outlasts_a_lock_held_past_the_busy_timeout",
      "store::retry::tests::pauses_double_up_to_the_cap_and_stop_with_the_patience"]),
    ("a visit's write fails (simulated disk failure)",
     "audit exit 4 naming the scenario; run stored `incomplete` with the count (`1 of 2 visit(s) could not be written`), never `complete`; `report RUN` exits 3",
     ["a_run_missing_visits_it_could_not_write_is_incomplete_with_the_count"]),
    ("`runs`, `report`, `drift` on an archived database; one with an older schema",
     "opened `mode=ro` (`immutable` where the `-shm` cannot be made): no byte or time of the directory changes; an older schema is refused naming the file and `consentry migrate --db FILE`",
     ["a_read_only_open_never_writes", "a_read_only_open_refuses_to_migrate_and_names_the_command",
      "read_only_commands_never_write_and_name_the_migration"]),
    ("a symlink planted at a report's default path",
     "the report is written to a temporary file and renamed over the link; the link's target is untouched",
     ["a_symlink_at_the_default_report_path_is_replaced_not_followed"]),
    ("stdout is full (`/dev/full`) or a closed pipe",
     "exit 4 with the reason on stderr, never a panic (exit 101)",
     ["stdout_write_errors_are_exit_4_not_a_panic"]),
    ("dates with a signed or five-digit year (`+12345-01-01`, `-0001-01-01`) in `--since`, `--until`, `acks.toml`",
     "refused: exit 2 naming the value (`--since`), file:line:col (`acks.toml`)",
     ["dates_with_signed_or_long_years_are_refused", "ack::tests::years_are_four_unsigned_digits"]),
    ("200 requests with 1.9 MB URLs (`/lab/long-urls`)",
     "each URL stored as its first bytes and `…[clipped: N bytes, hash H]` (8 KiB in all), bounded as its event arrives (signals decoded from the whole URL first); database 1.3 MB instead of 335 MB; consentry's own peak (VmHWM) 0.11-0.34 GB instead of 0.88-1.22 GB; no event the browser sent before the visit ended is dropped; every report shows the mark",
     ["huge_urls_are_stored_clipped_with_length_and_hash",
      "capture::recorder::bound::tests::long_urls_are_bounded_as_they_arrive_after_their_signals_are_decoded",
      "model::clip::tests::every_page_string_of_a_visit_is_bounded",
      "model::clip::tests::a_long_string_keeps_its_start_its_length_and_its_hash",
      "model::clip::tests::the_hash_is_of_the_redacted_whole"]),
    ("a page writes Web Storage without `setItem` (property and bracket assignment, `Object.assign`, another realm's `setItem`), in `sessionStorage`, in same- and cross-site iframes and the tab's next documents while they load, and past the quota (`/lab/storage`)",
     "each write recorded once, from the browser's `DOMStorage` events, with its document's origin, its area, key and value hash; the writes the browser refused (over its 10 MiB quota) not at all",
     ["storage_writes_come_from_the_browser_and_refused_ones_are_none",
      "capture::recorder::tests::storage_writes_are_the_browsers_dom_storage_events"]),
    ("a page and a cross-site iframe write cookies only through the Cookie Store API (`cookieStore.set` / `delete`; an `expires` getter answering differently at each read; another realm's `set`; a write the browser refuses) (`/lab/cookie-store`)",
     "each accepted write recorded as a script cookie write with the lifetime its `expires` asked for (the arguments read once: the browser gets what is recorded), judged like a `document.cookie` write (before consent, retention as requested); the refused write none",
     ["cookie_store_writes_are_cookie_writes_with_their_requested_lifetime",
      "capture::recorder::tests::cookie_store_reports_are_script_writes_with_their_requested_lifetime",
      "capture::cookies::tests::cookie_store_expires_is_a_clamped_lifetime"]),
    ("a page opens WebSockets before any consent: a consent vendor's (frames both ways), one from a dedicated worker, a first-party one (`/lab/websocket`)",
     "each a request of type `WebSocket` from the browser's `Network.webSocket*` events (handshake time and status, frames sent and received counted, never read), attributed by host and judged like any request (`consent-vendor-before-choice`)",
     ["websockets_are_requests_judged_like_any_other",
      "capture::recorder::websocket::tests::websocket_events_make_one_request_with_its_frames_counted"]),
    ("standard error is full (`2>/dev/full`), alone or with stdout",
     "no panic (exit 101): every command keeps the exit code it has with a readable stderr (a full stdout is still exit 4)",
     ["stderr_write_errors_change_no_exit_code_and_never_panic"]),
    ("an alert receiver is down (connection refused) for `--notify`",
     "4 attempts with backoff, then given up: the exit code is the run's without `--notify`, each failed delivery warned about on stderr and stored",
     ["a_new_finding_posts_once_per_target_a_persisting_one_nothing_a_dead_receiver_changes_no_exit_code"]),
    ("an alert receiver answers 503, 429, 500 or 400",
     "5xx and 429 retried with exponential backoff within the bound (attempts, total time); a 4xx not retried; the same body each time, signed anew",
     ["transient_answers_are_retried_within_the_bound_and_a_4xx_is_not"]),
    ("an `https://` alert receiver whose certificate chains to no trusted root",
     "the TLS handshake fails, nothing is sent, the delivery fails with a TLS error",
     ["https_targets_are_verified_against_the_trusted_roots"]),
    ('the PostgreSQL server unreachable at start (`--db postgres://…`)',
     'exit 4 before anything runs, naming host and port, never the password',
     ['an_unreachable_postgres_is_exit_4_naming_the_host_never_the_password']),
    ("PostgreSQL restarted in the middle of a queued fleet, down 15 s (longer than the pool's connection wait and the lease)",
     'the worker waits for it (leases, heartbeats and its completion tried again), says so, and goes on: every visit stored once, the result equal to an audit in one process',
     ['postgres_restarted_mid_fleet_loses_nothing_and_stores_nothing_twice']),
    ('a worker killed with SIGKILL mid-visit (two workers on one PostgreSQL queue, the agency fixture)',
     "its lease runs out and the other worker does the job: every site's status, findings and fingerprints equal the fleet audited in one process on SQLite; every visit stored once",
     ['two_workers_equal_one_process_and_a_killed_worker_changes_nothing', 'an_expired_lease_is_taken_again_and_the_late_completion_writes_nothing']),
    ("a worker's browser killed mid-visit",
     'that visit given back (`the browser failed; tried once more`), done again once by whichever worker leases it, then kept as it ends; the result equal to an audit in one process',
     ['a_browser_killed_mid_visit_is_retried_once_and_the_result_is_unchanged']),
    ('workers racing for jobs (four leasing at once, each with its own connections), on SQLite and on PostgreSQL',
     "no job held by two, no site above its `per_site` bound, every visit stored exactly once, a site's finish queued once when its last two visits complete at once",
     ['racing_workers_never_hold_one_job_twice', 'a_sites_finish_is_queued_once_when_its_last_visits_complete_at_once', 'leases_follow_queue_order_within_each_sites_bound']),
]


def main():
    log_path = sys.argv[1]
    doc_path = sys.argv[2] if len(sys.argv) > 2 else "docs/reliability.md"
    results = {}
    for line in open(log_path, encoding="utf-8", errors="replace"):
        m = re.match(r"^test (\S+) \.\.\. (ok|FAILED|ignored)", line)
        if m:
            results[m.group(1)] = m.group(2)

    def status(test):
        for name, st in results.items():
            if name == test or name.endswith("::" + test):
                return st
        return None

    rows = ["| # | fault | outcome | held | tests |", "|---|---|---|---|---|"]
    held = 0
    for i, (fault, outcome, tests) in enumerate(FAULTS, 1):
        sts = [status(t) for t in tests]
        if all(s == "ok" for s in sts):
            mark = "yes"
            held += 1
        elif any(s == "FAILED" for s in sts):
            mark = "**NO**"
        else:
            mark = "not run"
        names = ", ".join(f"`{t.split('::')[-1]}`" for t in tests)
        rows.append(f"| {i} | {fault} | {outcome} | {mark} | {names} |")
    summary = f"{held} of {len(FAULTS)} faults held in the run of {date.today().isoformat()}."
    table = "\n".join([summary, "", *rows])
    doc = open(doc_path, encoding="utf-8").read()
    begin, end = "<!-- faults:begin -->", "<!-- faults:end -->"
    if begin not in doc or end not in doc:
        sys.exit(f"{doc_path}: markers {begin} / {end} missing")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    open(doc_path, "w", encoding="utf-8").write(f"{head}{begin}\n{table}\n{end}{tail}")
    print(summary)
    return 0 if held == len(FAULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
