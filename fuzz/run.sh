#!/bin/sh
# fuzz/run.sh — run libFuzzer targets built by fuzz/build.sh for a bounded time each (what
# `make fuzz` and CI run). Each target fuzzes a copy of its seed corpus fuzz/corpus/<target>
# in a temporary directory (the tree's corpus never grows) with its dictionary
# fuzz/dict/<target>.dict when there is one, ASan/UBSan, -rss_limit_mb=2048, a 25 s
# per-input timeout and -close_fd_mask=3 (the targets' own output is dropped; sanitizer
# reports and libFuzzer's lines are kept). A crash, leak, timeout or out-of-memory input is
# kept as ARTIFACTS/<target>/<kind>-<sha1>; its path, the command that reproduces it and the
# first SUMMARY line of the report (the cause) are printed, then the log's tail. Prints one
# line per target (time, executions, exec/s, coverage, corpus) and, with -j, writes a JUnit
# file: one testsuite "fuzz" (those lines in its system-out), one testcase per target, a
# <failure> with the SUMMARY line, the input's path and the log's tail for a crash.
#
# usage: fuzz/run.sh [-t SECONDS] [-o OUT] [-a ARTIFACTS] [-j JUNIT-FILE] [TARGET...]
#   -t  seconds per target (default $FUZZ_SECONDS, else 60)
#   -o  where the targets are; each target's log goes there too (default fuzz/out)
#   -a  where failing inputs are kept (default OUT/artifacts)
#   TARGET  default: every target
# Extra libFuzzer options: FUZZ_ARGS (e.g. FUZZ_ARGS=-jobs=2).
# Exit status: 0 when every target ran its time without a failure, 1 otherwise, 2 on a
# usage error.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${FUZZ_SECONDS:-60}
out=fuzz/out
artifacts=
junit=
while getopts t:o:a:j: opt; do
    case $opt in
    t) secs=$OPTARG ;;
    o) out=$OPTARG ;;
    a) artifacts=$OPTARG ;;
    j) junit=$OPTARG ;;
    *) echo "usage: fuzz/run.sh [-t SECONDS] [-o OUT] [-a ARTIFACTS] [-j JUNIT-FILE] [TARGET...]" >&2
       exit 2 ;;
    esac
done
shift $((OPTIND - 1))
artifacts=${artifacts:-$out/artifacts}
targets=${*:-fuzz-codec fuzz-replay fuzz-stress-options fuzz-conformance-options fuzz-sqlite-open}
case $secs in
'' | *[!0-9]*) echo "fuzz/run.sh: seconds must be a whole number, not '$secs'" >&2; exit 2 ;;
esac

# Longest input a target tries: the SQLite seeds are database files.
max_len() {
    case $1 in
    fuzz-sqlite-open) echo 65536 ;;
    fuzz-replay) echo 8192 ;;
    fuzz-codec) echo 4096 ;;
    *) echo 1024 ;;
    esac
}

xml_escape() {
    sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' |
        tr -d '\000-\010\013\014\016-\037'
}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cases="$tmp/cases.xml"
: >"$cases"
: >"$tmp/stats"
total=0 failures=0
for t in $targets; do
    total=$((total + 1))
    bin="$out/$t"
    arts="$artifacts/$t"
    log="$out/$t.log"
    mkdir -p "$arts" "$tmp/$t"
    start=$(date +%s)
    if [ ! -x "$bin" ]; then
        echo "no $bin (run fuzz/build.sh first)" >"$log"
        rc=127
    else
        [ -d "$src/fuzz/corpus/$t" ] && cp -R "$src/fuzz/corpus/$t/." "$tmp/$t/"
        dict=
        [ -f "$src/fuzz/dict/$t.dict" ] && dict="-dict=$src/fuzz/dict/$t.dict"
        # shellcheck disable=SC2086
        "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=25 \
            -max_len="$(max_len "$t")" -close_fd_mask=3 -print_final_stats=1 \
            -artifact_prefix="$arts/" $dict ${FUZZ_ARGS:-} "$tmp/$t" >"$log" 2>&1
        rc=$?
    fi
    time=$(($(date +%s) - start))
    # The last status line: "#N ... cov: C ft: F corp: K/... exec/s: E ..."
    stat=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(echo "$stat" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$stat" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$stat" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    line=$(printf '%-26s %4ss  %10s runs  %7s exec/s  cov %5s  ft %6s  corpus %5s' "$t" \
        "$time" "${runs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")
    if [ "$rc" -eq 0 ]; then
        echo "PASS: $line"
        printf '    <testcase name="%s" classname="fuzz" time="%s"/>\n' "$t" "$time" >>"$cases"
        echo "PASS: $line" >>"$tmp/stats"
        continue
    fi
    failures=$((failures + 1))
    input=$(ls -t "$arts" 2>/dev/null | head -n 1)
    summary=$(grep -E '^SUMMARY: ' "$log" | head -n 1)
    [ -n "$summary" ] || summary="$t exited with status $rc"
    echo "FAIL: $line"
    echo "FAIL: $line" >>"$tmp/stats"
    echo "fuzz/run.sh: $t failed: $summary" >&2
    if [ -n "$input" ]; then
        echo "fuzz/run.sh: crashing input: $arts/$input" >&2
        echo "fuzz/run.sh: reproduce: $bin $arts/$input" >&2
    fi
    echo "fuzz/run.sh: log: $log (last lines follow)" >&2
    tail -n 40 "$log" >&2
    {
        printf '    <testcase name="%s" classname="fuzz" time="%s">\n' "$t" "$time"
        printf '      <failure type="crash" message="%s">' "$(echo "$summary" | xml_escape)"
        [ -n "$input" ] && echo "input: $arts/$input" | xml_escape
        tail -n 40 "$log" | xml_escape
        printf '</failure>\n    </testcase>\n'
    } >>"$cases"
done

if [ -n "$junit" ]; then
    mkdir -p "$(dirname "$junit")"
    {
        echo '<?xml version="1.0" encoding="UTF-8"?>'
        echo '<testsuites>'
        printf '  <testsuite name="fuzz" package="duro" id="0" tests="%d" failures="%d" errors="0" skipped="0" time="0" timestamp="%s" hostname="%s">\n' \
            "$total" "$failures" "$(date -u +%Y-%m-%dT%H:%M:%S)" "$(uname -n | xml_escape)"
        echo '    <properties/>'
        cat "$cases"
        printf '    <system-out>%s</system-out>\n' "$(xml_escape <"$tmp/stats")"
        echo '    <system-err/>'
        echo '  </testsuite>'
        echo '</testsuites>'
    } >"$junit"
fi
[ "$failures" -eq 0 ]
