# tests/exports.mk — make check: the export check of every installed library
# (tests/exports.sh over ci/check-exports.sh), after the libraries are built.
TESTS += tests/exports.sh
EXTRA_DIST += tests/exports.sh ci/check-exports.sh
