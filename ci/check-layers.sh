#!/bin/sh
# ci/check-layers.sh — a library's source files form layers without back-arrows: no call
# cycle between its object files and no include cycle between its own headers.
#
# Usage: ci/check-layers.sh ARCHIVE SRCDIR
#   ARCHIVE  a static archive of the library's objects (a libtool convenience library's
#            .libs/lib*.a); file A calls file B when A uses a global symbol B defines.
#   SRCDIR   the folder of its sources; X includes Y when X has `#include "Y"` and Y is a
#            file of SRCDIR.
# Prints the files in layer order (callers first) and exits 0, or prints each cycle and
# exits 1; exit 2 on bad usage or an unreadable archive.
set -u
if [ $# -ne 2 ] || [ ! -f "$1" ] || [ ! -d "$2" ]; then
    echo "usage: $0 ARCHIVE SRCDIR" >&2
    exit 2
fi
archive=$1
srcdir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "member symbol" lines: defined global symbols and undefined references, per object file.
if ! nm "$archive" >"$tmp/nm" 2>"$tmp/nm.err"; then
    cat "$tmp/nm.err" >&2
    exit 2
fi
awk '
    /:$/ { f = $1; sub(/:$/, "", f); sub(/^.*-/, "", f); sub(/\.o$/, "", f); next }
    NF == 2 && $1 == "U" { print f, $2 > "'"$tmp"'/uses"; next }
    NF == 3 && $2 ~ /^[TDRBC]$/ { print f, $3 > "'"$tmp"'/defs" }
' "$tmp/nm"
touch "$tmp/uses" "$tmp/defs"
# caller callee, for every reference to a symbol another member defines
awk 'NR == FNR { def[$2] = $1; next }
     ($2 in def) && def[$2] != $1 { print $1, def[$2] }' "$tmp/defs" "$tmp/uses" |
    sort -u >"$tmp/calls"

: >"$tmp/includes"
for f in "$srcdir"/*.c "$srcdir"/*.h; do
    [ -f "$f" ] || continue
    sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" | while read -r inc; do
        if [ -f "$srcdir/$inc" ]; then
            echo "$(basename "$f") $inc"
        fi
    done
done | sort -u >"$tmp/includes"

status=0
for graph in calls includes; do
    if tsort "$tmp/$graph" >"$tmp/$graph.order" 2>"$tmp/$graph.err"; then
        echo "$graph, in layer order: $(tr '\n' ' ' <"$tmp/$graph.order")"
    else
        loop=$(sed -n 's/^tsort: //p' "$tmp/$graph.err" | grep -v 'input contains a loop')
        echo "$graph cycle: $(echo "$loop" | tr '\n' ' ')"
        awk 'NR == FNR { edge[$1 " " $2] = 1; next }
             ($2 " " $1) in edge && $1 < $2 { print "  " $1 " <-> " $2 }' \
            "$tmp/$graph" "$tmp/$graph"
        status=1
    fi
done
exit $status
