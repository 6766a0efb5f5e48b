#!/usr/bin/env bash
# junit-summary.sh — sum the results of every JUnit XML file under a directory (default
# test-results) and print one line: `N passed, N failed, N skipped`. Each <testcase> counts
# once: failed when it holds a <failure> or <error>, skipped when it holds <skipped>,
# otherwise passed. A file xmllint cannot parse counts as one failed test (its name goes to
# stderr). Exit status: 0 when nothing failed and at least one testcase was counted, 1
# otherwise, 2 on a usage error. Needs xmllint (Debian: libxml2-utils).
set -euo pipefail

if [ "$#" -gt 1 ]; then
    echo "usage: junit-summary.sh [DIRECTORY]" >&2
    exit 2
fi
dir=${1:-test-results}
command -v xmllint >/dev/null 2>&1 || {
    echo "junit-summary.sh: xmllint not found (Debian: libxml2-utils)" >&2
    exit 2
}

counts='concat(count(//testcase), " ",
               count(//testcase[failure or error]), " ",
               count(//testcase[skipped and not(failure or error)]))'

total=0 failed=0 skipped=0 files=0
if [ -d "$dir" ]; then
    while IFS= read -r -d '' file; do
        files=$((files + 1))
        if line=$(xmllint --nonet --huge --xpath "$counts" "$file" 2>/dev/null) &&
           read -r t f s <<<"$line" &&
           [[ $t =~ ^[0-9]+$ && $f =~ ^[0-9]+$ && $s =~ ^[0-9]+$ ]]; then
            total=$((total + t)) failed=$((failed + f)) skipped=$((skipped + s))
        else
            echo "junit-summary.sh: cannot read $file as JUnit XML; counted as one failed test" >&2
            total=$((total + 1)) failed=$((failed + 1))
        fi
    done < <(find "$dir" -type f -name '*.xml' -print0 | sort -z)
fi
if [ "$files" -eq 0 ]; then
    echo "junit-summary.sh: no JUnit files under $dir" >&2
fi

echo "$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$total" -gt 0 ]
