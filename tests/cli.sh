#!/bin/sh
# tests/cli.sh — make check: the `duro` command end to end on real SQLite files.
# tests/cli-fixture builds a store with one completed, failed, running, parent-with-children
# and continued-as-new instance; each read command's stdout is compared byte for byte with
# tests/cli-expected/NAME.out (times, which the wall clock sets, are replaced by a
# placeholder of the same width). Also: --json output parses (cli-fixture --check-json),
# `list --all` equals the --limit/--cursor pages joined over 2500 instances, exit codes
# 0/1/2, the store file's bytes are unchanged by every read command, a read of a missing
# file fails with 1 and creates nothing, the write commands do what they say, and
# suspend / resume / terminate take effect at the instance's next turn (cli-fixture --until
# runs a runtime to it) with exact messages for the states that refuse them.
# Writes $DURO_JUNIT_DIR/cli.xml (one testcase per check). Run with DURO_CLI_UPDATE=1 to
# rewrite the expected files (then review the diff).
# Environment (Makefile.am): DURO_SRCDIR, DURO_JUNIT_DIR, DURO_TEST_WRAPPER.
set -u
src="${DURO_SRCDIR:-.}"
junit_dir="${DURO_JUNIT_DIR:-test-results}"
expected="$src/tests/cli-expected"
mkdir -p "$junit_dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cases="$tmp/cases"
: >"$cases"
failures=0
total=0
wrap="${DURO_TEST_WRAPPER:-}"
duro() { $wrap ./tools/duro "$@"; }
fixture() { $wrap ./tests/cli-fixture "$@"; }

xml_escape() {
    sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

# record NAME STATUS OUTPUT-FILE: one testcase; STATUS 0 passes.
record() {
    total=$((total + 1))
    if [ "$2" -eq 0 ]; then
        printf '    <testcase name="%s" classname="cli" time="0"/>\n' "$1" >>"$cases"
        echo "PASS: $1"
    else
        failures=$((failures + 1))
        {
            printf '    <testcase name="%s" classname="cli" time="0">\n' "$1"
            printf '      <failure type="assertion" message="output differs">'
            xml_escape <"$3"
            printf '</failure>\n    </testcase>\n'
        } >>"$cases"
        echo "FAIL: $1"
        cat "$3"
    fi
}

untime() {
    sed -e 's/[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]\{3\}Z/YYYY-MM-DDTHH:MM:SS.mmmZ/g'
}

# golden NAME ARGS...: `duro ARGS` exits 0 and its stdout (times replaced) is NAME.out.
golden() {
    name=$1
    shift
    out="$tmp/$name.log"
    duro "$@" >"$tmp/$name.raw" 2>"$out"
    rc=$?
    untime <"$tmp/$name.raw" >"$tmp/$name.out"
    if [ -n "${DURO_CLI_UPDATE:-}" ]; then
        cp "$tmp/$name.out" "$expected/$name.out"
    fi
    if [ "$rc" -ne 0 ]; then
        echo "duro $*: exit $rc, expected 0" >>"$out"
        record "$name" 1 "$out"
    elif ! diff -u "$expected/$name.out" "$tmp/$name.out" >>"$out" 2>&1; then
        record "$name" 1 "$out"
    else
        record "$name" 0 "$out"
    fi
}

# status NAME WANT STDERR-TEXT ARGS...: `duro ARGS` exits WANT and its stderr holds the text.
status() {
    name=$1
    want=$2
    text=$3
    shift 3
    out="$tmp/$name.log"
    duro "$@" >"$tmp/$name.stdout" 2>"$tmp/$name.stderr"
    rc=$?
    if [ "$rc" -eq "$want" ] && grep -qF -- "$text" "$tmp/$name.stderr"; then
        record "$name" 0 "$out"
    else
        { echo "duro $*: exit $rc (expected $want), stderr:"; cat "$tmp/$name.stderr"
          echo "(expected to contain: $text)"; } >"$out"
        record "$name" 1 "$out"
    fi
}

# exact NAME WANT STDERR ARGS...: `duro ARGS` exits WANT, prints nothing on stdout and
# exactly the line STDERR on stderr.
exact() {
    name=$1
    want=$2
    text=$3
    shift 3
    out="$tmp/$name.log"
    duro "$@" >"$tmp/$name.stdout" 2>"$tmp/$name.stderr"
    rc=$?
    printf '%s\n' "$text" >"$tmp/$name.want"
    if [ "$rc" -eq "$want" ] && [ ! -s "$tmp/$name.stdout" ] &&
        cmp -s "$tmp/$name.want" "$tmp/$name.stderr"; then
        record "$name" 0 "$out"
    else
        { echo "duro $*: exit $rc (expected $want), stdout:"; cat "$tmp/$name.stdout"
          echo "stderr:"; cat "$tmp/$name.stderr"; echo "(expected exactly: $text)"; } >"$out"
        record "$name" 1 "$out"
    fi
}

# check NAME COMMAND...: COMMAND succeeds (its output is the failure message otherwise).
check() {
    name=$1
    shift
    out="$tmp/$name.log"
    if "$@" >"$out" 2>&1; then
        record "$name" 0 "$out"
    else
        record "$name" 1 "$out"
    fi
}

db="$tmp/store.db"
if ! fixture "$db" 0 >"$tmp/fixture.log" 2>&1; then
    record fixture 1 "$tmp/fixture.log"
else
    sums() { cat "$db" "$db-wal" 2>/dev/null | cksum; }
    before=$(sums)

    golden list --sqlite "$db" list
    golden list-running --sqlite "$db" list --state running
    golden list-filtered --sqlite "$db" list --name Hello --prefix a4
    golden list-limit --sqlite "$db" list --limit 2
    golden show-completed --sqlite "$db" show a1-done
    golden show-failed --sqlite "$db" show a2-failed
    golden show-running --sqlite "$db" show a3-running
    golden show-parent --sqlite "$db" show a4-parent
    golden show-child --sqlite "$db" show a4-parent-c1
    golden show-continued --sqlite "$db" show a5-loop
    golden history --sqlite "$db" history a1-done
    golden history-execution --sqlite "$db" history a5-loop --execution 1
    golden tree --sqlite "$db" tree a4-parent
    golden stats --sqlite "$db" stats
    DURO_SQLITE="$db" golden env-store show a1-done

    for c in "list" "show a4-parent" "history a5-loop" "tree a4-parent" "stats"; do
        n=json-$(echo "$c" | sed 's/ .*//')
        # shellcheck disable=SC2086
        duro --sqlite "$db" $c --json >"$tmp/$n.json" 2>"$tmp/$n.log"
        check "$n" fixture --check-json "$tmp/$n.json"
    done
    golden json-show --sqlite "$db" show a2-failed --json

    status list-more 0 "duro: more instances: --cursor " --sqlite "$db" list --limit 2
    status show-missing 1 "duro: nope: " --sqlite "$db" show nope
    status history-missing 1 "duro: nope: no such instance" --sqlite "$db" history nope
    status tree-missing 1 "duro: nope: " --sqlite "$db" tree nope
    status no-command 2 "duro: no command given" --sqlite "$db"
    status unknown-command 2 "duro: unknown command 'frob'" --sqlite "$db" frob
    status unknown-option 2 "duro: unknown option '--force'" --sqlite "$db" list --force
    status missing-value 2 "duro: option '--limit' needs a value" --sqlite "$db" list --limit
    status bad-limit 2 "duro: --limit: '1001' is not a number within 1-1000" \
        --sqlite "$db" list --limit 1001
    status bad-state 2 "duro: --state: unknown state 'done'" --sqlite "$db" list --state done
    status bad-time 2 "duro: bad TIME '2026-13-01T00:00:00Z'" \
        --sqlite "$db" list --created-after 2026-13-01T00:00:00Z
    status missing-id 2 "duro: show ID [--json]: missing arguments" --sqlite "$db" show
    status extra-arg 2 "duro: unexpected argument 'b'" --sqlite "$db" show a b
    status prune-no-keep 2 "duro: --keep N is required" --sqlite "$db" prune a5-loop
    status no-store 2 "duro: no store: give --sqlite FILE" list
    status all-cursor 2 "--all and --cursor exclude each other" \
        --sqlite "$db" list --all --cursor x
    status bad-cursor 1 "duro: list: " --sqlite "$db" list --cursor garbage

    # while another connection holds the write lock, every read command still answers
    out="$tmp/locked.log"
    : >"$out"
    locked=0
    for c in "list" "show a1-done" "history a1-done" "tree a4-parent" "stats"; do
        # shellcheck disable=SC2086
        if ! fixture --while-locked "$db" ./tools/duro --sqlite "$db" $c >/dev/null 2>>"$out"; then
            echo "duro $c failed while the store was write-locked" >>"$out"
            locked=1
        fi
    done
    record reads_take_no_write_lock "$locked" "$out"

    after=$(sums)
    out="$tmp/read-only.log"
    echo "store bytes before: $before, after the read commands: $after" >"$out"
    [ "$before" = "$after" ]
    record reads_leave_the_store_unchanged $? "$out"

    mkdir "$tmp/empty"
    status missing-file 1 "No such file or directory" --sqlite "$tmp/empty/missing.db" list
    out="$tmp/missing-created.log"
    ls -A "$tmp/empty" >"$out"
    [ ! -s "$out" ]
    record missing_file_creates_nothing $? "$out"

    # Writes, on the same store.
    golden raise --sqlite "$db" raise a3-running go yes
    golden cancel --sqlite "$db" cancel a3-running "no longer needed"
    golden prune --sqlite "$db" prune a5-loop --keep 1
    status history-pruned 1 "duro: a5-loop: execution 1 has no history" \
        --sqlite "$db" history a5-loop --execution 1
    golden history-kept --sqlite "$db" history a5-loop
    status delete-child 1 "is a sub-orchestration of a4-parent" --sqlite "$db" delete a4-parent-c1
    status delete-running 1 "is running" --sqlite "$db" delete a3-running
    golden delete --sqlite "$db" delete a4-parent
    golden delete-bulk --sqlite "$db" delete --bulk --state completed
    status bulk-with-id 2 "--bulk takes filters, not an ID" --sqlite "$db" delete --bulk a1-done
    status filter-without-bulk 2 "filters need --bulk" --sqlite "$db" delete --state failed
    golden delete-force --sqlite "$db" delete a3-running --force
    golden list-after-writes --sqlite "$db" list
fi

# Lifecycle controls on a store of their own: each is queued by duro, then
# `cli-fixture --until` runs a runtime until the instance reaches the state the control
# leads to, so the following `show` sees the turn that carried it out.
life="$tmp/life.db"
if ! fixture "$life" 0 >"$tmp/life.log" 2>&1; then
    record lifecycle_fixture 1 "$tmp/life.log"
else
    golden suspend --sqlite "$life" suspend a3-running "hold on"
    check until-suspended fixture --until "$life" a3-running Suspended
    golden show-suspended --sqlite "$life" show a3-running
    exact suspend-suspended 1 \
        'duro: a3-running: duro_client_suspend: instance "a3-running" is Suspended' \
        --sqlite "$life" suspend a3-running
    golden resume --sqlite "$life" resume a3-running
    check until-resumed fixture --until "$life" a3-running Running
    golden show-resumed --sqlite "$life" show a3-running
    exact resume-running 1 'duro: a3-running: duro_client_resume: instance "a3-running" is Running' \
        --sqlite "$life" resume a3-running "again"
    golden terminate --sqlite "$life" terminate a3-running "operator: stuck"
    check until-terminated fixture --until "$life" a3-running Terminated
    golden show-terminated --sqlite "$life" show a3-running
    golden history-lifecycle --sqlite "$life" history a3-running
    exact terminate-terminated 1 \
        'duro: a3-running: duro_client_terminate: instance "a3-running" is Terminated' \
        --sqlite "$life" terminate a3-running
    exact terminate-completed 1 \
        'duro: a1-done: duro_client_terminate: instance "a1-done" is Completed' \
        --sqlite "$life" terminate a1-done
    exact suspend-missing 1 'duro: nope: duro_client_suspend: instance "nope" does not exist' \
        --sqlite "$life" suspend nope
    status terminate-no-id 2 "duro: terminate ID [REASON]: missing arguments" \
        --sqlite "$life" terminate
    status resume-extra 2 "duro: unexpected argument 'c'" --sqlite "$life" resume a b c
    golden list-lifecycle --sqlite "$life" list --prefix a3
fi

# Paging: --all against the --limit/--cursor pages joined, over 2500 instances.
big="$tmp/big.db"
if ! fixture "$big" 2500 >"$tmp/big.log" 2>&1; then
    record paging_fixture 1 "$tmp/big.log"
else
    out="$tmp/paging.log"
    : >"$out"
    duro --sqlite "$big" list --all >"$tmp/all.out" 2>>"$out"
    rc_all=$?
    duro --sqlite "$big" list --limit 700 >"$tmp/pages.out" 2>"$tmp/page.err"
    rc_pages=$?
    pages=1
    while [ "$rc_pages" -eq 0 ] && [ "$pages" -lt 20 ] && grep -q 'more instances: --cursor' "$tmp/page.err"; do
        cursor=$(sed -n 's/^duro: more instances: --cursor //p' "$tmp/page.err")
        duro --sqlite "$big" list --limit 700 --cursor "$cursor" >"$tmp/page.out" 2>"$tmp/page.err"
        rc_pages=$?
        sed 1d "$tmp/page.out" >>"$tmp/pages.out"
        pages=$((pages + 1))
    done
    # column widths depend on the widest id of a page: compare without padding
    tr -s ' ' <"$tmp/all.out" >"$tmp/all.cmp"
    tr -s ' ' <"$tmp/pages.out" >"$tmp/pages.cmp"
    rows=$(($(wc -l <"$tmp/all.out") - 1))
    distinct=$(sed 1d "$tmp/all.out" | cut -d' ' -f1 | sort -u | wc -l)
    echo "list --all: exit $rc_all, $rows rows, $distinct distinct; pages: exit $rc_pages, $pages pages" >>"$out"
    [ "$rc_all" -eq 0 ] && [ "$rc_pages" -eq 0 ] && [ "$rows" -eq 2507 ] &&
        [ "$distinct" -eq 2507 ] && [ "$pages" -eq 4 ] &&
        diff "$tmp/all.cmp" "$tmp/pages.cmp" >>"$out"
    record list_all_equals_the_pages $? "$out"
    duro --sqlite "$big" list --all --json >"$tmp/all.json" 2>"$out"
    check json-list-all fixture --check-json "$tmp/all.json" --count 2507
fi

{
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<testsuites>'
    printf '  <testsuite name="cli" package="duro" id="0" tests="%d" failures="%d" errors="0" skipped="0" time="0" timestamp="%s" hostname="%s">\n' \
        "$total" "$failures" "$(date -u +%Y-%m-%dT%H:%M:%S)" "$(uname -n | xml_escape)"
    echo '    <properties/>'
    cat "$cases"
    echo '    <system-out/>'
    echo '    <system-err/>'
    echo '  </testsuite>'
    echo '</testsuites>'
} >"$junit_dir/cli.xml"
[ "$failures" -eq 0 ]
