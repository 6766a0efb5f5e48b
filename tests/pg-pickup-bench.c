/*
 * pg-pickup-bench.c — measures how fast an idle PostgreSQL fetcher picks up new work: one
 * provider object long-polls fetch_work in a thread, a second one (standing in for another
 * process, so the wake-up goes through NOTIFY and the listener) enqueues a work item; the
 * pick-up time is from enqueue_work's return (its commit) to fetch_work's return. Not a test
 * (make check does not run it): a measurement for docs/postgres.md "Measuring".
 *
 *   make tests/pg-pickup-bench
 *   DURO_PG_CONNINFO=... tests/pg-pickup-bench [ROUNDS]
 *
 * Prints P50, P90 and max in milliseconds. Between rounds it pauses 20 ms so that the fetcher
 * is asleep in its long poll when the next item arrives (what is measured is the idle wake-up).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "duro-postgres.h"
#include "duro-provider.h"

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

typedef struct bench {
    duro_provider *fetcher;
    int rounds;
    double *fetched_at;            /* per round: when fetch_work returned */
    int failed;
} bench;

static void *fetch_loop(void *arg)
{
    bench *b = arg;

    for (int i = 0; i < b->rounds; i++) {
        duro_work_item *w = NULL;
        duro_error err = { 0 };
        int rc = b->fetcher->ops->fetch_work(b->fetcher, 0, 60000, 10000, &w, &err);

        b->fetched_at[i] = now_ms();
        if (rc != 0 || b->fetcher->ops->ack_work(b->fetcher, 0, w->lock_token, NULL, &err) != 0) {
            fprintf(stderr, "pg-pickup-bench: round %d: %s\n", i, err.message);
            b->failed = 1;
            duro_work_item_free(w);
            return NULL;
        }
        duro_work_item_free(w);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *conninfo = getenv("DURO_PG_CONNINFO");
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    double *enqueued_at = calloc((size_t)(rounds > 0 ? rounds : 1), sizeof(double));
    double *pickup = calloc((size_t)(rounds > 0 ? rounds : 1), sizeof(double));
    bench b = { NULL, rounds, calloc((size_t)(rounds > 0 ? rounds : 1), sizeof(double)), 0 };
    duro_postgres_options opt;
    duro_provider *producer = NULL;
    duro_error err = { 0 };
    char schema[64];
    pthread_t t;

    if (conninfo == NULL || rounds <= 0 || enqueued_at == NULL || pickup == NULL ||
        b.fetched_at == NULL) {
        fprintf(stderr, "usage: DURO_PG_CONNINFO=... pg-pickup-bench [ROUNDS > 0]\n");
        return 2;
    }
    snprintf(schema, sizeof schema, "duro_pickup_%ld", (long)getpid());
    duro_postgres_options_init(&opt);
    opt.schema = schema;
    if (duro_postgres_open(conninfo, &opt, &b.fetcher, &err) != 0 ||
        duro_postgres_open(conninfo, &opt, &producer, &err) != 0) {
        fprintf(stderr, "pg-pickup-bench: %s\n", err.message);
        return 1;
    }
    if (pthread_create(&t, NULL, fetch_loop, &b) != 0) {
        fprintf(stderr, "pg-pickup-bench: cannot start the fetcher thread\n");
        return 1;
    }
    for (int i = 0; i < rounds && !b.failed; i++) {
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        duro_work_in w = { "pickup", 1, (uint64_t)i + 1, "x" };

        nanosleep(&pause, NULL); /* the workload: the fetcher idles in its long poll */
        if (producer->ops->enqueue_work(producer, &w, &err) != 0) {
            fprintf(stderr, "pg-pickup-bench: enqueue: %s\n", err.message);
            b.failed = 1;
            break;
        }
        enqueued_at[i] = now_ms();
    }
    pthread_join(t, NULL);
    if (!b.failed) {
        for (int i = 0; i < rounds; i++)
            pickup[i] = b.fetched_at[i] > enqueued_at[i] ? b.fetched_at[i] - enqueued_at[i] : 0;
        qsort(pickup, (size_t)rounds, sizeof(double), cmp_double);
        printf("pick-up over %d rounds: P50 %.2f ms, P90 %.2f ms, max %.2f ms\n", rounds,
               pickup[rounds / 2], pickup[rounds * 9 / 10], pickup[rounds - 1]);
    }
    duro_provider_destroy(producer);
    duro_provider_destroy(b.fetcher);
    duro_postgres_drop_schema(conninfo, schema, &err);
    free(enqueued_at);
    free(pickup);
    free(b.fetched_at);
    return b.failed;
}
