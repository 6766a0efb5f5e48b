#!/usr/bin/env python3
"""tests/edge-teeth.py — the teeth of the time_edges, ordering and wakeups categories.

Each mutant below is one small edit of providers/sqlite/*.c that breaks a rule of "Times at
their edges", "Order" or "Wake-ups" (lib/duro-provider.h). The script copies the source tree
(tracked files) into a scratch folder, configures it --disable-shared, builds
duro-conformance, and for each mutant applies the edit, relinks, runs the three categories
and restores the file. It prints, per mutant, the cases that failed, then the table
case -> mutants of docs/conformance.md, and exits 1 when a mutant survives or a case is killed
by none. Not part of make check (about two minutes).

    tests/edge-teeth.py [--reps N] [--keep] [MUTANT ...]

Standard library only; needs what the build needs (autotools, Check, SQLite)."""
import os, re, shutil, subprocess, sys, tempfile

S = 'providers/sqlite/'
U = 'util/'
CATS = 'time_edges,ordering,wakeups'
M = [
 ('fetch-lock-unchecked', S+'orch.c', 'rc = duro_provider_check_lock_ms(lock_ms, "fetch_orch: lock_ms", err);', 'rc = 0;'),
 ('orch-lock-held-at-expiry', S+'orch.c', '"  WHERE l.instance_id = q.instance_id AND l.locked_until > ?1)"', '"  WHERE l.instance_id = q.instance_id AND l.locked_until >= ?1)"'),
 ('work-lock-held-at-expiry', S+'work.c', '"  AND (lock_token IS NULL OR locked_until <= ?1) ORDER BY id LIMIT 1)"', '"  AND (lock_token IS NULL OR locked_until < ?1) ORDER BY id LIMIT 1)"'),
 ('orch-lock-overflow', S+'orch.c', 'duro__add_sat(now, lock_ms), now);', '(int64_t)((uint64_t)now + (uint64_t)lock_ms), now);'),
 ('work-lock-overflow', S+'work.c', 'duro__add_sat(now, fa->lock_ms));', '(int64_t)((uint64_t)now + (uint64_t)fa->lock_ms));'),
 ('renew-extend-unchecked', S+'orch.c', 'rc = duro_provider_check_lock_ms(extend_ms, "renew_orch: extend_ms", err);', 'rc = 0;'),
 ('renew-never-shortens', S+'orch.c', '"UPDATE instance_locks SET locked_until = ?2 WHERE lock_token = ?1 AND locked_until > ?3"', '"UPDATE instance_locks SET locked_until = MAX(locked_until, ?2) WHERE lock_token = ?1 AND locked_until > ?3"'),
 ('renew-overflow', S+'orch.c', 'duro__add_sat(now_ms, extend_ms),', '(int64_t)((uint64_t)now_ms + (uint64_t)extend_ms),'),
 ('abandon-negative-accepted', S+'orch.c', 'if (rc == 0 && delay_ms < 0)', 'if (rc == 0 && 0)'),
 ('work-abandon-delay-one-ignored', S+'work.c', '" visible_at = CASE WHEN ?2 > 0 THEN ?3 ELSE visible_at END,"', '" visible_at = CASE WHEN ?2 > 1 THEN ?3 ELSE visible_at END,"'),
 ('work-abandon-overflow', S+'work.c', 'duro__add_sat(now_ms, delay_ms), ignore_attempt', '(int64_t)((uint64_t)now_ms + (uint64_t)delay_ms), ignore_attempt'),
 ('visible-at-unsigned', S+'queue.c', 'msg->execution_id, msg->payload, msg->visible_at_ms);', 'msg->execution_id, msg->payload, msg->visible_at_ms < 0 ? INT64_MAX : msg->visible_at_ms);'),
 ('visible-one-ms-early', S+'orch.c', '" WHERE +q.visible_at <= ?1"', '" WHERE +q.visible_at - 1 <= ?1"'),
 ('depth-delayed-bound', S+'manage.c', '"SELECT COUNT(*) FROM orch_queue WHERE visible_at > ?1"', '"SELECT COUNT(*) FROM orch_queue WHERE visible_at >= ?1"'),
 ('msg-execution-zero-resolved', S+'queue.c', 'msg->execution_id, msg->payload, msg->visible_at_ms);', 'msg->execution_id ? msg->execution_id : 1, msg->payload, msg->visible_at_ms);'),
 ('work-visible-at-zero', S+'queue.c', '" VALUES (?1, ?2, ?3, ?4, -9223372036854775808)"', '" VALUES (?1, ?2, ?3, ?4, 0)"'),
 ('max-lock-never-expires', S+'orch.c', '"  WHERE l.instance_id = q.instance_id AND l.locked_until > ?1)"', '"  WHERE l.instance_id = q.instance_id AND (l.locked_until > ?1 OR l.locked_until = 9223372036854775807))"'),
 ('poll-negative-rejected', S+'orch.c', '    if (out == NULL)\n        return duro_error_set(err, DURO_EINVAL, 0, "fetch_orch: out is required");', '    if (out == NULL || poll_ms < 0)\n        return duro_error_set(err, DURO_EINVAL, 0, "fetch_orch: out is required");'),
 ('poll-ends-one-ms-early', U+'notify.c', 'if (poll_ms <= 0 || elapsed >= poll_ms)', 'if (poll_ms <= 0 || elapsed + 1 >= poll_ms)'),
 ('poll-overflow', U+'notify.c', 'if (poll_ms <= 0 || elapsed >= poll_ms)', 'if (poll_ms <= 0 || elapsed * 1000 >= (int64_t)((uint64_t)poll_ms * 1000u))'),
 ('wait-zero-waits', U+'notify.c', 'duro__monotonic_after_us(duro__ms_to_us_sat(timeout_ms));', 'duro__monotonic_after_us(duro__ms_to_us_sat(timeout_ms ? timeout_ms : 100));'),
 ('wait-half-ms-early', U+'notify.c', 'duro__monotonic_after_us(duro__ms_to_us_sat(timeout_ms));', 'duro__monotonic_after_us(duro__ms_to_us_sat(timeout_ms) - 500);'),
 ('wait-overflow', U+'notify.c', 'duro__monotonic_after_us(duro__ms_to_us_sat(timeout_ms));', 'duro__monotonic_after_us((int64_t)((uint64_t)timeout_ms * 1000u));'),
 ('batch-by-visible-at', S+'orch.c', '" WHERE lock_token = ?1 ORDER BY id";', '" WHERE lock_token = ?1 ORDER BY visible_at, id";'),
 ('expired-batch-not-retaken', S+'orch.c', '" WHERE instance_id = ?2 AND visible_at <= ?3";', '" WHERE instance_id = ?2 AND visible_at <= ?3 AND lock_token IS NULL";'),
 ('abandon-no-hold', S+'orch.c', 'if (rc >= 0 && delay_ms > 0)\n        rc = duro__sq_exec(c, SQL_HOLD', 'if (rc >= 0 && 0)\n        rc = duro__sq_exec(c, SQL_HOLD'),
 ('abandon-delays-every-message', S+'orch.c', '"UPDATE orch_queue SET visible_at = ?2 WHERE instance_id = ?1 AND visible_at <= ?3";', '"UPDATE orch_queue SET visible_at = ?2 WHERE instance_id = ?1 AND ?3 IS NOT NULL";'),
 ('hold-blocks-all-instances', S+'orch.c', '"  WHERE l.instance_id = q.instance_id AND l.locked_until > ?1)"', '"  WHERE l.locked_until > ?1)"'),
 ('zero-abandon-pulls-timers-to-now', S+'orch.c', 'if (rc >= 0 && delay_ms > 0)\n        rc = duro__sq_exec(c, SQL_DELAY|||SET visible_at = ?2 WHERE instance_id = ?1 AND visible_at <= ?3";', 'if (rc >= 0 && delay_ms >= 0)\n        rc = duro__sq_exec(c, SQL_DELAY|||SET visible_at = ?2 WHERE instance_id = ?1 AND ?3 IS NOT NULL";'),
 ('stored-visible-at-one-ms-early', S+'queue.c', 'msg->execution_id, msg->payload, msg->visible_at_ms);', 'msg->execution_id, msg->payload, msg->visible_at_ms > INT64_MIN ? msg->visible_at_ms - 1 : msg->visible_at_ms);'),
 ('orch-abandon-delay-one-ms-short', S+'orch.c', '    if (rc == 0 && delay_ms > 0 && duro_random_token(hold) != 0)', '    if (delay_ms > 0)\n        delay_ms--;\n    if (rc == 0 && delay_ms > 0 && duro_random_token(hold) != 0)'),
 ('work-by-visible-at', S+'work.c', '"  AND (lock_token IS NULL OR locked_until <= ?1) ORDER BY id LIMIT 1)"', '"  AND (lock_token IS NULL OR locked_until <= ?1) ORDER BY visible_at, id LIMIT 1)"'),
 ('poll-rounds-up', U+'notify.c', '(duro__monotonic_us() - start) / 1000;', '(duro__monotonic_us() - start + 999) / 1000;'),
 ('lock-handed-on-1ms-early', S+'orch.c', '"  WHERE l.instance_id = q.instance_id AND l.locked_until > ?1)"', '"  WHERE l.instance_id = q.instance_id AND l.locked_until > ?1 + 1)"'),
 ('abandon-orch-no-notify', S+'orch.c', 'return duro__sq_end_write(&s->pool, c, rc < 0 ? rc : 0, DURO__NOTE_ORCH, err);\n}\n\nint duro__sq_renew_orch', 'return duro__sq_end_write(&s->pool, c, rc < 0 ? rc : 0, 0, err);\n}\n\nint duro__sq_renew_orch'),
 ('abandon-work-no-notify', S+'work.c', 'return duro__sq_end_write(&s->pool, c, rc < 0 ? rc : 0, DURO__NOTE_WORK, err);\n}\n\nint duro__sq_renew_work', 'return duro__sq_end_write(&s->pool, c, rc < 0 ? rc : 0, 0, err);\n}\n\nint duro__sq_renew_work'),
 ('ack-msgs-no-notify', S+'orch.c', 'if (rc >= 0 && commit->n_msgs > 0)\n        notes |= DURO__NOTE_ORCH;', 'if (rc >= 0 && commit->n_msgs > 0)\n        notes |= 0;'),
 ('ack-work-no-notify', S+'orch.c', 'notes = DURO__NOTE_WORK;', 'notes = 0;'),
 ('ack-due-no-notify', S+'orch.c', 'if (rc >= 0 && due == 1)\n            notes |= DURO__NOTE_ORCH;', 'if (rc >= 0 && due == 1)\n            notes |= 0;'),
 ('completion-no-notify', S+'work.c', 'notes = DURO__NOTE_ORCH;', 'notes = 0;'),
 ('enqueue-orch-no-notify', S+'orch.c', 'return duro__sq_end_write(&s->pool, c, rc, DURO__NOTE_ORCH, err);', 'return duro__sq_end_write(&s->pool, c, rc, 0, err);'),
 ('enqueue-work-no-notify', S+'work.c', 'return duro__sq_end_write(&s->pool, c, rc, DURO__NOTE_WORK, err);', 'return duro__sq_end_write(&s->pool, c, rc, 0, err);'),
]

D={
'fetch-lock-unchecked':('orch.c','fetch_orch skips the lock_ms check'),
'orch-lock-held-at-expiry':('orch.c','candidate query: `locked_until > now` → `>=` (a lock is still held at its expiry ms)'),
'work-lock-held-at-expiry':('work.c','take query: `locked_until <= now` → `<`'),
'orch-lock-overflow':('orch.c','fetch lock deadline `now + lock_ms` wraps instead of saturating'),
'work-lock-overflow':('work.c','the same for work locks'),
'renew-extend-unchecked':('orch.c','renew_orch skips the extend_ms check'),
'renew-never-shortens':('orch.c','renew sets `MAX(locked_until, now + extend)`'),
'renew-overflow':('orch.c','renew deadline wraps'),
'abandon-negative-accepted':('orch.c','abandon_orch accepts a negative delay (releases at once)'),
'work-abandon-delay-one-ignored':('work.c','abandon_work applies a delay only when > 1'),
'work-abandon-overflow':('work.c','abandon_work visible_at `now + delay` wraps'),
'visible-at-unsigned':('queue.c','a negative visible_at is stored as INT64_MAX (compared unsigned)'),
'visible-one-ms-early':('orch.c','candidate query: `visible_at - 1 <= now`'),
'stored-visible-at-one-ms-early':('queue.c','messages stored with visible_at − 1'),
'depth-delayed-bound':('manage.c','delayed depth counts `visible_at >= now`'),
'msg-execution-zero-resolved':('queue.c','a message execution id 0 is stored as 1'),
'work-visible-at-zero':('queue.c','work items inserted with visible_at 0 (the code before this change)'),
'max-lock-never-expires':('orch.c','a lock deadline of INT64_MAX never expires'),
'poll-negative-rejected':('orch.c','fetch_orch rejects poll_ms < 0 with DURO_EINVAL'),
'poll-ends-one-ms-early':('notify.c','the poll gives up at `elapsed + 1 >= poll_ms`'),
'poll-overflow':('notify.c','the poll end compares `poll_ms * 1000` (wraps for INT64_MAX)'),
'wait-zero-waits':('notify.c','wait_commit timeout 0 waits 100 ms'),
'wait-half-ms-early':('notify.c','wait_commit deadline 500 µs short'),
'wait-overflow':('notify.c','wait_commit deadline `timeout_ms * 1000` wraps'),
'batch-by-visible-at':('orch.c','batch read `ORDER BY visible_at, id`'),
'expired-batch-not-retaken':('orch.c','a fetch tags only untagged messages (an expired lock\'s batch is left behind)'),
'abandon-no-hold':('orch.c','abandon with delay releases the lock row (the code before this change)'),
'abandon-delays-every-message':('orch.c','abandon delay sets visible_at of every message of the instance, later timers too'),
'hold-blocks-all-instances':('orch.c','candidate query: any live lock blocks every instance'),
'zero-abandon-pulls-timers-to-now':('orch.c','abandon with delay 0 sets every message of the instance visible at now'),
'orch-abandon-delay-one-ms-short':('orch.c','abandon_orch hides for delay − 1 ms'),
'work-by-visible-at':('work.c','fetch_work `ORDER BY visible_at, id`'),
'poll-rounds-up':('notify.c','the poll rounds the waited time UP to whole ms'),
'lock-handed-on-1ms-early':('orch.c','candidate query: `locked_until > now + 1`'),
'abandon-orch-no-notify':('orch.c','abandon_orch wakes no fetcher'),
'abandon-work-no-notify':('work.c','abandon_work wakes no fetcher'),
'ack-msgs-no-notify':('orch.c','ack_orch sending messages wakes no orchestration fetcher'),
'ack-work-no-notify':('orch.c','ack_orch scheduling work wakes no work fetcher'),
'ack-due-no-notify':('orch.c','ack_orch releasing an instance with due arrivals wakes no fetcher'),
'completion-no-notify':('work.c','ack_work\'s completion wakes no fetcher'),
'enqueue-orch-no-notify':('orch.c','enqueue_orch wakes no fetcher'),
'enqueue-work-no-notify':('work.c','enqueue_work wakes no fetcher'),
}


def sh(cmd, cwd, **kw):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, **kw)


def main(argv):
    reps, keep, only = 1, False, []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == '--reps':
            reps = int(args.pop(0))
        elif a == '--keep':
            keep = True
        elif a in ('-h', '--help'):
            print(__doc__)
            return 0
        else:
            only.append(a)
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    root = tempfile.mkdtemp(prefix='duro-edge-teeth.')
    try:
        files = sh(['git', 'ls-files', '-z'], top).stdout.split('\0')
        for f in filter(None, files):
            os.makedirs(os.path.join(root, os.path.dirname(f)), exist_ok=True)
            shutil.copy2(os.path.join(top, f), os.path.join(root, f))
        for step in (['./autogen.sh'], ['./configure', '--quiet', '--disable-shared'],
                     ['make', 'conformance/duro-conformance']):
            r = sh(step, root)
            if r.returncode != 0:
                sys.stderr.write(r.stdout[-2000:] + r.stderr[-2000:])
                return 2
        r = sh(['./conformance/duro-conformance', '--category', CATS], root)
        if r.returncode != 0:
            sys.stderr.write('the unmutated suite fails:\n' + r.stdout)
            return 2
        cases = sh(['./conformance/duro-conformance', '--list', '--category', CATS],
                   root).stdout.split()
        kills = {c: [] for c in cases}
        survivors = []
        for mid, f, old, new in M:
            if only and mid not in only:
                continue
            path = os.path.join(root, f)
            orig = open(path).read()
            mut = orig
            for o, n in zip(old.split('|||'), new.split('|||')):
                assert mut.count(o) == 1, (mid, o)
                mut = mut.replace(o, n)
            open(path, 'w').write(mut)
            try:
                if sh(['make', 'conformance/duro-conformance'], root).returncode != 0:
                    print(mid, 'STILLBORN', flush=True)
                    survivors.append(mid)
                    continue
                failed, runs = set(), 0
                for _ in range(reps):
                    r = sh(['./conformance/duro-conformance', '--category', CATS], root,
                           timeout=900)
                    got = set(re.findall(r'FAIL \w+/(\w+):', r.stdout))
                    runs += bool(got)
                    failed |= got
                print('%s: %d cases%s %s' % (mid, len(failed),
                      ' (%d/%d runs failed)' % (runs, reps) if reps > 1 else '',
                      ' '.join(sorted(failed))), flush=True)
                if not failed:
                    survivors.append(mid)
                for c in failed:
                    kills.setdefault(c, []).append(mid)
            finally:
                open(path, 'w').write(orig)
        if not only:
            print('\n| Case | Killed by |\n|---|---|')
            for c in cases:
                print('| `%s` | %s |' % (c, ', '.join('`%s`' % m for m in kills[c])))
        unkilled = [c for c in cases if not kills[c]] if not only else []
        if survivors or unkilled:
            print('survivors: %s; cases killed by none: %s' % (survivors, unkilled))
            return 1
        return 0
    finally:
        if keep:
            print('scratch tree kept in', root)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
