#!/usr/bin/env bash
# tests/mutants.sh — mutation testing of the conformance suite: how many single-site bugs
# planted in the SQLite provider (providers/sqlite/*.c) does duro-conformance catch? The
# mutants come from tests/mutants.py; this script builds a scratch copy of the tree once,
# then for each mutant overlays the one mutated file, rebuilds duro-conformance (only the
# provider objects and the links that depend on them are redone) and runs the suite on
# providers sqlite and sqlite-file. Run it from anywhere; `make check-mutants` runs it with
# $(MUTANTS_FLAGS). Not part of `make check` or CI: it is a measurement. See --help and
# docs/conformance.md ("Mutation harness").
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: tests/mutants.sh [OPTION]...
Mutation testing of the conformance suite against the SQLite provider. Every mutant is
one single-site change to one providers/sqlite/*.c file (found by glob) or util/notify.c. For
each mutant the scratch build is rebuilt and conformance/duro-conformance runs on
provider sqlite, then (if everything passed) on provider sqlite-file. A mutant is
  KILLED     when a case fails, or the run crashes or exceeds its timeout
  SURVIVED   when both runs pass: the suite did not notice the change
  STILLBORN  when the compiler rejects it; excluded from the kill rate (warnings are
             allowed: the scratch tree is configured --disable-werror, so that e.g. an
             SQL constant left unused by txn-drop still builds)
  EQUIVALENT a survivor listed in tests/mutants-equivalent.txt: shown to be a change no
             caller of the provider API can observe; excluded from the kill rate and
             reported with the reason recorded for it
Kill rate = killed / (killed + survived). The list names mutants by fingerprint (file,
enclosing function, operator, hash of the changed line before and after; see --list),
not by line number, so it keeps matching while other code moves.

Operators (ids are file:line:operator, with #k for the k-th on one line):
  cmp-negate cmp-bound       C comparison negated (== !=, < >=, > <=) / bound moved (< <=, > >=)
  lit-plus1 lit-minus1       integer literal of a C comparison +1 / -1
  sql-cmp-negate sql-cmp-bound sql-lit-plus1 sql-lit-minus1
                             the same inside SQL string literals (= != <> < <= > >=)
  sql-where-drop             one AND conjunct of a WHERE or JOIN ON clause removed
  txn-drop                   one statement running duro__sq_exec/_int/_step/_insert_*
                             replaced by (void)0, in code that runs inside a transaction
  errcode-swap               a DURO_E* constant replaced by the next one of duro-common.h
  retry-flip                 the retryable argument of duro_error_set flipped (0 <-> 1)

Selection (default: every mutant):
  --list             print the selected mutant ids with their fingerprint and change,
                     and exit (no build)
  --only ID          run only mutant ID (repeatable)
  --sample N         a deterministic subset of N mutants: the N smallest
                     sha256("SEED:ID"); the same N and SEED always pick the same ids
                     (while the sources do not change)
  --seed S           seed of --sample (default 1)
  --scope contract|all
                     contract (default): leave out the open-time code, which no
                     provider call runs (the constructor and its options, the schema's
                     migrations and checks, connection and pool setup, the suites' test
                     hooks; the list is OPEN_TIME in tests/mutants.py) and which
                     tests/test-sqlite.c covers; all: every mutant

Running:
  --jobs N           N scratch trees built and run in parallel (default 1)
  --timeout SEC      limit of each duro-conformance run (default: 3 x the unmutated
                     run of that provider + 30 s); a mutant that runs longer is killed
                     (hang) and counts as KILLED
  --cflags FLAGS     CFLAGS of the scratch build (default "-O2")
  --report FILE      also write the result as Markdown to FILE
  --min-rate P       exit 1 when the kill rate is below P percent
  -h, --help         print this help and exit

Output: one line per mutant as it finishes, then a summary table (mutants generated,
selected, stillborn, equivalent, killed, survived, kill rate, seconds per mutant), a
table per operator, every survivor with its id, fingerprint and unified diff (3 lines of
context), the equivalent ones with their reasons, and any listed mutant that was killed
(its entry is stale: remove it).

Time: the scratch build (autogen, configure, make) happens once per job; each mutant
then costs one compile of its file, a relink, and one or two suite runs (13 s on average on
2 cores). Every step is bounded: make by 600 s, each suite run by --timeout, so the worst
case is about selected x (600 + 2 x timeout) / jobs. Ctrl-C (or SIGTERM) stops the
running steps and removes the scratch folder ($TMPDIR or /tmp, duro-mutants.XXXXXX).
Be kind to a shared machine: nice -n 10 tests/mutants.sh --sample 40.

Exit status: 0 after a measurement (whatever the rate), 1 below --min-rate, 2 on a usage
error or when the unmutated tree fails to build or to pass the suite, 130 on Ctrl-C.
EOF
}

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gen=(python3 "$top/tests/mutants.py")
list_only=0 sample= seed=1 scope=contract jobs=1 timeout= cflags="-O2" report= min_rate=
only=()
die() { echo "mutants.sh: $*" >&2; exit 2; }
need() { [ $# -ge 2 ] || die "option $1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
    case $1 in
    --list) list_only=1 ;;
    --only) need "$@"; only+=(--only "$2"); shift ;;
    --sample) need "$@"; sample=$2; shift ;;
    --seed) need "$@"; seed=$2; shift ;;
    --scope) need "$@"; scope=$2; shift ;;
    --jobs) need "$@"; jobs=$2; shift ;;
    --timeout) need "$@"; timeout=$2; shift ;;
    --cflags) need "$@"; cflags=$2; shift ;;
    --report) need "$@"; report=$2; shift ;;
    --min-rate) need "$@"; min_rate=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done
for v in "$jobs" ${sample:+"$sample"} ${timeout:+"$timeout"}; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || die "'$v' is not a positive integer"
done
[ -z "$min_rate" ] || [[ $min_rate =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "bad --min-rate '$min_rate'"
case $report in ''|/*) ;; *) report=$PWD/$report ;; esac
case $scope in contract|all) ;; *) die "--scope must be contract or all (see --help)" ;; esac
gen+=(--scope "$scope")
select_args=("${only[@]}" ${sample:+--sample "$sample" --seed "$seed"})

if [ "$list_only" = 1 ]; then
    exec "${gen[@]}" --root "$top" list --verbose "${select_args[@]}"
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/duro-mutants.XXXXXX")
child=     # the step running in the foreground of this shell (main or worker)
workers=()
cleanup() { rm -rf "$scratch"; }
on_signal() {
    trap - INT TERM
    [ -z "$child" ] || kill -TERM "$child" 2>/dev/null || true
    for w in "${workers[@]}"; do kill -TERM "$w" 2>/dev/null || true; done
    wait 2>/dev/null || true
    cleanup
    echo "mutants.sh: interrupted; scratch folder removed" >&2
    exit 130
}
trap cleanup EXIT
trap on_signal INT TERM

# In a background step (build, worker): SIGINT (Ctrl-C reaches the whole foreground
# process group) or SIGTERM (from on_signal) stops the running step, then the subshell.
stop() { trap '[ -z "$child" ] || kill -TERM "$child" 2>/dev/null; exit 143' INT TERM; }

# run LIMIT LOG CMD...: CMD with output to LOG, killed (with its process group) after LIMIT
# seconds (status 124, or 137 if it ignores SIGTERM). In the background so that a signal
# reaches the trap at once.
run() {
    local limit=$1 log=$2 rc=0
    shift 2
    timeout -k 5 "$limit" "$@" >"$log" 2>&1 </dev/null &
    child=$!
    wait "$child" || rc=$?
    child=
    return "$rc"
}

# The snapshot: the tree's files (tracked and untracked-but-not-ignored; a copy of
# everything outside git), bootstrapped once. Mutants are generated from it, so edits made
# to the tree during the run do not matter.
snap=$scratch/snapshot
mkdir -p "$snap"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$top" && git ls-files -z --cached --others --exclude-standard |
        tar --null --no-recursion --ignore-failed-read -T - -cf - 2>/dev/null) |
        tar -xf - -C "$snap"
else
    cp -a "$top/." "$snap"
    [ ! -f "$snap/Makefile" ] || (cd "$snap" && make -s distclean >/dev/null 2>&1) ||
        die "$top is configured in-tree and 'make distclean' failed in the copy"
fi
# From here on the snapshot's own generator: editing the tree during a run changes nothing.
gen=(python3 "$snap/tests/mutants.py" --scope "$scope")
"${gen[@]}" --root "$snap" list "${select_args[@]}" >"$scratch/selected" ||
    die "cannot generate mutants"
total=$("${gen[@]}" --root "$snap" count)
selected=$(wc -l <"$scratch/selected")
[ "$selected" -gt 0 ] || die "no mutant selected"
[ "$jobs" -le "$selected" ] || jobs=$selected
echo "mutants.sh: $total mutants generated, $selected selected, $jobs job(s); scratch $scratch"

start=$SECONDS
run 600 "$scratch/autogen.log" sh -c "cd '$snap' && ./autogen.sh" ||
    die "autogen.sh failed: $(tail -5 "$scratch/autogen.log")"

# build W: configure and build duro-conformance in scratch tree w$W (a copy of the snapshot).
build() {
    local t=$scratch/w$1
    stop
    cp -a "$snap" "$t"
    mkdir -p "$t/tmp"
    run 600 "$t/build.log" sh -c "cd '$t' && ./configure --quiet --disable-werror CFLAGS='$cflags' &&
        make -s conformance/duro-conformance"
}
for ((w = 1; w <= jobs; w++)); do
    build "$w" &
    workers+=($!)
done
for w in "${workers[@]}"; do
    wait "$w" || die "the scratch build failed (log: $(ls "$scratch"/w*/build.log | head -1)):
$(tail -20 "$scratch"/w*/build.log)"
done
workers=()

# suite T PROVIDER LOG: one duro-conformance run in tree T, its files under T/tmp.
suite() {
    rm -rf "$1/tmp" && mkdir -p "$1/tmp"
    run "$4" "$3" env TMPDIR="$1/tmp" "$1/conformance/duro-conformance" --provider "$2"
}

# The unmutated suite must pass: a failure here would count every mutant as killed.
declare -A limit
for p in sqlite sqlite-file; do
    t0=$SECONDS
    suite "$scratch/w1" "$p" "$scratch/baseline-$p.log" 1800 ||
        die "the unmutated suite fails on provider $p:
$(grep -E 'FAIL|passed' "$scratch/baseline-$p.log" | tail -20)"
    limit[$p]=${timeout:-$((3 * (SECONDS - t0) + 30))}
done
echo "mutants.sh: scratch build and baseline in $((SECONDS - start)) s; run limits:" \
    "sqlite ${limit[sqlite]} s, sqlite-file ${limit[sqlite-file]} s"

# verdict LOG STATUS: why a suite run killed its mutant.
verdict() {
    case $2 in
    124|137) echo "timeout" ;;
    1) grep -Eo '[0-9]+ failed' "$1" | tail -1 || echo "failed" ;;
    *) if [ "$2" -gt 128 ]; then echo "crash (signal $(($2 - 128)))"; else echo "exit $2"; fi ;;
    esac
}

# worker W: the mutants at positions W, W+jobs, ... of the selection, one at a time.
worker() {
    local t=$scratch/w$1 n=0 id file last= rc status detail t0 p
    stop
    while IFS= read -r id; do
        n=$((n + 1))
        [ $(((n - 1) % jobs + 1)) -eq "$1" ] || continue
        t0=$SECONDS
        file=${id%%:*}
        # A file mutated by the previous mutant is restored first (a fresh mtime: rebuilt).
        if [ -n "$last" ] && [ "$last" != "$file" ]; then cp "$snap/$last" "$t/$last"; fi
        last=$file
        "${gen[@]}" --root "$snap" apply "$id" --into "$t"
        status=killed detail=
        if ! run 600 "$t/make.log" make -C "$t" -s conformance/duro-conformance; then
            status=stillborn detail=$(grep -m1 -E 'error' "$t/make.log" || echo "build failed")
        else
            for p in sqlite sqlite-file; do
                rc=0
                suite "$t" "$p" "$t/run.log" "${limit[$p]}" || rc=$?
                if [ "$rc" -ne 0 ]; then detail="$p: $(verdict "$t/run.log" "$rc")"; break; fi
            done
            [ -n "$detail" ] || status=survived
        fi
        printf '%s\t%s\t%s\t%s\n' "$id" "$status" "$((SECONDS - t0))" "$detail" \
            >>"$scratch/results.$1"
        printf '[%3d/%d] %-9s %s (%d s) %s\n' "$n" "$selected" "$status" "$id" \
            "$((SECONDS - t0))" "$detail"
    done <"$scratch/selected"
}
start=$SECONDS
for ((w = 1; w <= jobs; w++)); do
    worker "$w" &
    workers+=($!)
done
for w in "${workers[@]}"; do wait "$w" || die "worker failed"; done
workers=()
elapsed=$((SECONDS - start))

cat "$scratch"/results.* >"$scratch/results"
rc=0
"${gen[@]}" --root "$snap" report "$scratch/results" --selected "$selected" \
    --note "jobs=$jobs" --note "wall seconds=$elapsed" \
    ${sample:+--note "sample=--sample $sample --seed $seed"} \
    ${report:+--markdown "$report"} ${min_rate:+--min-rate "$min_rate"} || rc=$?
exit "$rc"
