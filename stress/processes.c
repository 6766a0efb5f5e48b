/*
 * processes.c — duro-stress --processes: runtimes in child processes that share the store
 * with the driver, and --kill-every: SIGKILL one of them mid-run and start a fresh one.
 *
 * Every child is forked before the driver creates the store and while it has no other
 * thread, so a child inherits neither a lock nor the state of an open database (SQLite must
 * not be used across fork): the running ones and the spares that replace killed ones. A child
 * waits on its control pipe for the store's locator, opens its own handle through the
 * factory's attach hook (behind a fault wrapper when faults are injected), runs a runtime on
 * it, and writes every terminal event to its result pipe as a frame. It shuts down gracefully
 * when its control pipe reaches end of file, writing its runtime's metrics snapshot
 * (duro_runtime_metrics) as one last frame first; a killed child's snapshot is lost. A spare that is never needed exits on that end of
 * file without opening the store. The parent reads every result pipe on one thread and hands
 * each complete frame to the run's terminal observer; a frame cut short by a kill is dropped
 * (the run's status sweep finds such instances in the store).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress.h"

/* Fixed part of a frame; the instance id and the output follow it. A terminal frame has
 * the event's state; a metrics frame has state FRAME_METRICS, no instance, and the child's
 * duro_runtime_metrics (the same binary on both sides of fork) as its output bytes. */
#define FRAME_METRICS (-1)
typedef struct frame_head {
    int32_t state;
    int32_t category;
    uint64_t execution_id;
    uint32_t instance_len;
    uint32_t output_len;
} frame_head;

typedef struct child {
    pid_t pid;
    int control;          /* parent: write end; closing it stops the child */
    int result;           /* parent: read end of the terminal frames */
    int state;            /* 0 spare, 1 running, 2 killed (and reaped at once) */
    char *buf;            /* unparsed bytes read from `result` */
    size_t len, cap;
} child;

struct duro__procs {
    const duro_provider_factory *factory;
    duro_fault_options faults; /* the children's fault wrapper, when has_faults */
    int has_faults;
    char *locator;        /* the store, once duro__procs_go named it */
    child *kids;
    int n_kids;
    int next_spare;       /* index of the next spare to start */
    int next_victim;      /* index of the next running child to kill */
    uint64_t killed;
    long max_rss_kb;      /* largest ru_maxrss of a reaped child, -1 before the first */
    duro__terminal_fn on_terminal;
    duro__metrics_fn on_metrics;
    duro__sweep_fn sweep;
    void *ud;
    int wake[2];          /* self-pipe: closing wake[1] stops the reader */
    pthread_t reader;
    int reader_running;
};

/* ---- Child side ------------------------------------------------------------------------- */

static int child_result_fd = -1;
static pthread_mutex_t child_write_mu = PTHREAD_MUTEX_INITIALIZER;

static int write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Send the metrics snapshot of `rt` to the parent as a FRAME_METRICS frame. */
static void child_send_metrics(duro_runtime *rt)
{
    duro_runtime_metrics m;
    duro_runtime_metrics_init(&m);
    if (duro_runtime_metrics_get(rt, &m, NULL) != 0)
        return;
    frame_head h = {FRAME_METRICS, 0, 0, 0, (uint32_t)sizeof m};
    pthread_mutex_lock(&child_write_mu);
    if (write_all(child_result_fd, &h, sizeof h) != 0 ||
        write_all(child_result_fd, &m, sizeof m) != 0)
        _exit(4); /* the parent is gone */
    pthread_mutex_unlock(&child_write_mu);
}

/* The child's terminal observer: one frame per event, whole frames only (runtime threads
 * report concurrently). */
static void child_on_terminal(const duro_terminal_event *ev, void *ud)
{
    (void)ud;
    const char *out = ev->output != NULL ? ev->output : "";
    frame_head h = {ev->state, ev->category, ev->execution_id, (uint32_t)strlen(ev->instance),
                    (uint32_t)strlen(out)};
    pthread_mutex_lock(&child_write_mu);
    if (write_all(child_result_fd, &h, sizeof h) != 0 ||
        write_all(child_result_fd, ev->instance, h.instance_len) != 0 ||
        write_all(child_result_fd, out, h.output_len) != 0)
        _exit(4); /* the parent is gone */
    pthread_mutex_unlock(&child_write_mu);
}

static void child_on_log(int level, const char *instance, const char *message, void *ud)
{
    (void)ud;
    if (level >= 1 && strstr(message, DURO_FAULT_SIGNATURE) == NULL) /* not ours on purpose */
        fprintf(stderr, "duro-stress: child %ld: runtime %s%s%s: %s\n", (long)getpid(),
                level >= 2 ? "error" : "warning", instance != NULL ? " on " : "",
                instance != NULL ? instance : "", message);
}

static int read_all(int fd, void *data, size_t n)
{
    char *p = data;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Never returns. Exit status: 0 stopped (or spare not needed), 3 could not attach or start. */
static void child_main(const duro_provider_factory *f, const duro_registry *reg,
                       const duro_runtime_options *base, const duro_fault_options *faults,
                       int control, int result)
{
    uint32_t len;
    char locator[4096], go;
    ssize_t n;
    if (read_all(control, &len, sizeof len) != 0 || len >= sizeof locator ||
        read_all(control, locator, len) != 0)
        _exit(0);
    locator[len] = '\0';
    signal(SIGPIPE, SIG_IGN);
    child_result_fd = result;
    duro_runtime_options opt = *base;
    opt.on_terminal = child_on_terminal;
    opt.on_terminal_ud = NULL;
    opt.log = child_on_log;
    opt.log_ud = NULL;
    duro_provider *h = NULL, *w = NULL;
    duro_runtime *rt = NULL;
    duro_error err = {0};
    if (f->attach(f->ud, locator, &h, &err) != 0 ||
        (faults != NULL && duro_fault_wrap(h, faults, &w, &err) != 0)) {
        fprintf(stderr, "duro-stress: child %ld: cannot open the store: %s\n", (long)getpid(),
                err.message);
        _exit(3);
    }
    if (duro_runtime_start(w != NULL ? w : h, reg, &opt, &rt, &err) != 0) {
        fprintf(stderr, "duro-stress: child %ld: the runtime did not start: %s\n",
                (long)getpid(), err.message);
        _exit(3);
    }
    do
        n = read(control, &go, 1);
    while (n != 0 && (n > 0 || errno == EINTR));
    child_send_metrics(rt);
    duro_runtime_shutdown(rt);
    duro_provider_destroy(w);
    duro_provider_destroy(h);
    _exit(0);
}

/* ---- Parent side ------------------------------------------------------------------------ */

/* Parse every complete frame in k's buffer and report it. */
static void parse_frames(duro__procs *ps, child *k)
{
    size_t off = 0;
    while (k->len - off >= sizeof(frame_head)) {
        frame_head h;
        memcpy(&h, k->buf + off, sizeof h);
        size_t need = sizeof h + (size_t)h.instance_len + (size_t)h.output_len;
        if (k->len - off < need)
            break;
        if (h.state == FRAME_METRICS) {
            duro_runtime_metrics m;
            if (h.instance_len == 0 && h.output_len == sizeof m && ps->on_metrics != NULL) {
                memcpy(&m, k->buf + off + sizeof h, sizeof m);
                ps->on_metrics(&m, ps->ud);
            }
            off += need;
            continue;
        }
        char *inst = malloc((size_t)h.instance_len + 1);
        char *out = malloc((size_t)h.output_len + 1);
        if (inst != NULL && out != NULL) {
            memcpy(inst, k->buf + off + sizeof h, h.instance_len);
            inst[h.instance_len] = '\0';
            memcpy(out, k->buf + off + sizeof h + h.instance_len, h.output_len);
            out[h.output_len] = '\0';
            duro_terminal_event ev = {.instance = inst, .execution_id = h.execution_id,
                                      .state = h.state, .output = out,
                                      .category = h.category};
            ps->on_terminal(&ev, ps->ud);
        }
        free(inst);
        free(out);
        off += need;
    }
    memmove(k->buf, k->buf + off, k->len - off);
    k->len -= off;
}

/* Stop reading child k: close its pipe and drop an unfinished frame. Returns -1. */
static int close_child(child *k)
{
    close(k->result);
    k->result = -1;
    k->len = 0;
    return -1;
}

/* Read what child k has written; 0 while its pipe is open, -1 at end of file, on an error,
 * or when memory runs out (the pipe is then closed; the run's sweep finds what it held). */
static int drain_child(duro__procs *ps, child *k)
{
    for (;;) {
        if (k->cap - k->len < 65536) {
            size_t cap = k->cap ? k->cap * 2 : 131072;
            char *b = realloc(k->buf, cap);
            if (b == NULL)
                return close_child(k);
            k->buf = b;
            k->cap = cap;
        }
        ssize_t r = read(k->result, k->buf + k->len, k->cap - k->len);
        if (r > 0) {
            k->len += (size_t)r;
            parse_frames(ps, k);
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return 0;
        return close_child(k);
    }
}

#define SWEEP_PERIOD_MS 200

static void *reader_main(void *arg)
{
    duro__procs *ps = arg;
    struct pollfd *fds = calloc((size_t)ps->n_kids + 1, sizeof *fds);
    int *who = calloc((size_t)ps->n_kids + 1, sizeof *who);
    if (fds == NULL || who == NULL) {
        free(fds);
        free(who);
        return NULL;
    }
    for (;;) {
        int n = 0;
        fds[n].fd = ps->wake[0];
        fds[n++].events = POLLIN;
        for (int i = 0; i < ps->n_kids; i++)
            if (ps->kids[i].result >= 0) {
                fds[n].fd = ps->kids[i].result;
                fds[n].events = POLLIN;
                who[n++] = i;
            }
        int r = poll(fds, (nfds_t)n, SWEEP_PERIOD_MS);
        if (r < 0 && errno != EINTR)
            break;
        for (int j = 1; r > 0 && j < n; j++)
            if (fds[j].revents != 0)
                drain_child(ps, &ps->kids[who[j]]);
        if (r > 0 && fds[0].revents != 0)
            break;
        if (ps->sweep != NULL)
            ps->sweep(ps->ud);
    }
    free(fds);
    free(who);
    return NULL;
}

/* Tell child k to open the store and start its runtime. */
static int start_child(duro__procs *ps, child *k)
{
    uint32_t len = (uint32_t)strlen(ps->locator);
    if (write_all(k->control, &len, sizeof len) != 0 ||
        write_all(k->control, ps->locator, len) != 0)
        return -1;
    k->state = 1;
    return 0;
}

static int fork_child(const duro_registry *reg, const duro_runtime_options *opt,
                      duro__procs *ps, int i)
{
    int control[2], result[2];
    if (pipe(control) != 0)
        return -1;
    if (pipe(result) != 0) {
        close(control[0]);
        close(control[1]);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(control[0]);
        close(control[1]);
        close(result[0]);
        close(result[1]);
        return -1;
    }
    if (pid == 0) {
        /* only this child's own ends stay open: a sibling's control pipe must reach end of
         * file when the parent closes it */
        for (int j = 0; j < i; j++) {
            close(ps->kids[j].control);
            close(ps->kids[j].result);
        }
        close(control[1]);
        close(result[0]);
        close(ps->wake[0]);
        close(ps->wake[1]);
        child_main(ps->factory, reg, opt, ps->has_faults ? &ps->faults : NULL, control[0],
                   result[1]);
    }
    close(control[0]);
    close(result[1]);
    ps->kids[i] = (child){.pid = pid, .control = control[1], .result = result[0]};
    int fl = fcntl(result[0], F_GETFL);
    fcntl(result[0], F_SETFL, fl | O_NONBLOCK);
    return 0;
}

int duro__procs_fork(const duro_provider_factory *f, const duro_registry *reg,
                     const duro_runtime_options *opt, const duro_fault_options *faults,
                     int running, int spares,
                     duro__terminal_fn on_terminal, duro__metrics_fn on_metrics,
                     duro__sweep_fn sweep, void *ud, duro__procs **out, duro_error *err)
{
    *out = NULL;
    if (f->attach == NULL || f->locate == NULL)
        return duro_error_set(err, DURO_ENOTSUP, 0, "provider %s has no attach hook", f->name);
    duro__procs *ps = calloc(1, sizeof *ps);
    if (ps == NULL || (ps->kids = calloc((size_t)(running + spares), sizeof *ps->kids)) == NULL) {
        free(ps);
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory");
    }
    ps->factory = f;
    ps->max_rss_kb = -1;
    if (faults != NULL) {
        ps->faults = *faults;
        ps->has_faults = 1;
    }
    ps->on_terminal = on_terminal;
    ps->on_metrics = on_metrics;
    ps->sweep = sweep;
    ps->ud = ud;
    ps->next_spare = running;
    if (pipe(ps->wake) != 0) {
        free(ps->kids);
        free(ps);
        return duro_error_set(err, DURO_EIO, 1, "cannot create a pipe");
    }
    for (int i = 0; i < running + spares; i++) {
        if (fork_child(reg, opt, ps, i) != 0) {
            duro__procs_stop(ps, NULL);
            return duro_error_set(err, DURO_EIO, 1, "cannot start child process %d", i + 1);
        }
        ps->n_kids++;
    }
    if (pthread_create(&ps->reader, NULL, reader_main, ps) != 0) {
        duro__procs_stop(ps, NULL);
        return duro_error_set(err, DURO_EIO, 1, "cannot start the result reader");
    }
    ps->reader_running = 1;
    *out = ps;
    return 0;
}

int duro__procs_go(duro__procs *ps, duro_provider *store, duro_error *err)
{
    char locator[4096];
    int rc = ps->factory->locate(ps->factory->ud, store, locator, sizeof locator);
    if (rc != 0)
        return duro_error_set(err, rc, 0, "provider %s cannot name its store: %s",
                              ps->factory->name, duro_strerror(rc));
    if ((ps->locator = strdup(locator)) == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory");
    for (int i = 0; i < ps->next_spare; i++)
        if (start_child(ps, &ps->kids[i]) != 0)
            return duro_error_set(err, DURO_EIO, 1, "child process %d did not start", i + 1);
    return 0;
}

/* Wait for child `pid` and keep its peak RSS in ps->max_rss_kb. */
static void reap(duro__procs *ps, pid_t pid)
{
    struct rusage ru;
    int st;
    pid_t got;

    while ((got = wait4(pid, &st, 0, &ru)) < 0 && errno == EINTR)
        ;
    if (got == pid && ru.ru_maxrss > ps->max_rss_kb)
        ps->max_rss_kb = ru.ru_maxrss;
}

int duro__procs_kill_one(duro__procs *ps)
{
    for (int tries = 0; tries < ps->n_kids; tries++) {
        child *k = &ps->kids[ps->next_victim];
        ps->next_victim = (ps->next_victim + 1) % ps->n_kids;
        if (k->state != 1)
            continue;
        if (ps->next_spare >= ps->n_kids)
            return -1; /* nothing would replace it */
        kill(k->pid, SIGKILL);
        reap(ps, k->pid); /* now: a long run with many kills leaves no zombies */
        k->state = 2;
        ps->killed++;
        return start_child(ps, &ps->kids[ps->next_spare++]);
    }
    return -1;
}

uint64_t duro__procs_killed(const duro__procs *ps)
{
    return ps->killed;
}

void duro__procs_stop(duro__procs *ps, long *max_rss_kb)
{
    if (ps == NULL)
        return;
    for (int i = 0; i < ps->n_kids; i++) {
        close(ps->kids[i].control); /* running children shut down, spares exit */
        ps->kids[i].control = -1;
    }
    for (int i = 0; i < ps->n_kids; i++)
        if (ps->kids[i].state != 2)
            reap(ps, ps->kids[i].pid);
    if (max_rss_kb != NULL)
        *max_rss_kb = ps->max_rss_kb;
    if (ps->reader_running) {
        close(ps->wake[1]);
        ps->wake[1] = -1;
        pthread_join(ps->reader, NULL);
    }
    /* frames written before a child exited are still in its pipe */
    for (int i = 0; i < ps->n_kids; i++) {
        while (ps->kids[i].result >= 0 && drain_child(ps, &ps->kids[i]) == 0)
            ;
        free(ps->kids[i].buf);
    }
    if (ps->wake[0] >= 0)
        close(ps->wake[0]);
    if (ps->wake[1] >= 0)
        close(ps->wake[1]);
    free(ps->locator);
    free(ps->kids);
    free(ps);
}
