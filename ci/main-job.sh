#!/usr/bin/env bash
# main-job.sh — the main job (README): install dependencies, bootstrap, configure and build
# in the source tree, then run the stress suite on the embedded SQLite default and print its
# results table (`make stress`). In a tree without the stress suite it builds and runs
# examples/hello instead. Arguments go to configure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ci/install-deps.sh
./autogen.sh
./configure --quiet "$@"
make -s -j2
if grep -q '^stress:' Makefile; then
    make -s stress
elif grep -q '^examples/hello[$](EXEEXT):' Makefile; then
    make -s examples/hello
    ./examples/hello
else
    echo "main-job.sh: this tree has neither a 'stress' target nor examples/hello" >&2
    exit 1
fi
