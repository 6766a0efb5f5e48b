#!/usr/bin/env bash
# tests/netns-scaleout.sh — make check (when configure found libpq): "many machines, on one
# box" (issue 10). Network namespaces joined by veth links to a bridge stand for hosts on a
# LAN: the PostgreSQL server on "db", two runtime processes on each of "rt1" and "rt2", and
# the driver on "drv", all talking TCP over 10.213.0.0/24, an address range that exists only
# inside the namespaces this script creates. The driver runs the stress spec's workload
# (parallel fan-out: 5 activities of 10 ms per instance, 20 instances in flight) for a
# bounded count of instances; once rt1 has done some of the work, rt1 dies as a machine dies:
# its link is cut first (nothing it sends reaches the server any more, not even the FIN of
# its connections) and then every process in it gets SIGKILL. Every instance must still
# complete through rt2. The script then checks, from the driver's verdict and the ledgers
# of every process (duro-stress --ledger, docs/stress.md):
#   - the driver's gates: every output verified, every history well formed with each
#     ActivityScheduled paired with exactly one completion, stored state and outputs equal
#     to what was observed, queues empty and nothing running afterwards;
#   - the kill came mid-run: rt1 had executed activities and finished instances before it,
#     instances were in flight at the cut, and those finished on rt2, including instances
#     rt1 was working on (it had run some of their activities); rt1 did nothing after the
#     kill;
#   - every end was committed once, by the runtime the store names as its finisher;
#   - no session of rt1 is still in a transaction on the server at the end (the provider's
#     dead_client_timeout_ms ends them; without it they would hold their locks for hours);
#   - at-least-once, within the contract: every task ran, and a task ran twice only where rt1
#     ran it and died before its completion was stored: once on rt1, before the kill, and
#     once on rt2, after the cut (the history check above proves one completion stored).
# It prints the figures (instances, kill time, re-runs, take-over and run times) that
# docs/scale-out.md quotes.
#
# Skips (exit 77) when not root or when `ip netns`, veth or bridges are unavailable, except
# under CI=true as root, where that is a failure: CI must run it. Every wait is bounded;
# namespaces, links, processes, the server and the temporary folder are removed on exit,
# whatever happens (trap EXIT INT TERM HUP). Environment: DURO_SRCDIR (the source tree, for
# ci/pg-server.sh), DURO_JUNIT_DIR (where netns-scaleout.xml goes: one testcase, passed,
# failed or skipped, with the figures as properties), DURO_TEST_WRAPPER (prefix of every
# program; valgrind under make check-valgrind, with a lighter load), DURO_NETNS_KEEP=1 keeps
# the temporary folder (ledgers, outputs, server log) for inspection.
set -euo pipefail

me=netns-scaleout
src=${DURO_SRCDIR:-.}
pg_server="$src/ci/pg-server.sh"
wrapper=${DURO_TEST_WRAPPER:-}
junit_dir=${DURO_JUNIT_DIR:-test-results}
t0=$SECONDS
verdict=""   # why it failed or skipped
report=""    # the figures, key=value ...

xml_escape() {
    sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

# $junit_dir/netns-scaleout.xml for exit status $1: 0 passed, 77 skipped, else failed.
write_junit() {
    local status=$1 kv fails=0 skips=0 result="" msg
    msg=$(printf '%s' "$verdict" | xml_escape)
    case $status in
    0) ;;
    77) skips=1 result="      <skipped message=\"$msg\"/>" ;;
    *) fails=1 result="      <failure type=\"scale-out\" message=\"${msg:-exit status $status}\"/>" ;;
    esac
    mkdir -p "$junit_dir" || return 0
    {
        echo '<?xml version="1.0" encoding="UTF-8"?>'
        echo '<testsuites>'
        printf '  <testsuite name="netns-scaleout" package="duro.postgres" id="0" tests="1" failures="%d" errors="0" skipped="%d" time="%d" timestamp="%s" hostname="%s">\n' \
            "$fails" "$skips" $((SECONDS - t0)) "$(date -u +%Y-%m-%dT%H:%M:%S)" "$(uname -n | xml_escape)"
        echo '    <properties>'
        for kv in $report; do
            printf '      <property name="%s" value="%s"/>\n' "${kv%%=*}" "${kv#*=}"
        done
        echo '    </properties>'
        printf '    <testcase name="kill_one_host_mid_run" classname="netns-scaleout" time="%d"%s\n' \
            $((SECONDS - t0)) "$([ -n "$result" ] && echo '>' || echo '/>')"
        if [ -n "$result" ]; then
            echo "$result"
            echo '    </testcase>'
        fi
        echo '    <system-out/>'
        echo '    <system-err/>'
        echo '  </testsuite>'
        echo '</testsuites>'
    } >"$junit_dir/netns-scaleout.xml"
}

say() { printf '%s: %s\n' "$me" "$*"; }
skip() {
    verdict=$*
    say "SKIP: $*"
    exit 77
}
die() {
    verdict=$*
    say "FAIL: $*" >&2
    exit 1
}
trap 'status=$?; write_junit "$status" || true; exit "$status"' EXIT # until cleanup() takes over

# A missing facility: skip, but under CI (as root) the test must run, so fail.
unavailable() {
    if [ "${CI:-}" = true ]; then
        die "$* (CI=true as root: this test must run here)"
    fi
    skip "$*"
}

# ---- the workload ------------------------------------------------------------------------
instances=300        # roots the driver starts
in_flight=20         # closed loop
tasks=5              # activities per root
delay_ms=10          # per activity
threads=2            # orchestration and activity threads per runtime process (2/2)
per_host=2           # runtime processes per runtime host
window=60            # the driver launches for at most this long ...
wait_timeout=60      # ... and fails a root not done this long after its start
budget=170           # seconds the whole run may take before the script gives up
if [ -n "$wrapper" ]; then # valgrind: tens of times slower
    instances=60
    in_flight=6
    window=300
    wait_timeout=400
    budget=900
fi
kill_after=$((instances / 4)) # roots done before rt1 dies
# Everything here runs niced: inside make -j2 check, tests with real-time bounds (the
# conformance suites' 25 ms wake-ups) share the two cores with this run's server, four
# runtimes and driver; nothing here is sensitive to scheduling latency.
niceness=10
killed=rt1
survivor=rt2

# ---- can it run here? --------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] ||
    skip "network namespaces need root (run make check as root, as CI does)"
command -v ip >/dev/null 2>&1 || unavailable "ip (iproute2) is not installed"
[ -x ./stress/duro-stress ] || die "./stress/duro-stress is missing: run from the build tree"
id=$$
probe="duro-$id-probe"
ip netns add "$probe" 2>/dev/null || unavailable "ip netns does not work here"
if ! ip -n "$probe" link add duro-p0 type veth peer name duro-p1 2>/dev/null ||
    ! ip -n "$probe" link add duro-pb type bridge 2>/dev/null; then
    ip netns del "$probe"
    unavailable "veth links or bridges are not available in network namespaces"
fi
ip netns del "$probe"

# ---- cleanup, whatever happens -----------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/duro-netns.XXXXXX")
chmod 0755 "$tmp" # the server's user must reach $tmp/pg
namespaces=()
started=()   # pids of the runtimes and the driver
server_up=0

cleanup() {
    local status=$? ns pid
    set +e
    trap - EXIT INT TERM HUP
    {   # (stderr: no "Killed" job messages)
        for pid in "${started[@]}"; do
            kill -KILL "$pid"
        done
        [ "$server_up" -eq 0 ] || "$pg_server" stop "$tmp/pg" >/dev/null
        for ns in "${namespaces[@]}"; do # anything else still inside one of ours
            for pid in $(ip netns pids "$ns"); do
                kill -KILL "$pid"
            done
        done
        for pid in "${started[@]}"; do
            wait "$pid"
        done
    } 2>/dev/null
    for ns in "${namespaces[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do # a namespace goes once its last process has
            [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
            sleep 0.1
        done
        ip netns del "$ns" 2>/dev/null || say "could not delete namespace $ns" >&2
    done
    if [ "${DURO_NETNS_KEEP:-}" = 1 ]; then
        say "kept $tmp"
    else
        rm -rf "$tmp"
    fi
    write_junit "$status"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- the hosts: one namespace each, a veth link to a bridge in a switch namespace ----------
ns() { echo "duro-$id-$1"; }
declare -A addr=([db]=10.213.0.1 [drv]=10.213.0.2 [rt1]=10.213.0.11 [rt2]=10.213.0.12)
ip netns add "$(ns sw)"
namespaces+=("$(ns sw)")
ip -n "$(ns sw)" link add duro-br type bridge
ip -n "$(ns sw)" link set duro-br up
for h in db drv rt1 rt2; do
    ip netns add "$(ns "$h")"
    namespaces+=("$(ns "$h")")
    # both ends are created directly in their namespaces: nothing appears on the host
    ip link add duro0 netns "$(ns "$h")" type veth peer name "duro-$h" netns "$(ns sw)"
    ip -n "$(ns sw)" link set "duro-$h" master duro-br up
    ip -n "$(ns "$h")" addr add "${addr[$h]}/24" dev duro0
    ip -n "$(ns "$h")" link set duro0 up
    ip -n "$(ns "$h")" link set lo up
done

# ---- the database host -------------------------------------------------------------------
conninfo=$(ip netns exec "$(ns db)" nice -n "$niceness" env DURO_PG_LISTEN="${addr[db]}" \
    "$pg_server" start "$tmp/pg") ||
    die "the PostgreSQL server did not start (ci/pg-server.sh; see $tmp/pg/server.log)"
server_up=1
case $conninfo in "host=${addr[db]} "*) ;; *) die "the server does not listen on TCP: $conninfo" ;; esac
store="duro_netns_$id $conninfo"
say "server on db (${addr[db]}), store '$store'"

# ---- the runtime hosts -------------------------------------------------------------------
declare -A rt_pid
for h in rt1 rt2; do
    for k in $(seq 1 "$per_host"); do
        # shellcheck disable=SC2086 # an empty or multi-word wrapper must split
        ip netns exec "$(ns "$h")" nice -n "$niceness" $wrapper ./stress/duro-stress \
            --provider postgres \
            --role runtime --store "$store" --name "$h.$k" --ledger "$tmp/$h.$k.ledger" \
            --config "$threads/$threads" --activity-delay "$delay_ms" --duration "$budget" \
            >"$tmp/$h.$k.out" 2>&1 &
        rt_pid[$h.$k]=$!
        started+=("$!")
    done
done

# ---- the driver --------------------------------------------------------------------------
t_start=$(date +%s%3N)
# shellcheck disable=SC2086
ip netns exec "$(ns drv)" nice -n "$niceness" $wrapper ./stress/duro-stress \
    --provider postgres --role driver \
    --store "$store" --scenario parallel --count "$instances" --duration "$window" \
    --max-concurrent "$in_flight" --tasks-per-instance "$tasks" --activity-delay "$delay_ms" \
    --config "$threads/$threads" --wait-timeout "$wait_timeout" --min-success 100 \
    --ledger "$tmp/driver.ledger" --json "$tmp/driver.json" --no-progress \
    >"$tmp/driver.out" 2>&1 &
drv_pid=$!
started+=("$drv_pid")
touch "$tmp/driver.ledger"

alive() { kill -0 "$1" 2>/dev/null; }
show_outputs() {
    local f
    for f in "$tmp"/*.out; do
        printf '==== %s\n' "${f##*/}"
        tail -n 40 "$f"
    done
}

# ---- wait until rt1 has done part of the work, then the machine dies -----------------------
deadline=$((SECONDS + budget))
while :; do
    n_done=$(grep -c ' done ' "$tmp/driver.ledger" || true)
    n_fin=$(grep -c " done driver .* $killed\\." "$tmp/driver.ledger" || true)
    n_act=$(cat "$tmp/$killed".*.ledger 2>/dev/null | grep -c ' act ' || true)
    [ "$n_done" -ge "$kill_after" ] && [ "$n_fin" -ge 1 ] && [ "$n_act" -ge 10 ] && break
    if ! alive "$drv_pid"; then
        show_outputs
        die "the run ended before $killed could be killed ($n_done done)"
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "no progress: $n_done done after ${budget}s"
    sleep 0.05
done
t_cut=$(date +%s%3N)
ip -n "$(ns "$killed")" link set duro0 down
ip -n "$(ns sw)" link set "duro-$killed" down
victims=$(ip netns pids "$(ns "$killed")")
[ -n "$victims" ] || die "no process left on $killed to kill"
{   # (stderr: no "Killed" job messages)
    # shellcheck disable=SC2086 # one pid per word
    kill -KILL $victims || true
    for k in $(seq 1 "$per_host"); do
        for _ in $(seq 1 100); do # SIGKILL takes effect at once; 10 s at most
            alive "${rt_pid[$killed.$k]}" || break
            sleep 0.1
        done
        alive "${rt_pid[$killed.$k]}" || wait "${rt_pid[$killed.$k]}" || true
    done
} 2>/dev/null
for k in $(seq 1 "$per_host"); do
    ! alive "${rt_pid[$killed.$k]}" || die "runtime $killed.$k survived SIGKILL"
done
t_kill=$(date +%s%3N)
[ -z "$(ip netns pids "$(ns "$killed")")" ] || die "processes left on $killed after the kill"
ip -n "$(ns "$killed")" link show duro0 | grep -q 'state DOWN' || die "$killed's link is still up"
say "$killed cut and killed at $((t_cut - t_start))ms into the run: $n_done roots done," \
    "$n_act activities on $killed so far"

# ---- the rest of the run goes through rt2 ----------------------------------------------------
while alive "$drv_pid" && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.1
done
if alive "$drv_pid"; then
    kill -KILL "$drv_pid"
    show_outputs
    die "the driver did not finish within ${budget}s"
fi
drv_status=0
wait "$drv_pid" || drv_status=$?
t_end=$(date +%s%3N)
for k in $(seq 1 "$per_host"); do
    kill -TERM "${rt_pid[$survivor.$k]}" 2>/dev/null || true
done
stop_deadline=$((SECONDS + 60))
for k in $(seq 1 "$per_host"); do
    while alive "${rt_pid[$survivor.$k]}" && [ "$SECONDS" -lt "$stop_deadline" ]; do
        sleep 0.1
    done
    alive "${rt_pid[$survivor.$k]}" && die "runtime $survivor.$k did not stop on SIGTERM"
    rt_status=0
    wait "${rt_pid[$survivor.$k]}" || rt_status=$?
    [ "$rt_status" -eq 0 ] || {
        show_outputs
        die "runtime $survivor.$k exited with status $rt_status"
    }
done
cat "$tmp/driver.out"
[ "$drv_status" -eq 0 ] || {
    show_outputs
    die "the driver's gates failed (exit status $drv_status)"
}
# what is left of the dead host on the server: no session of it may still hold a transaction
sessions=$("$pg_server" sql "$tmp/pg" "SELECT count(*) FILTER (WHERE state LIKE 'idle in transaction%'), count(*) FROM pg_stat_activity WHERE client_addr = '${addr[$killed]}'")
[ "${sessions%%|*}" -eq 0 ] ||
    die "${sessions%%|*} session(s) of $killed still in a transaction on the server at the end"

# ---- what the ledgers say ----------------------------------------------------------------
# Fields: time(ms) event who instance ...; driver: start | done STATE FINISHER; runtime:
# act ACTIVITY INPUT-HASH | end STATE. A host is the part of a runner's name before the dot.
figures=$(awk -v n="$instances" -v tasks="$tasks" -v t_cut="$t_cut" -v t_kill="$t_kill" \
    -v t_start="$t_start" -v t_end="$t_end" -v killed="$killed" -v survivor="$survivor" \
    '
function host(r) { sub(/\..*/, "", r); return r }
function fail(m) { print "FAIL " m; bad = 1 }
$2 == "start" { start[$4] = $1; n_start++; if ($1 < t_cut) started_before++ }
$2 == "done" {
    n_done++; done_at[$4] = $1; fin[$4] = $6
    if ($5 != "Completed") fail($4 " ended " $5)
    if ($1 > last_done) last_done = $1
    if ($1 < t_cut) done_before++
}
$2 == "act" {
    h = host($3); acts[h]++; key = $4 " " $5 " " $6; runs[key]++
    if (h == killed) { on_killed[key]++; killed_at[key] = $1; touched[$4] = 1 }
    else if ($1 > t_cut) after_cut[key]++
    if (h == killed && $1 > t_kill) fail(killed " ran " key " after its kill")
}
$2 == "end" && $4 ~ /^stress-[0-9]+$/ {
    if ($4 in ender) fail($4 " end committed twice (" ender[$4] ", " $3 ")")
    ender[$4] = $3
}
END {
    if (n_start != n || n_done != n) fail(n_start " started and " n_done " done of " n)
    for (i in fin) {
        if (fin[i] == "-") fail(i " has no finisher")
        if ((i in ender) && ender[i] != fin[i]) fail(i " end committed by " ender[i] ", stored finisher " fin[i])
        if (!(i in ender) && host(fin[i]) != killed) fail(i " finished by " fin[i] " without its ledger line")
        finished[host(fin[i])]++
        if (start[i] < t_cut && done_at[i] > t_cut) {
            inflight++
            if (host(fin[i]) != killed) inflight_elsewhere++
            else if (done_at[i] > t_cut + 3000) fail(i " finished by " killed " after the cut")
            if ((i in touched) && host(fin[i]) != killed) taken_over++
        }
    }
    for (k in runs) {
        distinct++
        if (runs[k] == 1) continue
        reruns += runs[k] - 1
        if (!have_oldest || killed_at[k] < oldest_rerun) { oldest_rerun = killed_at[k]; have_oldest = 1 }
        if (runs[k] != 2 || on_killed[k] != 1 || after_cut[k] != 1)
            fail("task " k " ran " runs[k] " times (" on_killed[k] + 0 " on " killed ", " after_cut[k] + 0 " elsewhere after the cut)")
    }
    if (distinct != n * tasks) fail(distinct " distinct tasks ran, not " n * tasks)
    if (acts[killed] < 1 || finished[killed] < 1) fail(killed " did no work before the kill")
    if (done_before < 1 || started_before >= n) fail("the kill was not mid-run (" done_before " done, " started_before " started before it)")
    if (inflight_elsewhere < 1) fail("no instance in flight at the cut finished elsewhere")
    if (taken_over < 1) fail("no instance " killed " was working on at the cut finished elsewhere")
    printf "instances=%d kill_ms=%d done_before=%d started_before=%d inflight=%d inflight_elsewhere=%d taken_over=%d reruns=%d rerun_window_ms=%d acts_killed=%d finished_killed=%d acts_total=%d takeover_ms=%d run_ms=%d\n", \
        n, t_cut - t_start, done_before, started_before, inflight, inflight_elsewhere, \
        taken_over, reruns, reruns ? t_kill - oldest_rerun : 0, acts[killed], finished[killed], \
        acts[killed] + acts[survivor], last_done - t_cut, t_end - t_start
    exit bad
}' "$tmp/driver.ledger" "$tmp"/rt*.ledger) || {
    printf '%s\n' "$figures" | grep '^FAIL' | head -n 20 >&2
    die "the ledgers show a broken run: $(printf '%s\n' "$figures" | grep -m1 '^FAIL')"
}
report="$figures ${killed}_sessions_left=${sessions#*|}"
say "$report"
say "ok: every instance completed through $survivor after $killed died; re-runs only where" \
    "$killed held the work"
