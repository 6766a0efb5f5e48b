# tests/mutants.mk — `make check-mutants` (included from tests/local.mk): the mutation
# harness, tests/mutants.sh, which measures how many single-site bugs planted in
# providers/sqlite/*.c the conformance suite catches. A measurement, not a test: it is not
# part of `make check` or CI, and it builds its own scratch copy of the source tree. Pass
# options with MUTANTS_FLAGS, e.g.
#   make check-mutants MUTANTS_FLAGS="--sample 40 --report mutants.md"
MUTANTS_FLAGS =
check-mutants:
	$(top_srcdir)/tests/mutants.sh $(MUTANTS_FLAGS)
.PHONY: check-mutants
EXTRA_DIST += tests/mutants.sh tests/mutants.py tests/mutants-equivalent.txt tests/edge-teeth.py tests/teeth-cases.py
