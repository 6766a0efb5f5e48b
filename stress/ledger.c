/*
 * ledger.c — the ledgers of duro-stress --role: what happened where, as plain text.
 *
 * One line per event, each appended with one write(2) to a file opened with O_APPEND, so the
 * lines of concurrent threads and processes never interleave and a process killed with
 * SIGKILL has lost no line it wrote. A runtime's ledger has a line per activity execution and
 * per end it committed; the driver's, a line per root started and per end read.
 * tests/netns-scaleout.sh counts re-runs and take-overs from them (docs/stress.md, "Runs
 * across machines").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stress.h"

int duro__ledger_open(const char *path, duro_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        duro_error_set(err, DURO_EIO, 0, "cannot open the ledger %s: %s", path,
                       strerror(errno));
    return fd;
}

void duro__ledger(int fd, const char *fmt, ...)
{
    if (fd < 0)
        return;
    char line[512];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int n = snprintf(line, sizeof line, "%lld.%03ld ",
                     (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
                     (ts.tv_nsec / 1000) % 1000);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + ((size_t)m < sizeof line - (size_t)n - 1
                                  ? (size_t)m
                                  : sizeof line - (size_t)n - 2);
    line[len++] = '\n';
    ssize_t w;
    do
        w = write(fd, line, len);
    while (w < 0 && errno == EINTR);
}
