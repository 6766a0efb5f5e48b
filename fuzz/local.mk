# fuzz/local.mk — `make fuzz`: build the libFuzzer targets of fuzz/ with clang (fuzz/build.sh,
# apart from the gcc build, into fuzz/out/ of the build tree) and run each for FUZZ_SECONDS
# on a copy of its seed corpus (fuzz/run.sh); fails when a target finds a crash, keeps the
# crashing input in test-results/fuzz-artifacts/<target>/ and writes test-results/fuzz.xml
# (one testcase per target), both where CI collects test results. CI runs it with
# FUZZ_SECONDS=60. One target longer: make fuzz FUZZ_TARGETS=fuzz-replay FUZZ_SECONDS=600.
# Nothing here is part of `make check` or `make distcheck`; docs/fuzzing.md has the details.
FUZZ_SECONDS = 60
FUZZ_TARGETS = fuzz-codec fuzz-replay fuzz-stress-options fuzz-conformance-options \
	fuzz-sqlite-open
FUZZ_JUNIT = $(abs_top_builddir)/test-results/fuzz.xml
FUZZ_ARTIFACTS = $(abs_top_builddir)/test-results/fuzz-artifacts

fuzz:
	$(SHELL) $(top_srcdir)/fuzz/build.sh '$(abs_top_builddir)/fuzz/out'
	$(SHELL) $(top_srcdir)/fuzz/run.sh -t '$(FUZZ_SECONDS)' -o '$(abs_top_builddir)/fuzz/out' \
	  -a '$(FUZZ_ARTIFACTS)' -j '$(FUZZ_JUNIT)' $(FUZZ_TARGETS)
.PHONY: fuzz

EXTRA_DIST += fuzz/fuzz.h fuzz/common.c fuzz/gen-seeds.c \
	fuzz/fuzz-codec.c fuzz/fuzz-replay.c fuzz/fuzz-stress-options.c \
	fuzz/fuzz-conformance-options.c fuzz/fuzz-sqlite-open.c \
	fuzz/build.sh fuzz/run.sh fuzz/dict fuzz/corpus
