#!/bin/sh
# autogen.sh — bootstrap the build system from a git checkout: generate configure,
# Makefile.in and the libtool and automake helper files with `autoreconf -fi`. Run it once
# after cloning (and after editing configure.ac); release tarballs do not need it.
set -eu
cd "$(dirname "$0")"
autoreconf -fi
