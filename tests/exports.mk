# tests/exports.mk — make check: the export check of every installed library and the layer
# check of the SQLite provider (tests/exports.sh over ci/check-exports.sh and
# ci/check-layers.sh), after the libraries are built.
TESTS += tests/exports.sh
EXTRA_DIST += tests/exports.sh ci/check-exports.sh ci/check-layers.sh
