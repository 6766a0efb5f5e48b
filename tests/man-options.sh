#!/bin/sh
# tests/man-options.sh — make check: each man page documents exactly the options of its
# program. For duro.1 (every `duro --help` and `duro COMMAND --help`), duro-conformance.1
# and duro-stress.1, the set of long options that start an option line of --help (two
# spaces, then "--name" or "-h, --name") must equal the set of options the man page gives
# as a .TP tag (".B \-\-name", ".BI \-\-name ...", ".BR \-h ", " \-\-help"): an option
# missing on either side fails, naming it. Writes $DURO_JUNIT_DIR/man-options.xml.
# Environment (Makefile.am): DURO_SRCDIR, DURO_JUNIT_DIR, DURO_TEST_WRAPPER.
set -u
src="${DURO_SRCDIR:-.}"
junit_dir="${DURO_JUNIT_DIR:-test-results}"
mkdir -p "$junit_dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wrap="${DURO_TEST_WRAPPER:-}"
cases="$tmp/cases"
: >"$cases"
failures=0
total=0

xml_escape() {
    sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

# help_options: the long options that start an option line of the help on stdin.
help_options() {
    sed -n 's/^  \(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z0-9-]*\).*/\2/p' | sort -u
}

# man_options PAGE: the long options that are the tag (the line after .TP) of PAGE.
man_options() {
    sed -n '/^\.TP/{n;p;}' "$1" | sed 's/\\-/-/g' |
        grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

# compare NAME PAGE HELP-FILE
compare() {
    total=$((total + 1))
    help_options <"$3" >"$tmp/$1.help"
    man_options "$2" >"$tmp/$1.man"
    out="$tmp/$1.diff"
    if [ ! -s "$tmp/$1.help" ]; then
        echo "no options found in the --help output" >"$out"
    elif diff "$tmp/$1.help" "$tmp/$1.man" >"$tmp/$1.raw"; then
        printf '    <testcase name="%s" classname="man-options" time="0"/>\n' "$1" >>"$cases"
        echo "PASS: $1"
        return
    else
        sed -n -e 's/^< \(.*\)/\1 is in --help but not in the man page/p' \
            -e 's/^> \(.*\)/\1 is in the man page but not in --help/p' "$tmp/$1.raw" >"$out"
    fi
    failures=$((failures + 1))
    {
        printf '    <testcase name="%s" classname="man-options" time="0">\n' "$1"
        printf '      <failure type="assertion" message="options differ">'
        xml_escape <"$out"
        printf '</failure>\n    </testcase>\n'
    } >>"$cases"
    echo "FAIL: $1 ($2)"
    cat "$out"
}

: >"$tmp/duro.txt"
$wrap ./tools/duro --help >>"$tmp/duro.txt"
for c in $($wrap ./tools/duro --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p'); do
    $wrap ./tools/duro "$c" --help >>"$tmp/duro.txt"
done
compare duro "$src/man/duro.1" "$tmp/duro.txt"
$wrap ./conformance/duro-conformance --help >"$tmp/conformance.txt"
compare duro-conformance "$src/man/duro-conformance.1" "$tmp/conformance.txt"
$wrap ./stress/duro-stress --help >"$tmp/stress.txt"
compare duro-stress "$src/man/duro-stress.1" "$tmp/stress.txt"

{
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<testsuites>'
    printf '  <testsuite name="man-options" package="duro" id="0" tests="%d" failures="%d" errors="0" skipped="0" time="0" timestamp="%s" hostname="%s">\n' \
        "$total" "$failures" "$(date -u +%Y-%m-%dT%H:%M:%S)" "$(uname -n | xml_escape)"
    echo '    <properties/>'
    cat "$cases"
    echo '    <system-out/>'
    echo '    <system-err/>'
    echo '  </testsuite>'
    echo '</testsuites>'
} >"$junit_dir/man-options.xml"
[ "$failures" -eq 0 ]
