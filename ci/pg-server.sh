#!/bin/sh
# ci/pg-server.sh — a throwaway PostgreSQL server for the tests of the PostgreSQL provider:
# a private cluster in a folder, reachable on a private unix socket (and, on request, on one
# TCP address: DURO_PG_LISTEN below).
#
# Usage:
#   ci/pg-server.sh start DIR [DBNAME]   initdb DIR/data (once), start the server on the socket
#                                        folder DIR/sock, wait until it accepts connections,
#                                        create DBNAME (default duro) and print the conninfo
#                                        on stdout: host=DIR/sock port=N dbname=DBNAME user=U
#   ci/pg-server.sh stop DIR             stop it (fast shutdown); a no-op when not running
#   ci/pg-server.sh restart DIR          pg_ctl restart -m fast (the fault tests use it)
#   ci/pg-server.sh conninfo DIR [DBNAME] print the conninfo of a running server
#   ci/pg-server.sh sql DIR QUERY        run QUERY in database duro over the unix socket, as
#                                        the server's user; print the rows (psql -At)
#
# DURO_PG_LISTEN=ADDR at the first start (initdb) makes the server also listen on TCP at the
# IP address ADDR and accept clients from the subnets it is directly connected to (pg_hba
# `samenet`, trust: a throwaway cluster); the conninfo printed is then host=ADDR port=N ...
# Meant for a private network namespace (tests/netns-scaleout.sh runs the script under
# `ip netns exec`, so the server binds inside the namespace); never use it on a shared network.
# PostgreSQL refuses to run as root, so as root the server runs as a dedicated system user
# (DURO_PG_USER, default duro-pg; created with useradd -r when missing) that owns DIR/data
# and DIR/sock; otherwise it runs as the current user. The port number (DURO_PG_PORT, or one
# derived from DIR) names the socket file DIR/sock/.s.PGSQL.N (and is the TCP port with
# DURO_PG_LISTEN); listen_addresses is empty unless DURO_PG_LISTEN is set.
# Both commands are idempotent. Binaries: DURO_PG_BINDIR, else pg_config --bindir, else the
# newest /usr/lib/postgresql/*/bin. Exit status 0, or 1 with a message on stderr.
set -eu

die() {
    echo "pg-server.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: pg-server.sh start DIR [DBNAME] | stop DIR | restart DIR | conninfo DIR [DBNAME] | sql DIR QUERY" >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
db=${3:-duro}
case $cmd in start | stop | restart | conninfo) ;; sql) [ $# -eq 3 ] || usage; query=$3; db=duro ;; *) usage ;; esac
case $dir in /*) ;; *) dir="$(pwd)/$dir" ;; esac
case $db in *[!A-Za-z0-9_]* | '') die "database name '$db' must be letters, digits and _" ;; esac
listen=${DURO_PG_LISTEN:-}
case $listen in *[!0-9a-fA-F.:]*) die "DURO_PG_LISTEN '$listen' must be an IP address" ;; esac

# ---- binaries ------------------------------------------------------------------------------
find_bindir() {
    if [ -n "${DURO_PG_BINDIR:-}" ]; then
        echo "$DURO_PG_BINDIR"
        return
    fi
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && found=$d
    done
    if [ -n "${found:-}" ]; then
        echo "$found"
        return
    fi
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return
    fi
    command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)" && return
    die "PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql (ci/install-deps.sh) or set DURO_PG_BINDIR"
}
bindir=$(find_bindir)
for b in initdb pg_ctl psql pg_isready; do
    [ -x "$bindir/$b" ] || die "$bindir/$b is missing"
done

# ---- the user the server runs as -----------------------------------------------------------
if [ "$(id -u)" -eq 0 ]; then
    user=${DURO_PG_USER:-duro-pg}
    if ! id "$user" >/dev/null 2>&1; then
        [ "$cmd" = start ] || die "user $user does not exist (no server was started)"
        command -v useradd >/dev/null 2>&1 || die "useradd not found: cannot create user $user"
        useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$user" 2>/dev/null ||
            id "$user" >/dev/null 2>&1 || die "cannot create system user $user"
    fi
    as_user() {
        # from /, which the user may enter (the caller's folder may be private to root, and
        # the server's tools would warn that they cannot change into it); runuser keeps the
        # environment small; su as a fallback
        if command -v runuser >/dev/null 2>&1; then
            (cd / && runuser -u "$user" -- "$@")
        else
            (cd / && su -s /bin/sh "$user" -c "$(printf '%s ' "$@")")
        fi
    }
else
    user=$(id -un)
    as_user() { "$@"; }
fi

# ---- port: a private number derived from DIR, so that parallel servers do not collide -------
if [ -n "${DURO_PG_PORT:-}" ]; then
    port=$DURO_PG_PORT
elif [ -f "$dir/port" ]; then
    port=$(cat "$dir/port")
else
    sum=$(printf '%s' "$dir" | cksum | cut -d' ' -f1)
    port=$((20000 + sum % 20000))
fi

data="$dir/data"
sock="$dir/sock"
log="$dir/server.log"

# The address the cluster listens on, recorded at initdb (DIR/listen); empty: socket only.
listened() {
    cat "$dir/listen" 2>/dev/null || true
}

conninfo() {
    tcp=$(listened)
    echo "host=${tcp:-$sock} port=$port dbname=$db user=$user"
}

running() {
    [ -f "$data/postmaster.pid" ] && as_user "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

case $cmd in
stop)
    if [ -d "$data" ] && running; then
        as_user "$bindir/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null ||
            die "pg_ctl stop failed (see $log)"
    fi
    exit 0
    ;;
restart)
    running || die "no server running in $dir"
    as_user "$bindir/pg_ctl" -D "$data" -l "$log" -m fast -w -t 60 -o "-p $port -k $sock" \
        restart >/dev/null 2>&1 || die "pg_ctl restart failed (see $log)"
    exit 0
    ;;
conninfo)
    running || die "no server running in $dir"
    conninfo
    exit 0
    ;;
sql)
    running || die "no server running in $dir"
    as_user "$bindir/psql" -h "$sock" -p "$port" -d "$db" -U "$user" -At -v ON_ERROR_STOP=1 \
        -c "$query" || die "query failed: $query"
    exit 0
    ;;
esac

# ---- start -------------------------------------------------------------------------------
mkdir -p "$dir"
[ "$(id -u)" -ne 0 ] || chown "$user" "$dir"
# the cluster user must reach DIR; as root the parents of a mktemp folder are world-searchable
chmod 0755 "$dir"
if [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
    mkdir -p "$data" "$sock"
    [ "$(id -u)" -ne 0 ] || chown "$user" "$data" "$sock"
    chmod 0700 "$data" "$sock"
    as_user "$bindir/initdb" -N -D "$data" -U "$user" -A trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 ||
        as_user "$bindir/initdb" -N -D "$data" -U "$user" -A trust -E UTF8 --no-locale \
            >"$dir/initdb.log" 2>&1 ||
        die "initdb failed (see $dir/initdb.log)"
    cat >>"$data/postgresql.conf" <<EOF
# ci/pg-server.sh: a private unix socket (and DURO_PG_LISTEN), small and fast (a throwaway
# test cluster)
listen_addresses = '$listen'
unix_socket_directories = '$sock'
port = $port
max_connections = 300
shared_buffers = 64MB
fsync = on
synchronous_commit = on
max_locks_per_transaction = 256
log_min_messages = warning
log_min_error_statement = panic
# per-statement counts and times for profiling (docs/postgres.md "Measuring"); the extension is
# created on demand: CREATE EXTENSION pg_stat_statements
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
EOF
    if [ -n "$listen" ]; then
        echo "host all all samenet trust" >>"$data/pg_hba.conf"
    fi
    echo "$listen" >"$dir/listen"
    echo "$port" >"$dir/port"
fi
mkdir -p "$sock"
[ "$(id -u)" -ne 0 ] || chown "$user" "$sock" "$dir/port" "$dir/listen" 2>/dev/null || true
if ! running; then
    : >"$log"
    [ "$(id -u)" -ne 0 ] || chown "$user" "$log"
    as_user "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "-p $port -k $sock" start \
        >/dev/null 2>&1 || die "the server did not start (see $log)"
fi
i=0
until as_user "$bindir/pg_isready" -q -h "$sock" -p "$port" -d postgres; do
    i=$((i + 1))
    [ $i -lt 100 ] || die "the server does not accept connections (see $log)"
    sleep 0.1
done
exists=$(as_user "$bindir/psql" -h "$sock" -p "$port" -d postgres -U "$user" -At \
    -c "SELECT 1 FROM pg_database WHERE datname = '$db'") || die "cannot query the server"
if [ "$exists" != 1 ]; then
    as_user "$bindir/psql" -h "$sock" -p "$port" -d postgres -U "$user" -q \
        -c "CREATE DATABASE $db" >/dev/null || die "cannot create database $db"
fi
conninfo
