/*
 * sqlite-fault-vfs.h — real storage faults for SQLite file stores (see sqlite-fault-vfs.c):
 * a pass-through VFS that fails the writes of chosen databases as a failing disk would.
 * Internal to the suites' SQLite factory.
 */
#ifndef DURO_SQLITE_FAULT_VFS_H
#define DURO_SQLITE_FAULT_VFS_H

#include "duro-providertest.h" /* DURO_STORAGE_FAULT_* */

/* Make the fault VFS the process's default SQLite VFS (once; later calls do nothing), so
 * that connections opened from now on go through it. 0, or -1 when SQLite refused. */
int duro__fault_vfs_install(void);

/* Set fault `kind` (DURO_STORAGE_FAULT_IO, _FULL or _READONLY) on the database file `path` and its -wal and
 * -journal, or clear it with DURO_STORAGE_FAULT_NONE. Takes effect at once for every connection opened
 * after duro__fault_vfs_install(). 0, or -1 on a bad kind, an unresolvable path, no free
 * slot (16 databases at once) or no memory. */
int duro__fault_vfs_set(const char *path, int kind);

#endif /* DURO_SQLITE_FAULT_VFS_H */
