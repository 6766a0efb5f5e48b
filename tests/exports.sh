#!/bin/sh
# tests/exports.sh — make check: every installed library exports exactly the DURO_EXTERN
# declarations of its installed headers (ci/check-exports.sh), and the SQLite provider's
# files form layers without call or include cycles (ci/check-layers.sh). Both checks have
# teeth: a library built here that exports an undeclared symbol, or lacks a declared one,
# and a library whose files call or include each other, must fail them by name.
# Writes $DURO_JUNIT_DIR/exports.xml (one testcase per check).
# Environment (Makefile.am): DURO_SRCDIR, DURO_JUNIT_DIR, DURO_CC.
set -u
src="${DURO_SRCDIR:-.}"
junit_dir="${DURO_JUNIT_DIR:-test-results}"
cc="${DURO_CC:-cc}"
mkdir -p "$junit_dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check="$src/ci/check-exports.sh"
cases="$tmp/cases"
: >"$cases"
failures=0
total=0

xml_escape() {
    sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

# record NAME STATUS OUTPUT-FILE: one testcase; STATUS 0 passes.
record() {
    total=$((total + 1))
    if [ "$2" -eq 0 ]; then
        printf '    <testcase name="%s" classname="exports" time="0"/>\n' "$1" >>"$cases"
        echo "PASS: $1"
    else
        failures=$((failures + 1))
        {
            printf '    <testcase name="%s" classname="exports" time="0">\n' "$1"
            printf '      <failure type="assertion" message="exports differ">'
            xml_escape <"$3"
            printf '</failure>\n    </testcase>\n'
        } >>"$cases"
        echo "FAIL: $1"
        cat "$3"
    fi
}

# installed LIBNAME DIR HEADER...: the library's exports equal its headers' declarations.
installed() {
    name=$1
    dir=$2
    shift 2
    out="$tmp/$name.out"
    if [ -f "$dir/.libs/$name.so" ]; then
        "$check" "$dir/.libs/$name.so" "$@" >"$out" 2>&1
        record "$name" $? "$out"
    else
        echo "no $dir/.libs/$name.so (was it built?)" >"$out"
        record "$name" 1 "$out"
    fi
}

installed libduro lib "$src/lib/duro.h" "$src/lib/duro-common.h" "$src/lib/duro-provider.h"
installed libduro-sqlite providers/sqlite "$src/providers/sqlite/duro-sqlite.h"
# libduro-postgres only when configure found libpq (it is not built otherwise)
if [ -f providers/postgres/libduro-postgres.la ]; then
    installed libduro-postgres providers/postgres "$src/providers/postgres/duro-postgres.h"
fi
installed libduro-providertest providertest "$src/providertest/duro-providertest.h" \
    "$src/providertest/duro-fault.h" "$src/stress/duro-stress.h"

# The check's teeth: a library exporting duro_declared and the undeclared duro_secret, a
# header declaring duro_declared and duro_missing.
cat >"$tmp/probe.c" <<'C'
__attribute__((visibility("default"))) int duro_declared(void) { return 0; }
__attribute__((visibility("default"))) int duro_secret(void) { return 1; }
static int hidden_helper(void) { return 2; }
int duro__internal(void);
__attribute__((visibility("hidden"))) int duro__internal(void) { return hidden_helper(); }
C
printf '#include "duro-common.h"\nDURO_EXTERN int duro_declared(void);\nDURO_EXTERN int duro_missing(void);\n' >"$tmp/probe.h"
printf '#include "duro-common.h"\nDURO_EXTERN int duro_declared(void);\nDURO_EXTERN int duro_secret(void);\n' >"$tmp/exact.h"
out="$tmp/probe.out"
if "$cc" -shared -fPIC -fvisibility=hidden -o "$tmp/libprobe.so" "$tmp/probe.c" >"$out" 2>&1; then
    "$check" "$tmp/libprobe.so" "$tmp/probe.h" >"$out" 2>&1
    rc=$?
    if [ "$rc" -eq 1 ] && grep -qx 'exported but not declared: duro_secret' "$out" &&
        grep -qx 'declared but not exported: duro_missing' "$out" &&
        ! grep -q 'duro_declared\|duro__internal' "$out"; then
        record undeclared_export_and_missing_declaration_fail 0 "$out"
    else
        echo "expected exit 1 naming duro_secret and duro_missing only, got $rc" >>"$out"
        record undeclared_export_and_missing_declaration_fail 1 "$out"
    fi
    "$check" "$tmp/libprobe.so" "$tmp/exact.h" >"$out" 2>&1
    record matching_header_passes $? "$out"
else
    record undeclared_export_and_missing_declaration_fail 1 "$out"
fi

# Layers: the SQLite provider, then the check's teeth on two files that call each other and
# two headers that include each other.
layers="$src/ci/check-layers.sh"
out="$tmp/layers.out"
"$layers" providers/sqlite/.libs/libduro-sqlite-core.a "$src/providers/sqlite" >"$out" 2>&1
record sqlite_provider_layers_have_no_cycle $? "$out"
if [ -f providers/postgres/.libs/libduro-postgres-core.a ]; then
    out="$tmp/pg-layers.out"
    "$layers" providers/postgres/.libs/libduro-postgres-core.a "$src/providers/postgres" \
        >"$out" 2>&1
    record postgres_provider_layers_have_no_cycle $? "$out"
fi

mkdir -p "$tmp/cycle"
printf 'int duro__up(int);\nint duro__down(int n) { return n > 0 ? duro__up(n - 1) : 0; }\n' \
    >"$tmp/cycle/lower.c"
printf 'int duro__down(int);\nint duro__up(int n) { return duro__down(n); }\n' \
    >"$tmp/cycle/upper.c"
printf '#include "lower.h"\n' >"$tmp/cycle/upper.h"
printf '#include "upper.h"\n' >"$tmp/cycle/lower.h"
out="$tmp/cycle.out"
if (cd "$tmp/cycle" && "$cc" -c lower.c upper.c && ar rc libcycle.a lower.o upper.o) \
    >"$out" 2>&1; then
    "$layers" "$tmp/cycle/libcycle.a" "$tmp/cycle" >"$out" 2>&1
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q '^calls cycle' "$out" && grep -qx '  lower <-> upper' "$out" &&
        grep -q '^includes cycle' "$out" && grep -qx '  lower.h <-> upper.h' "$out"; then
        record call_and_include_cycles_fail 0 "$out"
    else
        echo "expected exit 1 naming the lower/upper call and include cycles, got $rc" >>"$out"
        record call_and_include_cycles_fail 1 "$out"
    fi
else
    record call_and_include_cycles_fail 1 "$out"
fi

{
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<testsuites>'
    printf '  <testsuite name="exports" package="duro" id="0" tests="%d" failures="%d" errors="0" skipped="0" time="0" timestamp="%s" hostname="%s">\n' \
        "$total" "$failures" "$(date -u +%Y-%m-%dT%H:%M:%S)" "$(uname -n | xml_escape)"
    echo '    <properties/>'
    cat "$cases"
    echo '    <system-out/>'
    echo '    <system-err/>'
    echo '  </testsuite>'
    echo '</testsuites>'
} >"$junit_dir/exports.xml"
[ "$failures" -eq 0 ]
