#!/usr/bin/env bash
# test.sh — the test command (README): install dependencies, bootstrap, configure, build
# and run `make check` in the source tree. Every test program writes its JUnit file into
# test-results/ (emptied first). Arguments go to configure (e.g. --enable-sanitizers).
# On a test failure it prints test-suite.log, which holds the .log of every failing test,
# and exits 1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ci/install-deps.sh
./autogen.sh
./configure --quiet "$@"
make -s -j2
rm -rf test-results
if ! make -s -j2 check; then
    if [ -f test-suite.log ]; then
        echo "==== test-suite.log (with the log of each failing test) ===="
        cat test-suite.log
    fi
    echo "test.sh: make check failed" >&2
    exit 1
fi
