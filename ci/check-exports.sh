#!/bin/sh
# check-exports.sh — compare what a shared library exports with what its installed headers
# declare. Usage: check-exports.sh LIBRARY.so HEADER...
# The declared names are the identifiers of the DURO_EXTERN declarations in the headers (the
# name before the parameter list of a function, or before `;` or `[` of a variable); the
# exported names are the defined dynamic symbols (`nm -D --defined-only`). Every difference is
# printed, one per line: "exported but not declared: NAME" or "declared but not exported:
# NAME". Exit status: 0 when the two sets are equal, 1 when they differ, 2 on usage error.
set -eu
if [ "$#" -lt 2 ]; then
    echo "usage: check-exports.sh LIBRARY.so HEADER..." >&2
    exit 2
fi
lib=$1
shift
if [ ! -f "$lib" ]; then
    echo "check-exports.sh: no such library: $lib" >&2
    exit 2
fi
for h in "$@"; do
    if [ ! -f "$h" ]; then
        echo "check-exports.sh: no such header: $h" >&2
        exit 2
    fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declared: drop preprocessor lines, join the rest into one line, strip comments, split at `;`, keep the pieces that
# contain DURO_EXTERN and print the identifier that names the declaration.
grep -hv "^[[:space:]]*#" "$@" | tr '\n' ' ' | sed 's|/\*[^*]*\*\+\([^/*][^*]*\*\+\)*/| |g' | tr ';' '\n' |
    grep 'DURO_EXTERN' | sed 's/.*DURO_EXTERN//' |
    sed -n 's/^\([^(]*[^A-Za-z0-9_(]\)\{0,1\}\([A-Za-z_][A-Za-z0-9_]*\) *(.*/\2/p;
            t;
            s/.*[^A-Za-z0-9_]\([A-Za-z_][A-Za-z0-9_]*\) *\(\[[^]]*\]\)\{0,1\} *$/\1/p' |
    sort -u >"$tmp/declared"
nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }' |
    grep -v '^_\(init\|fini\|edata\|end\|_bss_start\)$' | grep -v '^__bss_start$' |
    grep -v '^_edata$' | grep -v '^_end$' | sort -u >"$tmp/exported"

status=0
comm -23 "$tmp/exported" "$tmp/declared" | sed 's/^/exported but not declared: /' >"$tmp/diff"
comm -13 "$tmp/exported" "$tmp/declared" | sed 's/^/declared but not exported: /' >>"$tmp/diff"
if [ -s "$tmp/diff" ]; then
    cat "$tmp/diff"
    status=1
fi
echo "$(basename "$lib"): $(wc -l <"$tmp/exported") exported, $(wc -l <"$tmp/declared") declared"
exit "$status"
