#!/bin/sh
# tests/output-dirs.sh — make check: duro-conformance and duro-stress create the missing
# folders of the files they write (--junit; duro-stress also --json, --history and
# --save-baseline) before anything runs, stop with exit status 2 and a message naming the
# folder when one cannot be created, and their --help names the installed documentation.
# Programs run under $DURO_TEST_WRAPPER (valgrind in make check-valgrind).
set -eu
tmp=$(mktemp -d "${TMPDIR:-/tmp}/duro-output-dirs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "output-dirs.sh: $*" >&2
    for f in "$tmp"/out "$tmp"/err; do
        [ -f "$f" ] && sed 's/^/  | /' "$f" >&2
    done
    exit 1
}
# shellcheck disable=SC2086 # an empty or multi-word wrapper must split
run() { ${DURO_TEST_WRAPPER:-} "$@" > "$tmp/out" 2> "$tmp/err"; }
ct="./conformance/duro-conformance --provider sqlite --case list_instances_empty_store"
stress="./stress/duro-stress --provider sqlite --scenario parallel --config 1/1 --count 2
    --max-concurrent 2 --tasks-per-instance 1 --activity-delay 0 --min-success 100
    --no-progress"
if [ -n "${DURO_TEST_WRAPPER:-}" ]; then
    stress="$stress --wait-timeout 600"
fi

# conformance: a report three missing folders deep, then into the folder that now exists
# shellcheck disable=SC2086
run $ct --junit "$tmp/ct/a/b/report.xml" || fail "conformance with a missing folder failed"
[ -s "$tmp/ct/a/b/report.xml" ] || fail "no JUnit report in the created folder"
# shellcheck disable=SC2086
run $ct --junit "$tmp/ct/a/b/again.xml" || fail "conformance into an existing folder failed"
[ -s "$tmp/ct/a/b/again.xml" ] || fail "no JUnit report in the existing folder"

# conformance: a folder that cannot be created (below a regular file) stops the run first
: > "$tmp/plain"
set +e
# shellcheck disable=SC2086
run $ct --junit "$tmp/plain/sub/report.xml"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "conformance exit status $rc for an impossible folder, expected 2"
grep -q "duro-conformance: --junit $tmp/plain/sub/report.xml: cannot create folder '$tmp/plain': Not a directory" "$tmp/err" ||
    fail "conformance: no message naming the folder"
if grep -q passed "$tmp/out"; then fail "conformance ran cases before failing"; fi

# stress: every output file in its own missing folder
# shellcheck disable=SC2086
run $stress --junit "$tmp/st/j/s.xml" --json "$tmp/st/k/l/s.json" \
    --history "$tmp/st/h/history.jsonl" --save-baseline "$tmp/st/b/base.json" ||
    fail "stress with missing folders failed"
for f in j/s.xml k/l/s.json h/history.jsonl b/base.json; do
    [ -s "$tmp/st/$f" ] || fail "stress did not write $f"
done

# stress: an impossible folder for --json stops the run before it starts
set +e
# shellcheck disable=SC2086
run $stress --junit "$tmp/st/j/t.xml" --json "$tmp/plain/x/s.json"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "stress exit status $rc for an impossible folder, expected 2"
grep -q "duro-stress: --json $tmp/plain/x/s.json: cannot create folder '$tmp/plain': Not a directory" "$tmp/err" ||
    fail "stress: no message naming the folder"
[ ! -e "$tmp/st/j/t.xml" ] || fail "stress ran before failing"

# --help points to the installed documentation
run ./conformance/duro-conformance --help || fail "duro-conformance --help failed"
grep -Eq "^Documentation: /.*/conformance\.md" "$tmp/out" ||
    fail "duro-conformance --help names no installed document"
run ./stress/duro-stress --help || fail "duro-stress --help failed"
grep -Eq "^Documentation: /.*/stress\.md" "$tmp/out" ||
    fail "duro-stress --help names no installed document"
echo "output-dirs.sh: ok"
