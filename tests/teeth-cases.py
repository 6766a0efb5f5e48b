#!/usr/bin/env python3
"""teeth-cases.py — show that each case of the referential, invalid_commits, handles and
contention categories has teeth: for each, plant one small mutation (in providers/sqlite/, in
the shared validation of lib/provider.c, or in the sqlite-file factory), rebuild
duro-conformance, run that one case on its provider, expect it to FAIL, and restore the
file. Run from a configured build tree (the source tree, as `make` builds in place):

    python3 tests/teeth-cases.py              # every mutation (about 30 s)
    python3 tests/teeth-cases.py CASE ...     # only the mutations of these cases

Exit 0 when every mutation was killed. It edits sources in place and restores each file in
a `finally`; do not run it while editing them. Not part of make check: docs/conformance.md
("Teeth of the referential, invalid_commits, handles and contention cases") records the
result."""
import subprocess, sys, time
M = [
 # (case, provider, file, old, new, count(0=all))
 ("orphans_wait_for_delayed_start","sqlite","providers/sqlite/orch.c",
  '"   AND s.kind = ?2 AND s.visible_at <= ?1))"','"   AND s.kind = ?2))"',1),
 ("orphan_and_delayed_start_depths","sqlite","providers/sqlite/manage.c",
  'FROM orch_queue WHERE visible_at > ?1"','FROM orch_queue WHERE visible_at >= ?1"',1),
 ("orphan_child_keeps_parent_link","sqlite","providers/sqlite/manage.c",
  'WHERE parent_instance = ?1 ORDER BY','WHERE parent_instance = ?1 AND EXISTS (SELECT 1 FROM instances p WHERE p.instance_id = ?1) ORDER BY',1),
 ("orphan_child_is_root_for_delete","sqlite","providers/sqlite/manage.c",
  '" EXISTS (SELECT 1 FROM instances p WHERE p.instance_id = i.parent_instance)"','" i.parent_instance IS NOT NULL"',1),
 ("orphan_child_bulk_delete_by_id","sqlite","providers/sqlite/manage.c",
  '" AND ?2 > 0";','" AND ?2 > 0 AND i.parent_instance IS NULL";',1),
 ("orphan_child_bulk_delete_by_filter_and_time","sqlite","providers/sqlite/manage.c",
  '" ORDER BY i.created_at, i.rowid LIMIT ?2";','" AND i.parent_instance IS NULL ORDER BY i.created_at, i.rowid LIMIT ?2";',1),
 ("continued_as_new_skipped_by_every_bulk_path","sqlite","providers/sqlite/manage.c",
  'e.state IN (2, 3)','e.state IN (2, 3, 4)',0),
 ("continued_as_new_then_completed_on_every_bulk_path","sqlite","providers/sqlite/manage.c",
  '''    "SELECT i.instance_id FROM instances i JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"
    " WHERE e.state IN (2, 3)" /* DURO_STATE_COMPLETED, DURO_STATE_FAILED */''',
  '''    "SELECT i.instance_id FROM instances i JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = 1"
    " WHERE e.state IN (2, 3, 4)"''',1),
 ("history_reads_by_execution","sqlite","providers/sqlite/read.c",
  'execution_id = rc >= 0 ? (uint64_t)current : 0;','execution_id = rc >= 0 && current != 0 ? 1 : 0;',1),
 ("execution_info_by_execution","sqlite","providers/sqlite/manage.c",
  '(CASE WHEN ?2 = 0 THEN (SELECT current_execution FROM instances WHERE instance_id = ?1)',
  '(CASE WHEN ?2 = 0 THEN 1',1),
 ("reads_of_pruned_execution","sqlite","providers/sqlite/manage.c",
  'rc = duro__sq_exec(c, SQL_DEL_EXECUTION, err, "ti", instance, ids[i]);','rc = 1;',1),
 ("malformed_commits_rejected_with_nothing_applied","sqlite","providers/sqlite/orch.c",
  'cm->events[0].event_id <= (uint64_t)last)','cm->events[0].event_id < 1)',1),
 ("malformed_commits_rejected_with_nothing_applied","sqlite","providers/sqlite/orch.c",
  'if (*exists ? found != 1 : cm->execution_id != 1)','if (0)',1),
 ("malformed_commits_rejected_with_nothing_applied","sqlite","lib/provider.c",
  'if (i > 0 && id <= cm->events[i - 1].event_id)','if (i > 0 && id == cm->events[i - 1].event_id)',1),
 ("malformed_commits_rejected_with_nothing_applied","sqlite","lib/provider.c",
  'rc = check_id_size(cm->orch_name, "ack_orch: orch_name", err);','rc = 0;',1),
 ("unknown_cancel_refs_are_ignored","sqlite","providers/sqlite/orch.c",
  'WHERE instance_id = ?1 AND execution_id = ?2 AND activity_id = ?3";','WHERE instance_id = ?1 AND activity_id = ?3 AND ?2 = ?2";',1),
 ("ids_at_the_limit_accepted","sqlite","lib/provider.c",
  'if (n > DURO_MAX_ID_BYTES)','if (n >= DURO_MAX_ID_BYTES)',1),
 ("enqueue_id_over_limit_rejected","sqlite","lib/provider.c",
  'return rc != 0 ? rc : check_id_size(msg->instance, "message instance id", err);','return rc;',1),
 ("long_poll_fetch_orch_woken_across_handles","sqlite-file","providers/sqlite/notify.c",
  '#define RECHECK_MS 50','#define RECHECK_MS 2000',1),
 ("long_poll_fetch_work_woken_across_handles","sqlite-file","providers/sqlite/notify.c",
  '#define RECHECK_MS 50','#define RECHECK_MS 2000',1),
 ("orch_lock_and_token_shared_across_handles","sqlite-file","providers/sqlite/orch.c",
  '"UPDATE instance_locks SET locked_until = ?2 WHERE lock_token = ?1 AND locked_until > ?3"',
  '"UPDATE instance_locks SET locked_until = MAX(locked_until, ?2 - ?2) WHERE lock_token = ?1 AND locked_until > ?3"',1),
 ("orch_lock_expiry_agrees_across_handles","sqlite-file","providers/sqlite/orch.c",
  '"  WHERE l.instance_id = q.instance_id AND l.locked_until > ?1)"','"  WHERE l.instance_id = q.instance_id AND l.locked_until >= ?1)"',1),
 ("work_lock_and_token_shared_across_handles","sqlite-file","providers/sqlite/work.c",
  '"UPDATE work_queue SET locked_until = ?2 WHERE lock_token = ?1 AND locked_until > ?3"',
  '"UPDATE work_queue SET locked_until = MAX(locked_until, ?2 - ?2) WHERE lock_token = ?1 AND locked_until > ?3"',1),
 ("reads_and_counts_agree_across_handles","sqlite-file","providertest/sqlite-factory.c",
  '    file_options(&opt);\n    return duro_sqlite_open(locator, &opt, out, err);',
  '    char other[PATH_BUF + 8];\n    file_options(&opt);\n    snprintf(other, sizeof other, "%s-other", locator);\n    return duro_sqlite_open(other, &opt, out, err);',1),
 ("busy_ack_orch_retryable_nothing_applied","sqlite-file","providers/sqlite/stmt.c",
  '        code = DURO_EBUSY;\n        retryable = 1;','        code = DURO_EBUSY;\n        retryable = 0;',1),
 ("busy_write_calls_retryable_nothing_applied","sqlite-file","providers/sqlite/notify.c",
  '        if (rc != DURO_ENOTFOUND)\n            return rc;','        if (rc == DURO_EBUSY)\n            rc = DURO_ENOTFOUND;\n        if (rc != DURO_ENOTFOUND)\n            return rc;',1),
 ("lost_lock_is_permanent_nothing_applied","sqlite-file","providers/sqlite/orch.c",
  'rc = duro_error_set(err, DURO_ELOCK, 0, "instance lock expired");','rc = duro_error_set(err, DURO_ELOCK, 1, "instance lock expired");',1),
]
only = sys.argv[1:]
ok = True
for case, prov, path, old, new, count in M:
    if only and case not in only:
        continue
    src = open(path).read()
    n = src.count(old)
    if n == 0:
        print(f"NO-SITE {case}: {path}"); ok = False; continue
    open(path, "w").write(src.replace(old, new) if count == 0 else src.replace(old, new, count))
    try:
        b = subprocess.run(["make", "-j2", "conformance/duro-conformance", "CFLAGS=-g -O2"],
                           capture_output=True, text=True)
        if b.returncode != 0:
            print(f"STILLBORN {case}: {path}\n{b.stderr[-2000:]}"); ok = False; continue
        t = time.time()
        r = subprocess.run(["./conformance/duro-conformance", "--provider", prov, "--case", case],
                           capture_output=True, text=True, timeout=300)
        dt = time.time() - t
        fail = [l for l in r.stdout.splitlines() if l.startswith("  FAIL")]
        verdict = "KILLED" if r.returncode == 1 and fail else "SURVIVED"
        if verdict != "KILLED": ok = False
        print(f"{verdict} {case} [{prov}] {path} ({dt:.1f}s): {fail[0].strip()[:220] if fail else r.stdout[-300:]}")
    finally:
        open(path, "w").write(src)
subprocess.run(["make", "-j2", "conformance/duro-conformance", "CFLAGS=-g -O2 -Werror"], capture_output=True)
sys.exit(0 if ok else 1)
