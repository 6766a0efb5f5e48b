#!/bin/sh
# fuzz/build.sh — build the libFuzzer targets of fuzz/ with clang, apart from the
# gcc-configured automake build: every source of libduro, the SQLite provider, the report
# library and the two suites (without their main programs) is compiled once with the
# fuzzer's coverage instrumentation, ASan and UBSan into OUT/libduro-fuzz.a, and each
# target fuzz/<target>.c links against it (only the objects it needs are pulled in). Also
# builds OUT/gen-seeds, which regenerates the seed corpora (see docs/fuzzing.md).
#
# usage: fuzz/build.sh [OUT]     (default OUT: fuzz/out under the current directory)
# Environment: FUZZ_CC (default clang), FUZZ_CFLAGS (added after the defaults), FUZZ_JOBS
# (parallel compiles, default 2). Needs clang with libFuzzer (Debian: clang and
# libclang-rt-dev, which clang only recommends) and the pkg-config files of jansson,
# sqlite3, libxml-2.0 and check.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-fuzz/out}
cc=${FUZZ_CC:-clang}
jobs=${FUZZ_JOBS:-2}
targets="fuzz-codec fuzz-replay fuzz-stress-options fuzz-conformance-options fuzz-sqlite-open"

command -v "$cc" >/dev/null 2>&1 || {
    echo "fuzz/build.sh: $cc not found (Debian: clang; ci/install-deps.sh installs it)" >&2
    exit 1
}
deps=$(pkg-config --cflags jansson sqlite3 libxml-2.0 check) || {
    echo "fuzz/build.sh: pkg-config lacks jansson, sqlite3, libxml-2.0 or check" >&2
    exit 1
}
libs=$(pkg-config --libs jansson sqlite3 libxml-2.0 check)
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=gnu11 -pthread -g -O1 -fno-omit-frame-pointer $san -Wall -Wextra
 -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers ${FUZZ_CFLAGS:-}"
incs="-I$src/lib -I$src/util -I$src/report -I$src/providers/sqlite -I$src/providertest
 -I$src/conformance -I$src/stress -I$src/fuzz $deps -DDURO_DOCDIR=\"docs\""

mkdir -p "$out/obj"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' \
    >"$out/probe.c"
$cc -fsanitize=fuzzer "$out/probe.c" -o "$out/probe" 2>/dev/null || {
    echo "fuzz/build.sh: $cc cannot link libFuzzer (Debian: libclang-rt-dev)" >&2
    exit 1
}
rm -f "$out/probe.c" "$out/probe"
# Incremental: an object is rebuilt when its source is newer; every object when a header or
# this script is newer than the last build (OUT/obj/.stamp).
stamp="$out/obj/.stamp"
if [ -f "$stamp" ] && [ -n "$(find "$src" -path "$src/fuzz/out" -prune -o \( -name '*.h' -o \
        -name build.sh \) -newer "$stamp" -print | head -n 1)" ]; then
    rm -f "$out"/obj/*.o
fi
# The sources: everything but the suites' main programs, unit tests and the PostgreSQL
# factory (the fuzz targets need no libpq).
srcs=$(cd "$src" && ls lib/*.c util/*.c providers/sqlite/*.c report/*.c providertest/*.c \
    conformance/*.c conformance/cases/*.c stress/*.c fuzz/common.c |
    grep -v -e '^conformance/duro-conformance\.c$' -e '^stress/duro-stress\.c$' \
        -e '^stress/test-stress\.c$' -e '^providertest/postgres-factory\.c$')

touch "$stamp"
# Compile each source to OUT/obj/<path with / as _>.o, in parallel.
export cc cflags incs src out
printf '%s\n' $srcs | xargs -P "$jobs" -I{} sh -c '
    obj="$out/obj/$(echo "{}" | tr / _ | sed "s/\.c$/.o/")"
    [ -f "$obj" ] && [ "$obj" -nt "$src/{}" ] && exit 0
    $cc $cflags -fsanitize=fuzzer-no-link $incs -c "$src/{}" -o "$obj" || {
        echo "fuzz/build.sh: cannot compile {}" >&2; exit 255; }'
rm -f "$out/libduro-fuzz.a"
ar rcs "$out/libduro-fuzz.a" "$out"/obj/*.o

for t in $targets; do
    $cc $cflags -fsanitize=fuzzer $incs "$src/fuzz/$t.c" "$out/libduro-fuzz.a" $libs -lm \
        -o "$out/$t"
done
$cc $cflags -fsanitize=fuzzer-no-link $incs "$src/fuzz/gen-seeds.c" "$out/libduro-fuzz.a" \
    $libs -lm -o "$out/gen-seeds"
echo "fuzz/build.sh: built $targets gen-seeds in $out"
