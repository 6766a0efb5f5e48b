#!/bin/sh
# tests/cli.sh — make check: the `duro` command end to end on real SQLite files, and (run by
# tests/run-cli-postgres.sh with DURO_CLI_PG_URI set) on real PostgreSQL schemas.
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
# On PostgreSQL (DURO_CLI_PG_URI: a libpq URI without blanks, DURO_PG_DIR: the folder of its
# ci/pg-server.sh server, database duro) each store is a schema of that database, the same
# checks run with the same expected files, except where tests/cli-expected/postgres/NAME.out
# exists (a provider difference, to be explained in docs/decisions.md; there is none), and with
# PostgreSQL's meaning of the SQLite-specific ones: the store's rows (not file bytes) are
# unchanged by the reads, reads answer while every table is locked IN EXCLUSIVE MODE, a
# missing schema fails with 1 and is not created; paging runs over 1000 instances, not 2500.
# The precedence of --sqlite, --postgres, DURO_SQLITE and DURO_PG_CONNINFO is checked in both.
# Writes $DURO_JUNIT_DIR/cli-postgres.xml then.
# Environment (Makefile.am): DURO_SRCDIR, DURO_JUNIT_DIR, DURO_TEST_WRAPPER.
set -u
set -f # the store arguments ($at_db, ...) are split on blanks, never globbed
unset DURO_SQLITE DURO_PG_CONNINFO
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

# The stores: $db, $life, $big are SQLite files or PostgreSQL schema names; $at_X are the
# duro options that select store X; $fx the fixture's store option; sums prints a checksum of
# the store $db.
if [ -n "${DURO_CLI_PG_URI:-}" ]; then
    provider=postgres
    suite=cli-postgres
    db=cli_main life=cli_life big=cli_big bulk=1000 page=300
    fx="--postgres $DURO_CLI_PG_URI"
    at() { echo "--postgres $DURO_CLI_PG_URI --pg-schema $1"; }
    pg_sql() { "$src/ci/pg-server.sh" sql "$DURO_PG_DIR" "$1"; }
    sums() {
        q="SELECT md5(string_agg(r, '|' ORDER BY r)) FROM ("
        for t in instances executions history orch_queue instance_locks work_queue schema_version; do
            q="$q SELECT '$t:' || t::text AS r FROM $db.$t t UNION ALL"
        done
        pg_sql "$q SELECT '') rows"
    }
else
    provider=sqlite
    suite=cli
    db="$tmp/store.db" life="$tmp/life.db" big="$tmp/big.db" bulk=2500 page=700
    fx=
    at() { echo "--sqlite $1"; }
    sums() { cat "$db" "$db-wal" 2>/dev/null | cksum; }
fi
at_db=$(at "$db")
at_life=$(at "$life")
at_big=$(at "$big")

xml_escape() {
    sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

# record NAME STATUS OUTPUT-FILE: one testcase; STATUS 0 passes.
record() {
    total=$((total + 1))
    if [ "$2" -eq 0 ]; then
        printf '    <testcase name="%s" classname="%s" time="0"/>\n' "$1" "$suite" >>"$cases"
        echo "PASS: $1"
    else
        failures=$((failures + 1))
        {
            printf '    <testcase name="%s" classname="%s" time="0">\n' "$1" "$suite"
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
    want="$expected/$name.out"
    [ "$provider" = postgres ] && [ -f "$expected/postgres/$name.out" ] &&
        want="$expected/postgres/$name.out"
    duro "$@" >"$tmp/$name.raw" 2>"$out"
    rc=$?
    untime <"$tmp/$name.raw" >"$tmp/$name.out"
    if [ -n "${DURO_CLI_UPDATE:-}" ]; then
        if [ "$provider" = sqlite ]; then
            cp "$tmp/$name.out" "$expected/$name.out"
        elif ! cmp -s "$tmp/$name.out" "$expected/$name.out"; then
            mkdir -p "$expected/postgres"
            cp "$tmp/$name.out" "$expected/postgres/$name.out"
            want="$expected/postgres/$name.out"
        fi
    fi
    if [ "$rc" -ne 0 ]; then
        echo "duro $*: exit $rc, expected 0" >>"$out"
        record "$name" 1 "$out"
    elif ! diff -u "$want" "$tmp/$name.out" >>"$out" 2>&1; then
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

if ! fixture $fx "$db" 0 >"$tmp/fixture.log" 2>&1; then
    record fixture 1 "$tmp/fixture.log"
else
    before=$(sums)

    golden list $at_db list
    golden list-running $at_db list --state running
    golden list-filtered $at_db list --name Hello --prefix a4
    golden list-limit $at_db list --limit 2
    golden show-completed $at_db show a1-done
    golden show-failed $at_db show a2-failed
    golden show-running $at_db show a3-running
    golden show-parent $at_db show a4-parent
    golden show-child $at_db show a4-parent-c1
    golden show-continued $at_db show a5-loop
    golden history $at_db history a1-done
    golden history-execution $at_db history a5-loop --execution 1
    golden tree $at_db tree a4-parent
    golden stats $at_db stats
    golden values $at_db values a3-running
    golden values-key $at_db values a3-running color
    golden values-json $at_db values a3-running --json
    golden values-key-json $at_db values a3-running note --json
    golden values-none $at_db values a1-done
    if [ "$provider" = sqlite ]; then
        DURO_SQLITE="$db" golden env-store show a1-done
        # the option beats the environment; DURO_SQLITE beats DURO_PG_CONNINFO
        DURO_PG_CONNINFO="host=/nonexistent" golden option-beats-env $at_db show a1-done
        DURO_SQLITE="$db" DURO_PG_CONNINFO="host=/nonexistent" golden sqlite-env-first \
            show a1-done
    else
        DURO_PG_CONNINFO="$DURO_CLI_PG_URI" golden env-store --pg-schema "$db" show a1-done
        DURO_SQLITE="$tmp/missing.db" golden option-beats-env $at_db show a1-done
        DURO_SQLITE="$tmp/missing.db" DURO_PG_CONNINFO="$DURO_CLI_PG_URI" \
            status sqlite-env-first 1 "No such file or directory" show a1-done
        # without --pg-schema the schema is "duro", which the fixture did not make
        DURO_PG_CONNINFO="$DURO_CLI_PG_URI" exact default-schema 1 \
            "duro: cannot open the store: schema duro does not exist (a read-only open creates nothing)" \
            show a1-done
    fi
    unset DURO_SQLITE DURO_PG_CONNINFO # some shells keep a function call's assignments
    status sqlite-and-postgres 2 "duro: --sqlite and --postgres exclude each other" \
        --sqlite "$tmp/x.db" --postgres "host=/nonexistent" list
    status schema-for-sqlite 2 "duro: --pg-schema is for a PostgreSQL store, not SQLite" \
        --sqlite "$tmp/x.db" --pg-schema duro list

    for c in "list" "show a4-parent" "history a5-loop" "tree a4-parent" "stats" \
        "values a3-running"; do
        n=json-$(echo "$c" | sed 's/ .*//')
        # shellcheck disable=SC2086
        duro $at_db $c --json >"$tmp/$n.json" 2>"$tmp/$n.log"
        check "$n" fixture --check-json "$tmp/$n.json"
    done
    golden json-show $at_db show a2-failed --json

    status list-more 0 "duro: more instances: --cursor " $at_db list --limit 2
    status show-missing 1 "duro: nope: " $at_db show nope
    status history-missing 1 "duro: nope: no such instance" $at_db history nope
    status tree-missing 1 "duro: nope: " $at_db tree nope
    exact values-missing 1 "duro: nope: instance nope not found" $at_db values nope
    exact values-missing-key 1 'duro: a3-running: instance a3-running has no value "nope"' \
        $at_db values a3-running nope
    status values-extra 2 "duro: unexpected argument 'c'" $at_db values a3-running color c
    status values-no-id 2 "duro: values ID [KEY] [--json]: missing arguments" $at_db values
    status no-command 2 "duro: no command given" $at_db
    status unknown-command 2 "duro: unknown command 'frob'" $at_db frob
    status unknown-option 2 "duro: unknown option '--force'" $at_db list --force
    status missing-value 2 "duro: option '--limit' needs a value" $at_db list --limit
    status bad-limit 2 "duro: --limit: '1001' is not a number within 1-1000" \
        $at_db list --limit 1001
    status bad-state 2 "duro: --state: unknown state 'done'" $at_db list --state done
    status bad-time 2 "duro: bad TIME '2026-13-01T00:00:00Z'" \
        $at_db list --created-after 2026-13-01T00:00:00Z
    status missing-id 2 "duro: show ID [--json]: missing arguments" $at_db show
    status extra-arg 2 "duro: unexpected argument 'b'" $at_db show a b
    status prune-no-keep 2 "duro: --keep N is required" $at_db prune a5-loop
    status no-store 2 \
        "duro: no store: give --sqlite FILE or --postgres CONNINFO (or set DURO_SQLITE or DURO_PG_CONNINFO)" list
    status all-cursor 2 "--all and --cursor exclude each other" \
        $at_db list --all --cursor x
    status bad-cursor 1 "duro: list: " $at_db list --cursor garbage

    # while another connection holds the write lock, every read command still answers
    out="$tmp/locked.log"
    : >"$out"
    locked=0
    for c in "list" "show a1-done" "history a1-done" "tree a4-parent" "stats" \
        "values a3-running"; do
        # shellcheck disable=SC2086
        if ! fixture $fx --while-locked "$db" ./tools/duro $at_db $c >/dev/null 2>>"$out"; then
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

    if [ "$provider" = sqlite ]; then
        mkdir "$tmp/empty"
        status missing-file 1 "No such file or directory" --sqlite "$tmp/empty/missing.db" list
        out="$tmp/missing-created.log"
        ls -A "$tmp/empty" >"$out"
        [ ! -s "$out" ]
        record missing_file_creates_nothing $? "$out"
    else
        exact missing-schema 1 \
            "duro: cannot open the store: schema cli_nope does not exist (a read-only open creates nothing)" \
            $(at cli_nope) list
        out="$tmp/missing-created.log"
        pg_sql "SELECT COUNT(*) FROM pg_namespace WHERE nspname = 'cli_nope'" >"$out" 2>&1
        [ "$(cat "$out")" = 0 ]
        record missing_schema_creates_nothing $? "$out"
    fi

    # Writes, on the same store.
    golden raise $at_db raise a3-running go yes
    golden cancel $at_db cancel a3-running "no longer needed"
    golden prune $at_db prune a5-loop --keep 1
    status history-pruned 1 "duro: a5-loop: execution 1 has no history" \
        $at_db history a5-loop --execution 1
    golden history-kept $at_db history a5-loop
    status delete-child 1 "is a sub-orchestration of a4-parent" $at_db delete a4-parent-c1
    status delete-running 1 "is running" $at_db delete a3-running
    golden delete $at_db delete a4-parent
    golden delete-bulk $at_db delete --bulk --state completed
    status bulk-with-id 2 "--bulk takes filters, not an ID" $at_db delete --bulk a1-done
    status filter-without-bulk 2 "filters need --bulk" $at_db delete --state failed
    golden delete-force $at_db delete a3-running --force
    golden list-after-writes $at_db list
fi

# Lifecycle controls on a store of their own: each is queued by duro, then
# `cli-fixture --until` runs a runtime until the instance reaches the state the control
# leads to, so the following `show` sees the turn that carried it out.
if ! fixture $fx "$life" 0 >"$tmp/life.log" 2>&1; then
    record lifecycle_fixture 1 "$tmp/life.log"
else
    golden suspend $at_life suspend a3-running "hold on"
    check until-suspended fixture $fx --until "$life" a3-running Suspended
    golden show-suspended $at_life show a3-running
    exact suspend-suspended 1 \
        'duro: a3-running: duro_client_suspend: instance "a3-running" is Suspended' \
        $at_life suspend a3-running
    golden resume $at_life resume a3-running
    check until-resumed fixture $fx --until "$life" a3-running Running
    golden show-resumed $at_life show a3-running
    exact resume-running 1 'duro: a3-running: duro_client_resume: instance "a3-running" is Running' \
        $at_life resume a3-running "again"
    golden terminate $at_life terminate a3-running "operator: stuck"
    check until-terminated fixture $fx --until "$life" a3-running Terminated
    golden show-terminated $at_life show a3-running
    golden history-lifecycle $at_life history a3-running
    exact terminate-terminated 1 \
        'duro: a3-running: duro_client_terminate: instance "a3-running" is Terminated' \
        $at_life terminate a3-running
    exact terminate-completed 1 \
        'duro: a1-done: duro_client_terminate: instance "a1-done" is Completed' \
        $at_life terminate a1-done
    exact suspend-missing 1 'duro: nope: duro_client_suspend: instance "nope" does not exist' \
        $at_life suspend nope
    status terminate-no-id 2 "duro: terminate ID [REASON]: missing arguments" \
        $at_life terminate
    status resume-extra 2 "duro: unexpected argument 'c'" $at_life resume a b c
    golden list-lifecycle $at_life list --prefix a3
fi

# Paging: --all against the --limit/--cursor pages joined, over $bulk instances.
if ! fixture $fx "$big" "$bulk" >"$tmp/big.log" 2>&1; then
    record paging_fixture 1 "$tmp/big.log"
else
    out="$tmp/paging.log"
    : >"$out"
    duro $at_big list --all >"$tmp/all.out" 2>>"$out"
    rc_all=$?
    duro $at_big list --limit "$page" >"$tmp/pages.out" 2>"$tmp/page.err"
    rc_pages=$?
    pages=1
    while [ "$rc_pages" -eq 0 ] && [ "$pages" -lt 20 ] && grep -q 'more instances: --cursor' "$tmp/page.err"; do
        cursor=$(sed -n 's/^duro: more instances: --cursor //p' "$tmp/page.err")
        duro $at_big list --limit "$page" --cursor "$cursor" >"$tmp/page.out" 2>"$tmp/page.err"
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
    [ "$rc_all" -eq 0 ] && [ "$rc_pages" -eq 0 ] && [ "$rows" -eq $((bulk + 7)) ] &&
        [ "$distinct" -eq $((bulk + 7)) ] && [ "$pages" -eq 4 ] &&
        diff "$tmp/all.cmp" "$tmp/pages.cmp" >>"$out"
    record list_all_equals_the_pages $? "$out"
    duro $at_big list --all --json >"$tmp/all.json" 2>"$out"
    check json-list-all fixture --check-json "$tmp/all.json" --count $((bulk + 7))
fi

{
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<testsuites>'
    printf '  <testsuite name="%s" package="duro" id="0" tests="%d" failures="%d" errors="0" skipped="0" time="0" timestamp="%s" hostname="%s">\n' \
        "$suite" "$total" "$failures" "$(date -u +%Y-%m-%dT%H:%M:%S)" "$(uname -n | xml_escape)"
    echo '    <properties/>'
    cat "$cases"
    echo '    <system-out/>'
    echo '    <system-err/>'
    echo '  </testsuite>'
    echo '</testsuites>'
} >"$junit_dir/$suite.xml"
[ "$failures" -eq 0 ]
