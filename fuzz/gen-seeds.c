/*
 * gen-seeds.c — regenerate the seed corpora of the replay, codec and SQLite targets from
 * real turns (fuzz/build.sh builds it as OUT/gen-seeds; run `OUT/gen-seeds fuzz/corpus`).
 *
 * Replay seeds: each Flow script below (and a child and a loop instance) is driven turn by
 * turn through duro__turn_run as a runtime with instant activities would drive it: every
 * work item completes (first attempts of even activity ids fail, so retries show), timers fire, a
 * child answers, an "go" event arrives for a wait; the item before each turn is one seed.
 * Codec seeds: distinct stored payloads of those turns with their kinds. SQLite seeds: an
 * empty store and one holding an instance mid-flight, both created by duro_sqlite_open and
 * compacted to 1 KiB pages. Hand-written seeds (corrupt histories, option command lines)
 * live next to the generated ones and are left alone.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "duro-sqlite.h"
#include "fuzz.h"
#include "replay.h"

static const char *corpus;
static duro_registry *reg;
static int n_codec;

static void no_log(int level, const char *instance, const char *msg, void *ud)
{
}

static void die(const char *what)
{
    fprintf(stderr, "gen-seeds: %s\n", what);
    exit(1);
}

static FILE *open_seed(const char *target, const char *name)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", corpus, target);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/%s", corpus, target, name);
    if (!(f = fopen(path, "w")))
        die(path);
    return f;
}

/* A codec seed for every new kind of event (up to 2 per kind) and a few messages. */
static void codec_seed(int kind, const char *payload, int is_msg)
{
    static int seen[64];
    char name[64];
    FILE *f;
    int slot = (is_msg ? 32 : 0) + (kind & 31);
    if (!payload || seen[slot] >= 2 || n_codec >= 60)
        return;
    seen[slot]++;
    snprintf(name, sizeof name, "%s-%02d-%d.txt", is_msg ? "msg" : "event", kind, seen[slot]);
    f = open_seed("fuzz-codec", name);
    fprintf(f, "%d %s", kind, payload);
    fclose(f);
    n_codec++;
}

static void add_msg(duro_orch_item *it, int kind, uint64_t exec, const char *payload)
{
    duro_stored_msg *m;
    it->msgs = realloc(it->msgs, (it->n_msgs + 1) * sizeof *it->msgs);
    if (!it->msgs)
        die("out of memory");
    m = &it->msgs[it->n_msgs++];
    memset(m, 0, sizeof *m);
    m->id = (int64_t)it->n_msgs;
    m->kind = kind;
    m->execution_id = exec;
    m->payload = strdup(payload);
}

/* The messages a runtime with instant activities and children would fetch next. */
static void answers(duro_orch_item *next, const duro__turn *t)
{
    const duro_orch_commit *c = &t->commit;
    char buf[256];
    size_t i;
    for (i = 0; i < c->n_work; i++) {
        duro__rec w;
        if (duro__rec_decode(c->work[i].payload, 0, 0, &w, NULL) != 0)
            continue;
        if (w.attempt == 1 && c->work[i].activity_id % 2 == 0)
            snprintf(buf, sizeof buf, "{\"src\":%llu,\"ok\":0,\"category\":3,\"text\":\"boom\"}",
                     (unsigned long long)c->work[i].activity_id);
        else
            snprintf(buf, sizeof buf, "{\"src\":%llu,\"ok\":1,\"text\":\"r%llu\"}",
                     (unsigned long long)c->work[i].activity_id,
                     (unsigned long long)c->work[i].activity_id);
        add_msg(next, DURO_MSG_ACTIVITY_DONE, c->execution_id, buf);
        duro__rec_clear(&w);
    }
    for (i = 0; i < c->n_msgs; i++) {
        const duro_msg *m = &c->msgs[i];
        duro__rec r;
        if (duro__rec_decode(m->payload, m->kind, 0, &r, NULL) != 0)
            continue;
        codec_seed(m->kind, m->payload, 1);
        if (strcmp(m->instance, FZ_INSTANCE) == 0 &&
            (m->kind == DURO_MSG_TIMER_FIRED || m->kind == DURO_MSG_CONTINUE_AS_NEW))
            add_msg(next, m->kind, m->execution_id, m->payload);
        else if (m->kind == DURO_MSG_START && r.parent) {
            snprintf(buf, sizeof buf, "{\"src\":%llu,\"ok\":1,\"text\":\"child-ok\"}",
                     (unsigned long long)r.pid);
            add_msg(next, DURO_MSG_CHILD_DONE, r.pexec, buf);
        }
        duro__rec_clear(&r);
    }
    for (i = 0; i < c->n_events; i++) {
        codec_seed(c->events[i].kind, c->events[i].payload, 0);
        if (c->events[i].kind == DURO_EVENT_EXTERNAL_WAIT)
            add_msg(next, DURO_MSG_EVENT, 0, "{\"name\":\"go\",\"text\":\"hello\"}");
    }
}

/* Drive one instance from its start message; write the item before each turn. */
static void drive(const char *seed, const char *start)
{
    duro_orch_item *it = calloc(1, sizeof *it);
    int turn;
    if (!it)
        die("out of memory");
    it->instance = strdup(FZ_INSTANCE);
    it->attempt = 1;
    it->execution_id = 1;
    add_msg(it, DURO_MSG_START, 0, start);
    for (turn = 0; turn < 10; turn++) {
        char name[96];
        FILE *f;
        duro__turn t;
        duro_orch_item *next;
        snprintf(name, sizeof name, "%s-%d.txt", seed, turn);
        f = open_seed("fuzz-replay", name);
        fz_item_print(f, it);
        fclose(f);
        if (duro__turn_run(reg, it, FZ_NOW, no_log, NULL, &t) != 0)
            die("turn failed");
        if (t.action != DURO__TURN_COMMIT || !(next = fz_item_after(it, &t.commit))) {
            duro__turn_free(&t);
            break;
        }
        answers(next, &t);
        duro__turn_free(&t);
        duro_orch_item_free(it);
        it = next;
        if (it->n_msgs == 0)
            break;
    }
    duro_orch_item_free(it);
}

static void replay_seeds(void)
{
    static const char *const scripts[] = {"a", "rr", "pt", "w", "e", "sS", "dngxul",
                                          "k", "v", "aF", "f", "ca", "ree"};
    char name[64], start[128];
    size_t i;
    for (i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        snprintf(name, sizeof name, "flow-%s", scripts[i]);
        snprintf(start, sizeof start, "{\"name\":\"Flow\",\"input\":\"%s\"}", scripts[i]);
        drive(name, start);
    }
    drive("child-v1", "{\"name\":\"Child\",\"version\":\"1.0.0\",\"input\":\"x\","
                      "\"parent\":\"p\",\"pexec\":1,\"pid\":2}");
    drive("child-v2", "{\"name\":\"Child\",\"input\":\"2\",\"parent\":\"p\",\"pexec\":1,"
                      "\"pid\":3}");
    drive("loop", "{\"name\":\"Loop\",\"input\":\"1\"}");
}

/* ---- SQLite stores ------------------------------------------------------------------------ */

static void sql(sqlite3 *db, const char *q)
{
    if (sqlite3_exec(db, q, NULL, NULL, NULL) != SQLITE_OK)
        die(sqlite3_errmsg(db));
}

/* Rewrite `path` with 1 KiB pages (smaller seeds), still in WAL mode, and copy it to the
 * corpus as `name`. */
static void compact_copy(const char *path, const char *name)
{
    sqlite3 *db;
    FILE *in, *out;
    char buf[4096];
    size_t n;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("sqlite3_open");
    sql(db, "PRAGMA journal_mode=DELETE; PRAGMA page_size=1024; VACUUM; "
            "PRAGMA journal_mode=WAL;");
    sqlite3_close(db);
    if (!(in = fopen(path, "rb")))
        die(path);
    out = open_seed("fuzz-sqlite-open", name);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
}

static void remove_store(const char *path)
{
    char buf[4200];
    unlink(path);
    snprintf(buf, sizeof buf, "%s-wal", path);
    unlink(buf);
    snprintf(buf, sizeof buf, "%s-shm", path);
    unlink(buf);
}

/* Two turns of Flow "ae" and one activity: history, a work item done, a message queued. */
static void fill(duro_provider *p)
{
    duro_error err = {0};
    duro_msg start = {FZ_INSTANCE, DURO_MSG_START, 0, 0, "{\"name\":\"Flow\",\"input\":\"ae\"}"};
    duro_msg go = {FZ_INSTANCE, DURO_MSG_EVENT, 0, 0, "{\"name\":\"go\",\"text\":\"hi\"}"};
    int round;
    if (p->ops->enqueue_orch(p, &start, &err) != 0)
        die(err.message);
    for (round = 0; round < 2; round++) {
        duro_orch_item *it = NULL;
        duro_work_item *w = NULL;
        duro__turn t;
        if (p->ops->fetch_orch(p, FZ_NOW, 30000, 0, &it, &err) != 0)
            die(err.message);
        if (duro__turn_run(reg, it, FZ_NOW, no_log, NULL, &t) != 0 ||
            p->ops->ack_orch(p, FZ_NOW, it->lock_token, &t.commit, &err) != 0)
            die("turn");
        duro__turn_free(&t);
        duro_orch_item_free(it);
        if (p->ops->fetch_work(p, FZ_NOW, 30000, 0, &w, &err) == 0) {
            char done[128];
            duro_msg m = {w->instance, DURO_MSG_ACTIVITY_DONE, w->execution_id, 0, done};
            snprintf(done, sizeof done, "{\"src\":%llu,\"ok\":1,\"text\":\"r\"}",
                     (unsigned long long)w->activity_id);
            if (p->ops->ack_work(p, FZ_NOW, w->lock_token, &m, &err) != 0)
                die(err.message);
            duro_work_item_free(w);
        }
    }
    if (p->ops->enqueue_orch(p, &go, &err) != 0)
        die(err.message);
}

static void sqlite_seeds(void)
{
    char path[4096];
    const char *tmp = getenv("TMPDIR");
    duro_provider *p;
    duro_error err = {0};
    snprintf(path, sizeof path, "%s/duro-gen-seeds-%ld.db", tmp && *tmp ? tmp : "/tmp",
             (long)getpid());
    remove_store(path);
    if (duro_sqlite_open(path, NULL, &p, &err) != 0)
        die(err.message);
    duro_provider_destroy(p);
    compact_copy(path, "empty.db");
    remove_store(path);
    if (duro_sqlite_open(path, NULL, &p, &err) != 0)
        die(err.message);
    fill(p);
    duro_provider_destroy(p);
    compact_copy(path, "in-flight.db");
    remove_store(path);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen-seeds CORPUS-DIRECTORY (fuzz/corpus)\n");
        return 2;
    }
    corpus = argv[1];
    mkdir(corpus, 0777);
    if (!(reg = fz_registry()))
        die("out of memory");
    replay_seeds();
    sqlite_seeds();
    duro_registry_free(reg);
    printf("gen-seeds: wrote the replay, codec and sqlite seeds under %s\n", corpus);
    return 0;
}
