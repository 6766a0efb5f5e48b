#!/usr/bin/env bash
# install-deps.sh — install the Debian/Ubuntu packages that duro's build, tests and docs
# need, and generate the de_DE.UTF-8 locale the report tests use (a comma-decimal locale).
# Idempotent and quick when everything is present: apt-get runs (update, then install) only
# for missing packages, locale-gen only when `locale -a` lacks the locale. Needs root for
# any change: runs as root, or through sudo when available; otherwise it names what is
# missing and exits 1.
set -euo pipefail

packages=(
    build-essential autoconf automake libtool pkg-config
    check libsqlite3-dev libxml2-dev libxml2-utils libjansson-dev
    valgrind locales
    postgresql libpq-dev
    clang libclang-rt-dev
)
locale_name=de_DE.UTF-8

die() {
    echo "install-deps.sh: $*" >&2
    exit 1
}

# Stop with a clear message unless we are root or sudo is available. $1 says what needs it.
need_root() {
    [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1 ||
        die "$1, which needs root: run this script as root, or install sudo"
}

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        sudo "$@"
    fi
}

command -v dpkg-query >/dev/null 2>&1 ||
    die "this script supports Debian and Ubuntu (dpkg/apt); install the equivalents of: ${packages[*]}"

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
    need_root "missing packages: ${missing[*]}"
    echo "install-deps.sh: installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
fi

# `locale -a` prints normalised names (de_DE.utf8); match either spelling.
if ! locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8'; then
    need_root "missing locale: $locale_name"
    echo "install-deps.sh: generating locale $locale_name"
    if [ -f /etc/locale.gen ] && grep -q "^# *$locale_name UTF-8" /etc/locale.gen; then
        as_root sed -i "s/^# *$locale_name UTF-8/$locale_name UTF-8/" /etc/locale.gen
    elif ! { [ -f /etc/locale.gen ] && grep -q "^$locale_name UTF-8" /etc/locale.gen; }; then
        echo "$locale_name UTF-8" | as_root tee -a /etc/locale.gen >/dev/null
    fi
    as_root locale-gen
    locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8' || die "locale-gen did not produce $locale_name"
fi
