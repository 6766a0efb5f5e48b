/*
 * listen.c — the LISTEN/NOTIFY listener thread of the PostgreSQL provider (see listen.h).
 */
#include "listen.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DISCONNECTED_RECHECK_MS 50
#define RECONNECT_WAIT_MS 200
#define IDLE_PING_MS 5000

/* Wait up to `ms` for the stop pipe (and `fd` when >= 0). Returns 1 when stopping. */
static int wait_fds(duro__pg_listener *l, int fd, int ms, int *readable)
{
    struct pollfd p[2] = { { l->stop_pipe[0], POLLIN, 0 }, { fd, POLLIN, 0 } };
    int n = poll(p, fd >= 0 ? 2 : 1, ms);

    *readable = 0;
    if (n > 0 && (p[0].revents & POLLIN))
        return 1;
    if (n > 0 && fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
        *readable = 1;
    return 0;
}

static int do_listen(duro__pg_listener *l)
{
    char sql[128];

    if (duro__pg_conn_open(&l->conn, l->set, NULL) != 0)
        return -1;
    snprintf(sql, sizeof sql, "LISTEN \"%s\"", l->channel);
    if (duro__pg_simple(&l->conn, sql, NULL) != 0) {
        duro__pg_conn_close(&l->conn);
        return -1;
    }
    return 0;
}

/* Hand one notification's payload "notes:sender" to the notifier, unless it is ours. */
static void deliver(duro__pg_listener *l, const char *payload)
{
    char *end;
    unsigned long notes = strtoul(payload, &end, 10);

    if (*end == ':' && strcmp(end + 1, l->sender) == 0)
        return;
    duro__notify(l->notes, (unsigned)notes & (DURO__NOTE_ORCH | DURO__NOTE_WORK));
}

static void *listener_main(void *arg)
{
    duro__pg_listener *l = arg;
    int readable;

    for (;;) {
        if (!l->connected) {
            if (do_listen(l) == 0) {
                l->connected = 1;
                duro__notify_set_recheck(l->notes, l->recheck_ms);
                /* notifications sent while we were away are lost: everybody re-checks */
                duro__notify(l->notes, DURO__NOTE_ORCH | DURO__NOTE_WORK);
            } else {
                duro__notify_set_recheck(l->notes, DISCONNECTED_RECHECK_MS);
                if (wait_fds(l, -1, RECONNECT_WAIT_MS, &readable))
                    break;
                continue;
            }
        }
        if (wait_fds(l, PQsocket(l->conn.pg), IDLE_PING_MS, &readable))
            break;
        if (!readable) {
            /* quiet for a while: make sure the connection is still there */
            if (duro__pg_simple(&l->conn, "SELECT 1", NULL) == 0)
                continue;
        } else if (PQconsumeInput(l->conn.pg) == 1) {
            PGnotify *nt;
            while ((nt = PQnotifies(l->conn.pg)) != NULL) {
                deliver(l, nt->extra != NULL ? nt->extra : "3");
                PQfreemem(nt);
            }
            if (PQstatus(l->conn.pg) == CONNECTION_OK)
                continue;
        }
        duro__pg_conn_close(&l->conn);
        l->connected = 0;
        duro__notify_set_recheck(l->notes, DISCONNECTED_RECHECK_MS);
    }
    duro__pg_conn_close(&l->conn);
    l->connected = 0;
    return NULL;
}

int duro__pg_listener_start(duro__pg_listener *l, const duro__pg_conn_settings *set,
                            const char *channel, const char *sender, int64_t recheck_ms,
                            duro__notifier *notes, duro_error *err)
{
    memset(l, 0, sizeof *l);
    l->set = set;
    l->channel = channel;
    l->sender = sender;
    l->recheck_ms = recheck_ms;
    l->notes = notes;
    if (pipe(l->stop_pipe) != 0)
        return duro_error_set(err, DURO_EIO, 0, "listener: pipe: %s", strerror(errno));
    fcntl(l->stop_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(l->stop_pipe[1], F_SETFD, FD_CLOEXEC);
    /* connect once here, so that a provider that opened has its listener from the start */
    if (do_listen(l) == 0) {
        l->connected = 1;
        duro__notify_set_recheck(notes, recheck_ms);
    }
    if (pthread_create(&l->thread, NULL, listener_main, l) != 0) {
        duro__pg_conn_close(&l->conn);
        close(l->stop_pipe[0]);
        close(l->stop_pipe[1]);
        return duro_error_set(err, DURO_ENOMEM, 0, "listener: cannot start its thread");
    }
    l->started = 1;
    return 0;
}

void duro__pg_listener_stop(duro__pg_listener *l)
{
    if (!l->started)
        return;
    if (write(l->stop_pipe[1], "x", 1) < 0) {
        /* the thread still ends at its next wake-up */
    }
    pthread_join(l->thread, NULL);
    close(l->stop_pipe[0]);
    close(l->stop_pipe[1]);
    l->started = 0;
}
