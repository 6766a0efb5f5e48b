/*
 * duro-provider.h — the storage contract between libduro and a provider.
 *
 * A provider is storage only: two queues (orchestrator messages per instance, activity work
 * items), exclusive instance locks, append-only history per (instance, execution), and the
 * materialised instance metadata (status, output, custom status, durable values). It never invents event ids
 * or execution ids and never parses payloads: the runtime hands it opaque encoded text plus
 * the indexed fields declared below. Time is always an argument (`now_ms`, milliseconds since
 * the epoch) so that lock expiry and delayed visibility can be driven by a virtual clock.
 *
 * Implementing a provider: embed `duro_provider` as the FIRST member of your own struct,
 * point `ops` at a static `duro_provider_ops` whose `version` is DURO_PROVIDER_OPS_VERSION,
 * set `caps`, and fill the callbacks; validate arguments with the duro_provider_check_*
 * helpers below, which every provider shares. Every callback returns 0 on success or a
 * negative DURO_E* code, and on failure fills `err` (which may be NULL) through
 * duro_error_set(). Strings passed IN are borrowed for the
 * duration of the call. Everything passed OUT is allocated with malloc() and owned by the
 * caller, who releases it with the matching duro_*_free() function below.
 *
 * Thread safety: every callback may be called concurrently from many threads.
 *
 * Readings the conformance suite checks (where the comments below are short):
 * - Locks: a lock taken at t for d ms is held while now < t + d and free from now >= t + d.
 *   Abandon, renew and ack with an expired or unknown token fail with DURO_ELOCK
 *   (retryable 0) and change nothing; after a rejected ack the lock is still held and a
 *   corrected ack with the same token may succeed.
 * - Validation (duro_provider_check_*): NULL or empty instance ids, message kinds <= 0, lock
 *   or extend times <= 0, execution id 0 in a commit and NULL event payloads are DURO_EINVAL.
 *   An empty string is a value, never NULL.
 * - A commit for an instance without a row and without orch_name may only consume messages
 *   (no events, state or custom status): that is how stray messages are drained.
 * - A new execution row starts RUNNING; started_at is the now_ms of the ack that created it,
 *   completed_at 0 until a terminal state is set.
 * - Messages hidden by an abandon delay are visible again at exactly now + delay.
 * - Management: prune reports instances = 0 (it never deletes instances); the bulk-delete
 *   limit counts roots; completed_before is strict; queue_depths counts rows whose lock has
 *   expired as queued; metrics counts each instance once, by its current execution's state;
 *   a child whose parent row is gone counts as a root; execution_info with execution 0 means
 *   the current execution; wait_commit with a negative timeout waits without limit.
 * - Commits (checked before anything is written; a rejected commit applies nothing, keeps
 *   the lock and is not retryable): `execution_id` names a stored execution of the
 *   instance, its current one or the next one (current + 1; only 1 for an instance without
 *   a row), else DURO_ENOTFOUND (so a pruned older execution is never written again).
 *   Event ids increase strictly within a commit and start above the last id stored for
 *   that execution (gaps are allowed), else
 *   DURO_ECONSTRAINT: history is appended to, never inserted into. An id (orch_name,
 *   orch_version, parent_instance, a message's or work item's instance) longer than
 *   DURO_MAX_ID_BYTES is DURO_ETOOBIG, at enqueue too; payload sizes are not checked here.
 *   Cancel refs that match nothing are not an error.
 * - Referential edges: orphan messages of an instance whose only START is delayed wait for
 *   it and are fetched with it, in id order, at its visible_at; queue_depths counts a
 *   visible orphan as an orchestrator message. A child whose parent row is gone keeps its
 *   parent link (instance_info, list_children of the parent id answer by the link) and is a
 *   root for delete_instance and every delete_bulk path. An instance whose current execution
 *   continued as new is not terminal for delete_bulk (by id, filter or time) but is not
 *   Running either: delete_instance deletes it without force. read_history of an execution
 *   that does not exist (pruned, later than the current, of an unknown or only queued
 *   instance) is 0 events, success; execution_info of one is DURO_ENOTFOUND (retryable 0).
 * - Handles: locks, lock tokens, queues and counts are store state. Several handles on one
 *   store (other processes, or duro_provider_factory.attach) see the same locks and counts,
 *   a token may be renewed, abandoned or acked through any handle, and a write is visible to
 *   every handle's reads once its call returned. A long-polling fetch or wait_commit
 *   notices work committed through another handle within DURO_PROVIDER_RECHECK_MS.
 * - Contention: a call that cannot get the storage lock it needs within the provider's busy
 *   wait fails with DURO_EBUSY, retryable 1, and applies nothing; a lost lock (expired,
 *   released, taken over or deleted) is DURO_ELOCK, retryable 0.
 * - Storage faults: a call whose writes the storage refuses (an I/O error, a full disk) fails
 *   with DURO_EIO, retryable 1, and applies nothing; storage that became read-only gives
 *   DURO_EIO, retryable 0 (it does not pass by itself), nothing applied. Reads keep working
 *   meanwhile, and the handle works normally again once the storage does. A call that has nothing to write (a
 *   prune with nothing to delete) is not affected.
 *
 * Times at their edges (conformance categories time_edges, ordering, wakeups):
 * - Every time is a signed 64-bit count of ms compared as a plain integer. No call rejects a
 *   now_ms or a visible_at_ms, negative or not: a message is visible when visible_at <= now.
 * - A deadline now + d saturates at INT64_MAX, which no clock before the end of int64 reaches:
 *   a lock_ms or extend_ms of INT64_MAX holds the lock at every now_ms < INT64_MAX, and an
 *   abandon delay or a visible_at of INT64_MAX hides the message at every now_ms < INT64_MAX.
 *   now_ms = INT64_MAX is past every deadline (plain comparison, nothing special).
 * - lock_ms and extend_ms must be > 0: 0 or negative is DURO_EINVAL (retryable 0) and locks
 *   or extends nothing. 1 holds the lock at now only; it is free at now + 1.
 * - delay_ms < 0 is DURO_EINVAL (retryable 0): the lock stays held and nothing changes.
 *   delay_ms 0 releases at once; delay_ms 1 hides the batch at now, shows it at now + 1.
 * - poll_ms <= 0 means do not wait (never an error). A long poll tries again at now_ms plus
 *   the WHOLE milliseconds it has waited, never rounded up, so nothing is delivered before its
 *   visible_at (or a lock handed on before its expiry) on the caller's clock, which read
 *   now_ms at the call; its last try is at now_ms + poll_ms or later, so a message visible at
 *   exactly now_ms + poll_ms is returned. poll_ms INT64_MAX waits without overflow.
 * - wait_commit: timeout 0 returns at once (0 if seq was passed, else DURO_ETIMEDOUT);
 *   a negative timeout or INT64_MAX waits without limit; DURO_ETIMEDOUT never comes before
 *   timeout_ms ms have passed.
 * - A message's execution_id is stored and returned verbatim (0 stays 0: the runtime, not
 *   the provider, resolves "current").
 *
 * Order:
 * - A batch holds every message of the instance visible at the fetch's now, in id (enqueue)
 *   order whatever their visible_at or kind: messages due at once and timers that fired are
 *   interleaved by id. So a visible message is never left for a later batch behind a
 *   younger one.
 * - abandon_orch with delay_ms > 0 HOLDS the instance until now + delay, as if locked by a
 *   token nobody has: the abandoned batch (its visible_at moved to now + delay), messages
 *   arriving meanwhile and timers due before now + delay all wait and come together at
 *   now + delay, in id order. A message due after now + delay keeps its visible_at (an
 *   abandon never pulls a timer forward). queue_depths counts the abandoned batch as
 *   delayed and the arrivals of a held instance as neither queued nor delayed (locked).
 * - fetch_work takes the visible, unlocked item with the lowest id. abandon_work with a delay
 *   hides that item alone (work items are independent); once visible again it comes before
 *   every younger item.
 *
 * Queries (query_instances, version 3; conformance category management):
 * - Rows come newest first: created_at descending, then instance id descending in byte
 *   order (memcmp, as strcmp and SQLite's BINARY collation compare). Neither key of a stored
 *   instance ever changes, so the order is total and fixed: a query with after_instance
 *   returns only rows strictly after (after_created_ms, after_instance), whether or not that
 *   instance still exists, and a walk page by page, each resuming after the last row of the
 *   previous one, returns every instance stored throughout the walk exactly once.
 * - Filters combine with AND and see what instance_info would: the state and the end time
 *   of the current execution, the instance row's created_at and orch_name. A completed bound
 *   matches only instances whose current execution has ended (Completed, Failed,
 *   ContinuedAsNew); completed_at_ms is 0 in a row whose current execution runs. id_prefix
 *   compares bytes, so a prefix may end inside a multi-byte character. Only instances with a
 *   row are listed (not queued starts, not orphan messages), children as well as roots.
 *
 * Tags (ops version 4, DURO_CAP_TAGS; conformance category tags):
 * - A work item is untagged or carries one tag, given at enqueue (enqueue_work_tagged, or
 *   the commit's work_tags) and never changed: abandon (with or without delay), renew, lock
 *   expiry and fetch keep it. A tag is an id: non-empty (else DURO_EINVAL), at most
 *   DURO_MAX_ID_BYTES (else DURO_ETOOBIG), compared as bytes; a rejected enqueue or commit
 *   applies nothing.
 * - enqueue_work and fetch_work are the untagged queue: enqueue_work enqueues untagged and
 *   fetch_work (and its long poll) sees untagged items only, so a runtime that knows nothing
 *   of tags never runs tagged work.
 * - fetch_work_filtered sees the items its duro_work_filter accepts. The filter's classes,
 *   in this order, are: untagged (if `untagged`), then each of `tags` in the order given, or
 *   "every tagged item" (if `any_tag`). The fetch tries the classes round robin starting at
 *   class (turn % number of classes) and takes the lowest-id visible, unlocked item of the
 *   first class that has one. So a caller that increments `turn` on every fetch alternates
 *   between non-empty classes and no class starves another, however deep its queue; within
 *   a class the order is the id (enqueue) order, as fetch_work's. The long poll waits for
 *   an item of any accepted class.
 * - queue_depths_by_tag: one row per tag present in the work queue (untagged first, tag
 *   NULL; then tags in byte order), counting every item whatever filters exist: queued
 *   (visible and unlocked or lock expired at now, as queue_depths' worker count), locked
 *   (live lock) and delayed (hidden by an abandon delay, not locked). An empty queue is 0
 *   rows, *rows NULL.
 * - Several handles see the same tags and depths.
 *
 * Sessions (ops version 6, DURO_CAP_SESSIONS; conformance category sessions):
 * - A work item may belong to one session (the commit's work_sessions), an id as a tag is
 *   (non-empty, at most DURO_MAX_ID_BYTES, bytes), given at enqueue and never changed. A
 *   session item is untagged (work_tags NULL for it, else DURO_EINVAL). fetch_work and
 *   fetch_work_filtered never return session items: only fetch_work_session does.
 * - A session has at most one owner, a worker id, and a lease end (lease_until). A worker
 *   OWNS a session at `now` when it is its owner and now < lease_until. fetch_work_session
 *   by worker W adds one class, "sessions", after the filter's classes (round robin as in
 *   "Tags"); that class's item is the lowest-id fetchable session item whose session W
 *   owns, or whose session nobody owns at now (never leased, lease expired, or released)
 *   provided W owns fewer than max_sessions sessions. Taking an item of a session nobody
 *   owns makes W its owner until now + lease_ms. Every fetch_work_session of W (found or
 *   not) extends each session W owns to now + lease_ms. So while W fetches or renews, no
 *   other worker gets its sessions' items; once its lease expires, the first worker to fetch
 *   one of them becomes the one new owner (the take is one transaction).
 * - renew_sessions(W): first, a session W owns whose items are all gone (acked, cancelled,
 *   deleted) and that has had none since `idle_ms` is released (it has no owner; its next
 *   item goes to whichever worker fetches it first): "since" is the later of the last fetch
 *   of one of its items and the last renew_sessions of its owner that saw one queued.
 *   Then each session W still owns is extended to now + lease_ms. A session whose lease
 *   expired is not renewed (another worker may hold it). *owned is the number W owns after.
 * - Abandon, lock expiry and renew of a session item keep its session; cancelling or
 *   deleting it does not change the session's owner. queue_depths and queue_depths_by_tag
 *   count session items with the untagged ones.
 * - Every reading is on the caller's now_ms; several handles see the same owners.
 * - A worker id is an id: non-empty (DURO_EINVAL), at most DURO_MAX_ID_BYTES (DURO_ETOOBIG),
 *   nothing changed. A lease end is now + lease_ms saturated at INT64_MAX. An item a renew
 *   "saw" is any stored item of the session: queued, running or hidden by an abandon delay.
 *   A session does not serialise its items (its owner may hold several at once), and a
 *   lease governs fetches only: an item's lock holder acks it whoever owns the session by
 *   then. renew_sessions releases and extends only the caller's sessions, by its idle_ms.
 *
 * Wake-ups (DURO_CAP_LONG_POLL): a fetch sleeping in its poll returns an item within 25 ms
 * of the return of the call of this process that made it fetchable (enqueue, ack_orch,
 * ack_work, abandon), and within 25 ms of the time, on its advancing clock, at which a
 * visible_at or a lock expiry makes one fetchable; both bounds on top of the time the
 * provider's own fetch of an available item takes at that moment (near zero for an embedded
 * store, round trips to a loaded server for a networked one). Writes of other processes are
 * seen within the provider's documented re-check interval (SQLite: 50 ms). A renew never
 * releases a lock: a lock ends by ack, abandon or expiry.
 *
 * Version filtering (DURO_CAP_VERSION_FILTER, ops version 7; conformance category
 * capability_filtering): a fetch_orch_filtered only takes an instance whose ROUTE is
 * accepted by the filter; every other instance is left exactly as it was (not locked, not
 * tagged, its attempt counts untouched, not held), for a fetcher that accepts it.
 * - The route of a candidate instance is, first match wins: (1) the target of its visible
 *   CONTINUE_AS_NEW message with the highest id that has a target (the next execution runs
 *   that); (2) the instance row's (orch_name, orch_version); (3) the target of its visible
 *   START message with the highest id that has a target. A target is the (orch_name,
 *   orch_version) given with the message by enqueue_orch_start or duro_orch_commit.
 *   msg_targets; messages enqueued without one (enqueue_orch, versions before 7) have none.
 * - A filter accepts a route when one of its refs has the route's name and, byte for byte,
 *   its version; a route whose version is NULL ("the latest registered") is accepted by every
 *   ref with its name; an instance with no route at all (a START without target and no row)
 *   is accepted by every filter. A NULL filter accepts everything (fetch_orch_filtered(NULL)
 *   is fetch_orch); a filter with n = 0 accepts nothing.
 * - Among accepted instances the order is fetch_orch's (the lowest eligible message id).
 * - Invalid filters are DURO_EINVAL (retryable 0), nothing locked: refs NULL with n > 0, a
 *   ref name or version NULL, empty or longer than DURO_MAX_ID_BYTES
 *   (duro_provider_check_version_filter). A target name longer than DURO_MAX_ID_BYTES is
 *   DURO_ETOOBIG, as every id.
 */
#ifndef DURO_PROVIDER_H
#define DURO_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "duro-common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest a long-polling fetch (or wait_commit) on one handle may take to notice a commit made
 * through another handle or process on the same store (the SQLite provider re-checks every
 * 50 ms). Within one handle a commit wakes waiters at once. */
#define DURO_PROVIDER_RECHECK_MS 250

/* ---- Capabilities ------------------------------------------------------------------------ */

#define DURO_CAP_MANAGEMENT (1u << 0) /* list/query/info/executions/delete/bulk delete/prune/
                                        * depths/metrics */
#define DURO_CAP_LONG_POLL (1u << 1)  /* fetch blocks up to poll_ms waiting for work */
#define DURO_CAP_NOTIFY (1u << 2)     /* commit_seq + wait_commit for event-driven waiting */
#define DURO_CAP_TAGS (1u << 3)       /* activity tags (ops version 4): enqueue_work_tagged,
                                       * fetch_work_filtered, queue_depths_by_tag and the
                                       * commit's work_tags; ignored on older ops */
#define DURO_CAP_KV (1u << 4)         /* durable values: duro_orch_commit.kv applied, get_value
                                       * and list_values (ops version 5; ignored below it) */
#define DURO_CAP_SESSIONS (1u << 5)   /* activity sessions (ops version 6): the commit's
                                       * work_sessions, fetch_work_session, renew_sessions */
#define DURO_CAP_VERSION_FILTER (1u << 7) /* message targets stored, fetch_orch_filtered (ops
                                           * version 7; ignored below it) */

/* ---- Status and message kinds ------------------------------------------------------------ */

/* Kind of an orchestrator-queue message. The provider stores it and treats exactly one
 * value specially: a DURO_MSG_START message may create an instance, so it is the only kind
 * that makes an instance without an instance row eligible for fetch. Messages for an
 * instance that has neither a row nor a START message are never fetched and never block
 * other instances ("orphans"); they wait until the instance is started. */
typedef enum duro_msg_kind {
    DURO_MSG_START = 1,          /* start an instance (client, parent, or detached start) */
    DURO_MSG_CONTINUE_AS_NEW,    /* begin the next execution */
    DURO_MSG_ACTIVITY_DONE,      /* activity completed or failed */
    DURO_MSG_TIMER_FIRED,        /* durable timer (delayed visibility) */
    DURO_MSG_EVENT,              /* external event raised */
    DURO_MSG_CHILD_DONE,         /* sub-orchestration completed or failed (to the parent) */
    DURO_MSG_CANCEL,             /* cancel request */
    /* Added with the lifecycle controls (duro 0.2, issue 14). Like every kind but START they
     * are stored and returned verbatim: a provider needs no change for them. */
    DURO_MSG_TERMINATE,          /* end the instance (and its children) at once */
    DURO_MSG_SUSPEND,            /* run no orchestration code until a RESUME */
    DURO_MSG_RESUME              /* run orchestration code again */
} duro_msg_kind;

/* ---- Values passed IN ------------------------------------------------------------------- */

/* An orchestration by name and version: the target of a START or CONTINUE_AS_NEW message,
 * or one entry of a version filter. orch_version NULL in a target means "the latest version
 * the fetching runtime has" (a start without a pinned version). */
typedef struct duro_orch_ref {
    const char *orch_name;
    const char *orch_version;
} duro_orch_ref;

/* What a fetcher can replay (fetch_orch_filtered, ops version 7): n refs. */
typedef struct duro_version_filter {
    const duro_orch_ref *refs;
    size_t n;
} duro_version_filter;

/* One orchestrator-queue message to enqueue. */
typedef struct duro_msg {
    const char *instance;  /* target instance id */
    duro_msg_kind kind;
    uint64_t execution_id; /* execution the message belongs to; 0 = current execution */
    int64_t visible_at_ms; /* not fetchable before this time; the runtime sends 0 for every
                            * message due at once, so a fetcher whose clock reads a fraction
                            * of a millisecond behind the sender's never waits for it */
    const char *payload;   /* opaque encoded message */
} duro_msg;

/* One history event to append. Event ids are assigned by the runtime, start at 1 and are
 * unique per (instance, execution); a provider rejects 0 and duplicates (DURO_ECONSTRAINT). */
typedef struct duro_event_in {
    uint64_t event_id;
    int kind;             /* runtime-defined event kind, stored verbatim */
    const char *payload;  /* opaque encoded event */
} duro_event_in;

/* One activity work item to enqueue (visible at once, at every now_ms). (execution_id,
 * activity_id) identifies it within its instance for cancellation. */
typedef struct duro_work_in {
    const char *instance;
    uint64_t execution_id;
    uint64_t activity_id;
    const char *payload;
} duro_work_in;

/* Reference to a queued activity of the locked instance, for cancellation. */
typedef struct duro_activity_ref {
    uint64_t execution_id;
    uint64_t activity_id;
} duro_activity_ref;

/* Everything one orchestration turn writes. ack_orch applies it in ONE transaction:
 * 1. verify the lock token is held and unexpired at now_ms (else DURO_ELOCK, nothing written);
 * 2. create the instance row if missing (name, version, parent) and the execution row
 *    (instance, execution_id) if missing; current execution = max(current, execution_id);
 * 3. append `events` to (instance, execution_id), insert-only;
 * 4. if `state` is non-zero, set the execution's state and output (completed_at = now_ms);
 * 5. if `set_custom_status`, set custom status (NULL clears) and increment its version;
 * 6. insert `work` items, THEN delete queued work rows listed in `cancel` (so an activity
 *    scheduled and cancelled in the same turn ends up deleted); unknown refs are ignored;
 * 7. insert `msgs` (any instance) with their visible_at_ms;
 * 8. delete the messages that were fetched under this token (and only those);
 * 9. release the lock;
 * 10. (DURO_CAP_KV) apply `kv` in order to the instance's durable values: SET stores the
 *    value under the key (inserting or replacing it), CLEAR removes the key (absent: no-op),
 *    CLEAR_ALL removes every key. Each change increases the instance's value counter by one
 *    (a CLEAR of an absent key and a CLEAR_ALL of none too; the counter is the instance's
 *    own) and a SET stamps its key with the new counter (duro_kv_entry.version). Checked before
 *    anything is written (duro_provider_check_commit): a key NULL or empty is DURO_EINVAL,
 *    longer than DURO_MAX_ID_BYTES or a value longer than DURO_MAX_VALUE_BYTES (NULL for a
 *    SET is DURO_EINVAL) is DURO_ETOOBIG; more than DURO_MAX_VALUES keys after the changes
 *    is DURO_ETOOBIG (counted after the last change, not in between); each rejected commit
 *    applies nothing and keeps the lock. Values belong to the instance, not to an
 *    execution: a new execution and prune keep them, deleting the instance deletes them
 *    (with its tree). A provider without DURO_CAP_KV is never handed n_kv > 0. */
typedef struct duro_orch_commit {
    uint64_t execution_id;
    const char *orch_name;        /* may be NULL when the instance row already exists */
    const char *orch_version;
    const char *parent_instance;  /* NULL for root instances */
    const duro_event_in *events;
    size_t n_events;
    const duro_work_in *work;
    size_t n_work;
    const duro_activity_ref *cancel;
    size_t n_cancel;
    const duro_msg *msgs;
    size_t n_msgs;
    duro_state state;             /* state to set, or 0 to leave unchanged */
    const char *output;           /* output / error text / CAN input, with `state` */
    int set_custom_status;
    const char *custom_status;
    /* Version 4 (DURO_CAP_TAGS; read only by a provider whose ops version is 4 or later):
     * NULL = every work item untagged; else n_work entries parallel to `work`, each NULL
     * (untagged) or the item's tag (see "Tags" above). libduro sets it only for a provider
     * with DURO_CAP_TAGS. */
    const char *const *work_tags;
    /* Appended with ops version 5 (DURO_CAP_KV): durable value changes, in call order. */
    const struct duro_kv_change *kv;
    size_t n_kv;
    /* Appended with ops version 6 (DURO_CAP_SESSIONS): NULL = no work item in a session;
     * else n_work entries parallel to `work`, each NULL or the item's session id (see
     * "Sessions" above). libduro sets it only for a provider with DURO_CAP_SESSIONS. */
    const char *const *work_sessions;
    /* Appended with ops version 7 (DURO_CAP_VERSION_FILTER): NULL, or n_msgs targets
     * parallel to `msgs` (an entry whose orch_name is NULL: no target); a provider without
     * the capability ignores it. */
    const duro_orch_ref *msg_targets;
} duro_orch_commit;

/* Kind of one durable value change of a commit. */
typedef enum duro_kv_op {
    DURO_KV_SET = 1,  /* key = value */
    DURO_KV_CLEAR,    /* remove key */
    DURO_KV_CLEAR_ALL /* remove every key of the instance (key and value unused) */
} duro_kv_op;

/* One durable value change (duro_orch_commit.kv). */
typedef struct duro_kv_change {
    duro_kv_op op;
    const char *key;   /* SET, CLEAR: 1..DURO_MAX_ID_BYTES bytes */
    const char *value; /* SET: at most DURO_MAX_VALUE_BYTES bytes ("" is a value) */
} duro_kv_change;

/* ---- Values passed OUT (malloc-owned by the caller) ------------------------------------- */

/* A stored message as fetched. */
typedef struct duro_stored_msg {
    int64_t id;            /* provider queue id; increases in enqueue order */
    duro_msg_kind kind;
    uint64_t execution_id;
    char *payload;
} duro_stored_msg;

/* A locked orchestration work unit: all currently visible messages of one instance, FIFO by
 * id, plus the current execution's history. */
typedef struct duro_orch_item {
    char *instance;
    char lock_token[33];      /* 32 hex chars of a random 128-bit token */
    uint32_t attempt;         /* max fetch count over the messages (1 on first fetch) */
    uint64_t execution_id;    /* current execution; 1 for an instance without a row */
    duro_state state;         /* state of the current execution, DURO_STATE_NOT_FOUND if none */
    char *orch_name;          /* NULL if the instance row does not exist yet */
    char *orch_version;
    char *custom_status;      /* current custom status, NULL if none */
    duro_stored_msg *msgs;
    size_t n_msgs;
    duro_event *history;      /* ordered by event_id; never silently truncated */
    size_t n_history;
    char *history_error;      /* non-NULL: stored history could not be read (lock is held) */
} duro_orch_item;

/* A locked activity work item. */
typedef struct duro_work_item {
    int64_t id;
    char lock_token[33];
    uint32_t attempt;         /* fetch count of this row (1 on first fetch) */
    char *instance;
    uint64_t execution_id;
    uint64_t activity_id;
    char *payload;
} duro_work_item;

/* Instance metadata. */
typedef struct duro_instance_info {
    char *instance;
    char *orch_name;
    char *orch_version;
    char *parent_instance;       /* NULL for roots */
    uint64_t execution_id;       /* current execution */
    duro_state state;            /* state of the current execution */
    char *output;                /* output of the current execution, NULL while running */
    char *custom_status;
    uint64_t custom_status_version;
    int64_t created_at_ms;
    int64_t updated_at_ms;
} duro_instance_info;

typedef struct duro_execution_info {
    uint64_t execution_id;
    duro_state state;
    char *output;
    int64_t started_at_ms;
    int64_t completed_at_ms;     /* 0 while running */
    uint64_t event_count;
} duro_execution_info;

/* duro_delete_result, duro_queue_depths, duro_tag_depth and duro_metrics, which clients read
 * too, are in duro-common.h. */

/* Filter for bulk deletion: only ROOT instances whose current state is terminal
 * (completed or failed) are deleted, each with its whole tree. */
typedef struct duro_bulk_filter {
    const char *const *instances; /* restrict to these ids; NULL = all */
    size_t n_instances;
    int64_t completed_before_ms;  /* 0 = no bound; else completed strictly before */
    size_t limit;                 /* 0 = 1000 */
} duro_bulk_filter;

/* A query of query_instances (version 3): the instances whose every given filter matches,
 * newest first, at most `limit` of them, optionally resuming after the last row of a
 * previous page. Validate it with duro_provider_check_query(). */
typedef struct duro_instance_query {
    duro_state state;             /* DURO_STATE_NOT_FOUND (0) = any, else the current
                                   * execution's state */
    const char *orch_name;        /* NULL = any, else exactly this name */
    const char *id_prefix;        /* NULL or "" = any, else ids starting with these bytes */
    int64_t created_from_ms;      /* 0 = no bound, else created_at >= this */
    int64_t created_before_ms;    /* 0 = no bound, else created_at < this */
    int64_t completed_from_ms;    /* 0 = no bound, else the current execution ended at >= */
    int64_t completed_before_ms;  /* 0 = no bound, else it ended at < this */
    const char *after_instance;   /* NULL: from the newest; else only rows after the key
                                   * (after_created_ms, after_instance) in the order */
    int64_t after_created_ms;
    size_t limit;                 /* >= 1: at most this many rows */
} duro_instance_query;

/* Most tags a duro_work_filter may list (version 4). */
#define DURO_MAX_FILTER_TAGS 64

/* Which work items fetch_work_filtered (version 4) may take; see "Tags" above for the fetch
 * order. Validate it with duro_provider_check_work_filter(). */
typedef struct duro_work_filter {
    int untagged;               /* 1: accept untagged items */
    const char *const *tags;    /* accept items with one of these tags (distinct, valid ids) */
    size_t n_tags;              /* 0..DURO_MAX_FILTER_TAGS */
    int any_tag;                /* 1: accept every tagged item (then n_tags must be 0) */
    uint32_t turn;              /* the class tried first is turn % number of classes */
} duro_work_filter;

/* Prune old executions of one instance. The current execution and running executions are
 * never pruned. keep_last 0 and 1 both keep only the current one. */
typedef struct duro_prune_options {
    uint64_t keep_last;
    int64_t completed_before_ms;  /* 0 = no bound */
} duro_prune_options;

/* ---- The provider vtable ---------------------------------------------------------------- */

/* Versions of duro_provider_ops, as SQLite's sqlite3_io_methods.iVersion. A provider sets
 * `version` to the DURO_PROVIDER_OPS_VERSION of the header it was built with; libduro reads a
 * member only when the provider's version has it, so a provider built against an older
 * header keeps loading and running with a newer library. Members are only ever appended,
 * each group under the version that added it; a provider may leave optional members of its
 * version NULL.
 *   1: destroy .. metrics (duro 0.2).
 *   2: integrity_check (duro 0.2).
 *   3: query_instances (duro 0.2, issue 14).
 *   4: routing: enqueue_work_tagged, fetch_work_filtered, queue_depths_by_tag and the
 *      commit's work_tags (issue 13).
 *   5: get_value, list_values (durable values, DURO_CAP_KV; issue 13).
 *   6: fetch_work_session, renew_sessions and the commit's work_sessions (activity
 *      sessions, DURO_CAP_SESSIONS; issue 13).
 *   7: enqueue_orch_start, fetch_orch_filtered (DURO_CAP_VERSION_FILTER; issue 13). */
#define DURO_PROVIDER_OPS_V1 1
#define DURO_PROVIDER_OPS_V2 2
#define DURO_PROVIDER_OPS_V3 3
#define DURO_PROVIDER_OPS_V4 4
#define DURO_PROVIDER_OPS_V5 5
#define DURO_PROVIDER_OPS_V6 6
#define DURO_PROVIDER_OPS_V7 7
#define DURO_PROVIDER_OPS_VERSION DURO_PROVIDER_OPS_V7

typedef struct duro_provider_ops {
    /* DURO_PROVIDER_OPS_VERSION of the header the provider was compiled against (>= 1). */
    int version;

    /* ---- Version 1 ------------------------------------------------------------------------ */

    /* Close connections and free the provider. Outstanding locks are simply left to expire. */
    void (*destroy)(duro_provider *p);

    /* Orchestrator queue ------------------------------------------------------------------ */
    int (*enqueue_orch)(duro_provider *p, const duro_msg *msg, duro_error *err);
    /* Lock one instance that has a visible message and no live lock, tag ALL its visible
     * messages, increment their fetch counts and return them with the current execution's
     * history. Returns 0 with *out set, or DURO_ENOTFOUND when nothing is available (after
     * waiting up to poll_ms if the provider long-polls; 0 means do not wait). */
    int (*fetch_orch)(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                      duro_orch_item **out, duro_error *err);
    int (*ack_orch)(duro_provider *p, int64_t now_ms, const char *lock_token,
                    const duro_orch_commit *commit, duro_error *err);
    /* Release the lock. delay_ms > 0 hides the instance's messages until now+delay and holds
     * the instance until then (see "Order" above); delay_ms < 0 is DURO_EINVAL;
     * ignore_attempt undoes this fetch's count increment (never below 0). */
    int (*abandon_orch)(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t delay_ms, int ignore_attempt, duro_error *err);
    /* Extend a live lock to now+extend_ms; DURO_ELOCK if it is gone or expired. */
    int (*renew_orch)(duro_provider *p, int64_t now_ms, const char *lock_token,
                      int64_t extend_ms, duro_error *err);

    /* Worker queue ------------------------------------------------------------------------ */
    int (*enqueue_work)(duro_provider *p, const duro_work_in *work, duro_error *err);
    /* Lock the visible, unlocked work item with the lowest id. DURO_ENOTFOUND when none. */
    int (*fetch_work)(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                      duro_work_item **out, duro_error *err);
    /* Delete the item and enqueue `completion` (may be NULL) atomically. DURO_ELOCK
     * (permanent) when the row is gone (cancelled, deleted) or the lock expired. */
    int (*ack_work)(duro_provider *p, int64_t now_ms, const char *lock_token,
                    const duro_msg *completion, duro_error *err);
    int (*abandon_work)(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t delay_ms, int ignore_attempt, duro_error *err);
    int (*renew_work)(duro_provider *p, int64_t now_ms, const char *lock_token,
                      int64_t extend_ms, duro_error *err);

    /* Reads ------------------------------------------------------------------------------ */
    /* History of one execution (0 = current), ordered by event_id. Unknown instance: 0 with
     * *n = 0. A row that cannot be read is DURO_ECORRUPT, never skipped. */
    int (*read_history)(duro_provider *p, const char *instance, uint64_t execution_id,
                        duro_event **events, size_t *n, duro_error *err);
    /* Metadata of one instance; DURO_ENOTFOUND if it has no row. */
    int (*instance_info)(duro_provider *p, const char *instance, duro_instance_info *out,
                         duro_error *err);

    /* Wake every thread of this process blocked in fetch_orch, fetch_work or wait_commit on
     * this provider so that it returns promptly (DURO_ENOTFOUND / DURO_ETIMEDOUT). Used by
     * runtime shutdown. Required with DURO_CAP_LONG_POLL, else may be NULL. */
    void (*interrupt)(duro_provider *p);

    /* Change notification (DURO_CAP_NOTIFY, else NULL) ------------------------------------- */
    /* A counter that increases on every committed write visible to this process. */
    uint64_t (*commit_seq)(duro_provider *p);
    /* Block until commit_seq() > seq or timeout_ms passes (0: do not block; < 0: no limit).
     * Returns 0 or DURO_ETIMEDOUT. */
    int (*wait_commit)(duro_provider *p, uint64_t seq, int64_t timeout_ms);

    /* Management (DURO_CAP_MANAGEMENT, else NULL) --------------------------------------- */
    /* Instance ids, newest first; state_filter 0 = all, else a duro_state. */
    int (*list_instances)(duro_provider *p, int state_filter, char ***ids, size_t *n,
                          duro_error *err);
    int (*list_executions)(duro_provider *p, const char *instance, uint64_t **ids, size_t *n,
                           duro_error *err);
    int (*execution_info)(duro_provider *p, const char *instance, uint64_t execution_id,
                          duro_execution_info *out, duro_error *err);
    /* Direct children (instances whose parent is `instance`); unknown id gives 0 children. */
    int (*list_children)(duro_provider *p, const char *instance, char ***ids, size_t *n,
                         duro_error *err);
    /* Delete an instance and its whole tree atomically: history, executions, both queues,
     * locks. DURO_ENOTFOUND unknown; DURO_ECHILD if it has a parent; DURO_ERUNNING if any
     * instance of the tree is running and !force. A lock holder's later ack fails with
     * DURO_ELOCK and can never recreate the instance. An id with no instance row but with
     * queued orchestrator messages (a start no runtime has taken, e.g. of a name none
     * registers; orphans) is deleted too: its messages and lock go, out->messages counts
     * them, out->instances is 0; DURO_ERUNNING instead when a runtime holds its lock at
     * now_ms and !force (it is processing the start). */
    int (*delete_instance)(duro_provider *p, int64_t now_ms, const char *instance, int force,
                           duro_delete_result *out, duro_error *err);
    int (*delete_bulk)(duro_provider *p, int64_t now_ms, const duro_bulk_filter *filter,
                       duro_delete_result *out, duro_error *err);
    int (*prune)(duro_provider *p, int64_t now_ms, const char *instance,
                 const duro_prune_options *opt, duro_delete_result *out, duro_error *err);
    int (*queue_depths)(duro_provider *p, int64_t now_ms, duro_queue_depths *out,
                        duro_error *err);
    int (*metrics)(duro_provider *p, duro_metrics *out, duro_error *err);

    /* ---- Version 2 ------------------------------------------------------------------------ */

    /* Check the store's physical integrity (e.g. PRAGMA integrity_check). 0 when intact;
     * otherwise DURO_ECORRUPT (or the error of the check itself) with a NUL-terminated
     * description in msg (when msg_size > 0). Optional (NULL): callers get DURO_ENOTSUP
     * from duro_provider_integrity_check(). */
    int (*integrity_check)(duro_provider *p, char *msg, size_t msg_size);

    /* ---- Version 3 ------------------------------------------------------------------------ */

    /* Management (DURO_CAP_MANAGEMENT: required with it, else NULL) ------------------------ */
    /* The instances `q` selects, newest first (see "Queries" above), as at most q->limit
     * summaries in *rows (free with duro_instance_summaries_free); no match is 0 with
     * *rows NULL and *n 0. An invalid query is DURO_EINVAL (duro_provider_check_query). */
    int (*query_instances)(duro_provider *p, const duro_instance_query *q,
                           duro_instance_summary **rows, size_t *n, duro_error *err);
    /* ---- Version 4: routing (DURO_CAP_TAGS: required with it, else NULL) ------------------ */

    /* Enqueue `work` with `tag` (NULL = untagged, as enqueue_work). An invalid tag is
     * DURO_EINVAL / DURO_ETOOBIG (duro_provider_check_tag), nothing enqueued. */
    int (*enqueue_work_tagged)(duro_provider *p, const duro_work_in *work, const char *tag,
                               duro_error *err);
    /* fetch_work restricted to the items `filter` accepts, in the order "Tags" states. An
     * invalid filter is DURO_EINVAL (duro_provider_check_work_filter). DURO_ENOTFOUND when
     * none is available (after waiting up to poll_ms with DURO_CAP_LONG_POLL). */
    int (*fetch_work_filtered)(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                               int64_t poll_ms, const duro_work_filter *filter,
                               duro_work_item **out, duro_error *err);
    /* The work queue counted per tag at now_ms (see "Tags"): *rows (free with
     * duro_tag_depths_free) and *n. */
    int (*queue_depths_by_tag)(duro_provider *p, int64_t now_ms, duro_tag_depth **rows,
                               size_t *n, duro_error *err);

    /* ---- Version 5 ------------------------------------------------------------------------ */

    /* Durable values (DURO_CAP_KV: both required with it, else NULL) ---------------------- */
    /* The value of `key` of `instance` (*value malloc-owned) and its version (see
     * duro_kv_entry; `version` may be NULL). DURO_ENOTFOUND (retryable 0) when the instance
     * has no row or no such key; a key that is not a valid one (duro_provider_check_kv_key)
     * is DURO_EINVAL or DURO_ETOOBIG. */
    int (*get_value)(duro_provider *p, const char *instance, const char *key, char **value,
                     uint64_t *version, duro_error *err);
    /* Every value of `instance`, keys ascending in byte order (memcmp), in *entries (free
     * with duro_kv_entries_free); none is 0 with *entries NULL and *n 0. DURO_ENOTFOUND when
     * the instance has no row. */
    int (*list_values)(duro_provider *p, const char *instance, duro_kv_entry **entries,
                       size_t *n, duro_error *err);
    /* ---- Version 6: sessions (DURO_CAP_SESSIONS: both required with it, else NULL) -------- */

    /* fetch_work_filtered with the "sessions" class appended (see "Sessions"), as worker
     * `worker_id` (a valid id) that may own at most max_sessions (>= 0) sessions, taking or
     * extending leases to now + lease_ms (> 0). Invalid arguments are DURO_EINVAL, nothing
     * changed. DURO_ENOTFOUND when nothing is available (after waiting up to poll_ms with
     * DURO_CAP_LONG_POLL). */
    int (*fetch_work_session)(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                              int64_t poll_ms, const duro_work_filter *filter,
                              const char *worker_id, int64_t lease_ms, size_t max_sessions,
                              duro_work_item **out, duro_error *err);
    /* Release the idle sessions of `worker_id` (idle_ms > 0) and extend the others it owns to
     * now + lease_ms (> 0), as "Sessions" states; *owned (may be NULL) = sessions it owns
     * after. */
    int (*renew_sessions)(duro_provider *p, int64_t now_ms, const char *worker_id,
                          int64_t lease_ms, int64_t idle_ms, size_t *owned, duro_error *err);
    /* ---- Version 7 ------------------------------------------------------------------------ */

    /* Version filtering (DURO_CAP_VERSION_FILTER: both required with it, else NULL; see
     * "Version filtering" above) -------------------------------------------------------- */
    /* enqueue_orch, storing `target` (NULL, or orch_name NULL: no target) with the message
     * for routing. A target name or version longer than DURO_MAX_ID_BYTES is DURO_ETOOBIG. */
    int (*enqueue_orch_start)(duro_provider *p, const duro_msg *msg, const duro_orch_ref *target,
                              duro_error *err);
    /* fetch_orch restricted to instances whose route `filter` accepts (NULL: any). An invalid
     * filter is DURO_EINVAL (duro_provider_check_version_filter), nothing locked. */
    int (*fetch_orch_filtered)(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                               int64_t poll_ms, const duro_version_filter *filter,
                               duro_orch_item **out, duro_error *err);
} duro_provider_ops;

/* Embed as the first member of a provider implementation. */
struct duro_provider {
    const duro_provider_ops *ops;
    const char *name;   /* short display name, e.g. "sqlite" */
    unsigned caps;      /* DURO_CAP_* bits */
};

/* ---- Using a provider through its versioned vtable (libduro) ------------------------------ */

/* Check that `p` can be used: non-NULL, ops set, an ops version libduro knows the start of
 * (>= 1; a version newer than this library's is accepted and read as far as this library
 * knows), a name, and every callback a provider must have (the queue, read and destroy
 * callbacks; interrupt with DURO_CAP_LONG_POLL; commit_seq and wait_commit with
 * DURO_CAP_NOTIFY; every management callback of its version with DURO_CAP_MANAGEMENT, so
 * query_instances from version 3; the three routing callbacks with DURO_CAP_TAGS from
 * version 4; get_value and list_values with DURO_CAP_KV from version 5: below version 5 the
 * bit is ignored, values are then not supported; enqueue_orch_start and fetch_orch_filtered
 * with DURO_CAP_VERSION_FILTER from version 7, ignored below). Returns 0 or
 * DURO_EINVAL with err naming what is wrong. The runtime, the client and both suites call it
 * before they use a provider. */
DURO_EXTERN int duro_provider_check(const duro_provider *p, duro_error *err);

/* 1 when `p` routes tagged work: ops version 4 or later and DURO_CAP_TAGS; else 0. */
DURO_EXTERN int duro_provider_has_tags(const duro_provider *p);

/* 1 when `p` runs activity sessions: ops version 6 or later, DURO_CAP_SESSIONS and both of
 * its callbacks; else 0. */
DURO_EXTERN int duro_provider_has_sessions(const duro_provider *p);

/* 1 when the ops of `p` are of version `version` or later, so that the members of that
 * version may be read; else 0. */
DURO_EXTERN int duro_provider_has_version(const duro_provider *p, int version);

/* The provider's integrity_check (version 2), or DURO_ENOTSUP (msg says so) when its ops are
 * older or leave it NULL. */
DURO_EXTERN int duro_provider_integrity_check(duro_provider *p, char *msg, size_t msg_size);

/* ---- Validation every provider needs (libduro) -------------------------------------------- */

/* Each checks what can be checked without stored data and returns 0, or DURO_EINVAL
 * (retryable 0) with err naming the field; a provider calls them first and applies nothing
 * when they fail. */

/* A required id or lock token: non-NULL and non-empty, else DURO_EINVAL "<what> is
 * required". */
DURO_EXTERN int duro_provider_check_id(const char *id, const char *what, duro_error *err);
/* A message to enqueue: non-NULL, kind >= 1, non-empty instance id. */
DURO_EXTERN int duro_provider_check_msg(const duro_msg *msg, duro_error *err);
/* A work item to enqueue: non-NULL, non-empty instance id. */
DURO_EXTERN int duro_provider_check_work(const duro_work_in *work, duro_error *err);
/* A commit for ack_orch: non-NULL, execution id >= 1, an array for every non-zero count, a
 * valid state, every event with a payload and its messages, work items and work_tags
 * (version 4) valid, every durable value change valid (see step 10 of duro_orch_commit; the
 * key count is the provider's to check). An event id 0
 * or an id repeated within the commit is DURO_ECONSTRAINT (as a stored duplicate is).
 * Duplicates of events already stored are the provider's to detect. */
DURO_EXTERN int duro_provider_check_commit(const duro_orch_commit *commit, duro_error *err);
/* A query for query_instances: non-NULL, limit >= 1, state 0 or a duro_state, each from
 * bound below its before bound when both are set (0 is "no bound"; other values, negative
 * ones too, are plain times), and an after_instance that is non-empty when given. */
DURO_EXTERN int duro_provider_check_query(const duro_instance_query *q, duro_error *err);
/* A durable value key: non-NULL and non-empty (else DURO_EINVAL), at most DURO_MAX_ID_BYTES
 * bytes (else DURO_ETOOBIG), both retryable 0. */
DURO_EXTERN int duro_provider_check_kv_key(const char *key, duro_error *err);
/* A work tag (version 4): NULL (untagged) is valid; else non-empty (DURO_EINVAL) and at most
 * DURO_MAX_ID_BYTES (DURO_ETOOBIG). */
DURO_EXTERN int duro_provider_check_tag(const char *tag, duro_error *err);
/* A session id (version 6): NULL (no session) is valid; else non-empty (DURO_EINVAL) and at
 * most DURO_MAX_ID_BYTES (DURO_ETOOBIG). */
DURO_EXTERN int duro_provider_check_session(const char *session, duro_error *err);
/* A worker id of fetch_work_session or renew_sessions (version 6): non-NULL and non-empty
 * (DURO_EINVAL "<what> is required") and at most DURO_MAX_ID_BYTES (DURO_ETOOBIG). */
DURO_EXTERN int duro_provider_check_worker_id(const char *worker_id, const char *what,
                                              duro_error *err);
/* The arguments of fetch_work_session: out non-NULL (then *out = NULL), lock_ms and lease_ms
 * valid lock durations, a valid filter and worker id; else the error of the first that is
 * not (DURO_EINVAL, or DURO_ETOOBIG for a worker id too long). */
DURO_EXTERN int duro_provider_check_session_fetch(duro_work_item **out, int64_t lock_ms,
                                                  int64_t lease_ms,
                                                  const duro_work_filter *filter,
                                                  const char *worker_id, duro_error *err);
/* The verdict of delete_instance on an id without an instance row that has `queued`
 * orchestrator messages, `locked` when a runtime holds its lock now: 0 (delete them),
 * DURO_ENOTFOUND when nothing is queued, DURO_ERUNNING when locked and !force. */
DURO_EXTERN int duro_provider_delete_rowless(const char *instance, uint64_t queued, int locked,
                                             int force, duro_error *err);
/* A filter for fetch_work_filtered: non-NULL; accepts something (untagged, any_tag or a
 * tag); at most DURO_MAX_FILTER_TAGS tags, none with any_tag, each a valid non-NULL tag
 * (DURO_ETOOBIG when too long) and no tag twice. Else DURO_EINVAL naming the fault. */
DURO_EXTERN int duro_provider_check_work_filter(const duro_work_filter *filter,
                                                duro_error *err);
/* A version filter (NULL is valid: any): refs non-NULL when n > 0, each ref's name and
 * version non-NULL, non-empty and at most DURO_MAX_ID_BYTES bytes, else DURO_EINVAL. */
DURO_EXTERN int duro_provider_check_version_filter(const duro_version_filter *f,
                                                   duro_error *err);
/* A message target (NULL or orch_name NULL: none): name non-empty (else DURO_EINVAL), name
 * and version at most DURO_MAX_ID_BYTES bytes (else DURO_ETOOBIG). */
DURO_EXTERN int duro_provider_check_target(const duro_orch_ref *target, duro_error *err);
/* A lock or extend duration: > 0, else DURO_EINVAL naming `what`. */
DURO_EXTERN int duro_provider_check_lock_ms(int64_t ms, const char *what, duro_error *err);

/* ---- Ownership helpers (libduro) --------------------------------------------------------- */

/* Each frees the object and every buffer it owns; NULL is a no-op. */
DURO_EXTERN void duro_orch_item_free(duro_orch_item *item);
DURO_EXTERN void duro_work_item_free(duro_work_item *item);
DURO_EXTERN void duro_instance_info_clear(duro_instance_info *info);
DURO_EXTERN void duro_execution_info_clear(duro_execution_info *info);
DURO_EXTERN void duro_strv_free(char **v, size_t n);


/* Fill `token` (33 bytes) with 32 lowercase hex digits from the OS random source.
 * Returns 0 or DURO_EIO. */
DURO_EXTERN int duro_random_token(char token[33]);

#ifdef __cplusplus
}
#endif
#endif /* DURO_PROVIDER_H */
