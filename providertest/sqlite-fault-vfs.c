/*
 * sqlite-fault-vfs.c — real storage faults for the "sqlite-file" factory's fail_storage hook.
 *
 * A SQLite VFS that passes every call to the VFS that was the default before it and, while a
 * fault is set for a database, fails every write, truncate and sync of that database's files
 * (the database, its -wal and its -journal) the way the device would: SQLITE_IOERR_WRITE for
 * an I/O error, SQLITE_FULL for a full disk, SQLITE_READONLY for storage that became
 * read-only. Reads, locks and the WAL index go through
 * untouched, so SQLite itself meets the failure in the middle of its own write path and
 * reports it to the provider exactly as it would on a failing disk.
 *
 * It becomes the process's default VFS on the first duro__fault_vfs_install(), which the
 * factory calls before it opens a file store, so every connection the provider opens on
 * that store goes through it. With no fault set, the cost is one indirect call and one
 * atomic load per I/O call.
 */
#include "sqlite-fault-vfs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define MAX_FAULTS 16
#define FAULT_VFS_NAME "duro-fault"

/* Databases with a fault set: full path -> kind. Guarded by `faults_mutex`; `n_faults`
 * is read without it on the fast path. */
static struct {
    char *path;
    int kind;
} faults[MAX_FAULTS];
static atomic_int n_faults;
static pthread_mutex_t faults_mutex = PTHREAD_MUTEX_INITIALIZER;

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_rc = SQLITE_OK;

/* An open file: our methods in front of the real VFS's file, which follows in memory. */
typedef struct fault_file {
    sqlite3_file base;
    sqlite3_file *real;
    char *db_path; /* the database this file belongs to; NULL for temporary files */
} fault_file;

#define REAL_OFFSET ((sizeof(fault_file) + 15) & ~(size_t)15)

/* The SQLite error a write of `f` must fail with now, or SQLITE_OK. */
static int fault_for(const fault_file *f)
{
    int rc = SQLITE_OK;

    if (f->db_path == NULL || atomic_load(&n_faults) == 0)
        return SQLITE_OK;
    pthread_mutex_lock(&faults_mutex);
    for (int i = 0; i < MAX_FAULTS; i++)
        if (faults[i].path != NULL && strcmp(faults[i].path, f->db_path) == 0)
            rc = faults[i].kind == DURO_STORAGE_FAULT_FULL       ? SQLITE_FULL
                 : faults[i].kind == DURO_STORAGE_FAULT_READONLY ? SQLITE_READONLY
                                                                 : SQLITE_IOERR_WRITE;
    pthread_mutex_unlock(&faults_mutex);
    return rc;
}

static int f_close(sqlite3_file *file)
{
    fault_file *f = (fault_file *)file;
    int rc = f->real->pMethods->xClose(f->real);

    free(f->db_path);
    f->db_path = NULL;
    return rc;
}

static int f_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xRead(f->real, buf, amt, off);
}

static int f_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
    fault_file *f = (fault_file *)file;
    int rc = fault_for(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xWrite(f->real, buf, amt, off);
}

static int f_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    fault_file *f = (fault_file *)file;
    int rc = fault_for(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int f_sync(sqlite3_file *file, int flags)
{
    fault_file *f = (fault_file *)file;
    int rc = fault_for(f);

    if (rc == SQLITE_IOERR_WRITE)
        rc = SQLITE_IOERR_FSYNC;
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int f_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int f_lock(sqlite3_file *file, int level)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xLock(f->real, level);
}

static int f_unlock(sqlite3_file *file, int level)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int f_check_reserved(sqlite3_file *file, int *out)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int f_file_control(sqlite3_file *file, int op, void *arg)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int f_sector_size(sqlite3_file *file)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int f_device_characteristics(sqlite3_file *file)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int f_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}

static int f_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void f_shm_barrier(sqlite3_file *file)
{
    fault_file *f = (fault_file *)file;
    f->real->pMethods->xShmBarrier(f->real);
}

static int f_shm_unmap(sqlite3_file *file, int delete_flag)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static int f_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **out)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xFetch(f->real, off, amt, out);
}

static int f_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xUnfetch(f->real, off, p);
}

/* Version 1 methods only, for a real file that has no WAL index or memory map. */
static const sqlite3_io_methods fault_io_v1 = {
    1, f_close, f_read, f_write, f_truncate, f_sync, f_file_size, f_lock, f_unlock,
    f_check_reserved, f_file_control, f_sector_size, f_device_characteristics,
    NULL, NULL, NULL, NULL, NULL, NULL,
};

static const sqlite3_io_methods fault_io_v3 = {
    3, f_close, f_read, f_write, f_truncate, f_sync, f_file_size, f_lock, f_unlock,
    f_check_reserved, f_file_control, f_sector_size, f_device_characteristics,
    f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap, f_fetch, f_unfetch,
};

/* The database a file named `name` (opened with `flags`) belongs to, malloc'ed; NULL for a
 * temporary file or when out of memory (then no fault reaches it). */
static char *database_of(const char *name, int flags)
{
    size_t n;

    if (name == NULL || !(flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL |
                                   SQLITE_OPEN_MAIN_JOURNAL)))
        return NULL;
    n = strlen(name);
    if ((flags & SQLITE_OPEN_WAL) && n > 4 && strcmp(name + n - 4, "-wal") == 0)
        n -= 4;
    else if ((flags & SQLITE_OPEN_MAIN_JOURNAL) && n > 8 && strcmp(name + n - 8, "-journal") == 0)
        n -= 8;
    char *out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, name, n);
        out[n] = '\0';
    }
    return out;
}

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                  int *out_flags)
{
    fault_file *f = (fault_file *)file;
    int rc;

    f->real = (sqlite3_file *)((char *)file + REAL_OFFSET);
    f->db_path = NULL;
    rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || f->real->pMethods == NULL) {
        f->base.pMethods = NULL;
        return rc;
    }
    f->db_path = database_of(name, flags);
    f->base.pMethods = f->real->pMethods->iVersion >= 3 ? &fault_io_v3 : &fault_io_v1;
    return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *v_dl_open(sqlite3_vfs *vfs, const char *name)
{
    return real_vfs->xDlOpen(real_vfs, name);
}

static void v_dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
    real_vfs->xDlError(real_vfs, n, msg);
}

static void (*v_dl_sym(sqlite3_vfs *vfs, void *handle, const char *sym))(void)
{
    return real_vfs->xDlSym(real_vfs, handle, sym);
}

static void v_dl_close(sqlite3_vfs *vfs, void *handle)
{
    real_vfs->xDlClose(real_vfs, handle);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
    return real_vfs->xSleep(real_vfs, us);
}

static int v_current_time(sqlite3_vfs *vfs, double *out)
{
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    return real_vfs->xGetLastError(real_vfs, n, out);
}

static int v_current_time_i64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static void install(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    if (real_vfs == NULL || real_vfs->iVersion < 2) {
        install_rc = SQLITE_ERROR;
        return;
    }
    fault_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)(REAL_OFFSET + (size_t)real_vfs->szOsFile),
        .mxPathname = real_vfs->mxPathname,
        .zName = FAULT_VFS_NAME,
        .xOpen = v_open,
        .xDelete = v_delete,
        .xAccess = v_access,
        .xFullPathname = v_full_pathname,
        .xDlOpen = v_dl_open,
        .xDlError = v_dl_error,
        .xDlSym = v_dl_sym,
        .xDlClose = v_dl_close,
        .xRandomness = v_randomness,
        .xSleep = v_sleep,
        .xCurrentTime = v_current_time,
        .xGetLastError = v_last_error,
        .xCurrentTimeInt64 = v_current_time_i64,
    };
    install_rc = sqlite3_vfs_register(&fault_vfs, 1);
}

int duro__fault_vfs_install(void)
{
    pthread_once(&install_once, install);
    return install_rc == SQLITE_OK ? 0 : -1;
}

int duro__fault_vfs_set(const char *path, int kind)
{
    char full[4096];
    int rc = 0, slot = -1;

    if (duro__fault_vfs_install() != 0 ||
        (kind != DURO_STORAGE_FAULT_NONE && kind != DURO_STORAGE_FAULT_IO &&
         kind != DURO_STORAGE_FAULT_FULL && kind != DURO_STORAGE_FAULT_READONLY) ||
        real_vfs->mxPathname >= (int)sizeof full ||
        real_vfs->xFullPathname(real_vfs, path, real_vfs->mxPathname + 1, full) != SQLITE_OK)
        return -1;
    pthread_mutex_lock(&faults_mutex);
    for (int i = 0; i < MAX_FAULTS; i++) {
        if (faults[i].path != NULL && strcmp(faults[i].path, full) == 0)
            slot = i;
        else if (slot < 0 && faults[i].path == NULL && kind != 0)
            slot = i;
    }
    if (slot >= 0 && kind == 0 && faults[slot].path != NULL) {
        free(faults[slot].path);
        faults[slot].path = NULL;
        atomic_fetch_sub(&n_faults, 1);
    } else if (slot >= 0 && kind != 0 && faults[slot].path != NULL) {
        faults[slot].kind = kind;
    } else if (slot >= 0 && kind != 0) {
        faults[slot].path = strdup(full);
        faults[slot].kind = kind;
        if (faults[slot].path == NULL)
            rc = -1;
        else
            atomic_fetch_add(&n_faults, 1);
    } else if (kind != 0) {
        rc = -1; /* every slot taken */
    }
    pthread_mutex_unlock(&faults_mutex);
    return rc;
}
