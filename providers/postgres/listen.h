/*
 * listen.h — the LISTEN/NOTIFY listener of the PostgreSQL provider: one thread on a dedicated
 * connection that LISTENs on the schema's channel and turns every notification from another
 * provider object (this process or another) into a wake-up of this process's waiters
 * (notify.h). While it is connected, long polls re-check the database only every recheck_ms
 * (a safety net); while it is not (server down, connection killed), every 50 ms, and each
 * reconnect wakes every waiter once, since notifications sent meanwhile are lost.
 */
#ifndef DURO_PG_LISTEN_H
#define DURO_PG_LISTEN_H

#include <pthread.h>

#include "conn.h"
#include "duro-notify.h"

typedef struct duro__pg_listener {
    pthread_t thread;
    int started;
    int stop_pipe[2];              /* written by stop: ends the thread's poll() */
    duro__pg_conn conn;
    const duro__pg_conn_settings *set;  /* borrowed */
    const char *channel;           /* borrowed */
    const char *sender;            /* this provider's sender id: its own notes are skipped */
    int64_t recheck_ms;
    duro__notifier *notes;         /* borrowed */
    int connected;                 /* LISTEN is active (read by tests through the provider) */
} duro__pg_listener;

/* Start the listener thread. Returns 0 or DURO_ENOMEM / DURO_EIO (thread or pipe). */
int duro__pg_listener_start(duro__pg_listener *l, const duro__pg_conn_settings *set,
                            const char *channel, const char *sender, int64_t recheck_ms,
                            duro__notifier *notes, duro_error *err);
/* Stop and join the thread, close its connection. No-op when it was never started. */
void duro__pg_listener_stop(duro__pg_listener *l);

#endif /* DURO_PG_LISTEN_H */
