# ci/local.mk — the scripts CI and developers run (see docs/building.md): dependency
# installer, the README's main-job and test commands, the JUnit summary used by .ci/run,
# and the valgrind wrapper of `make check-valgrind` (defined in Makefile.am). Shipped in
# the tarball only; nothing here is built or installed.
EXTRA_DIST += \
	ci/install-deps.sh \
	ci/main-job.sh \
	ci/test.sh \
	ci/junit-summary.sh \
	ci/valgrind-test.sh \
	ci/pg-server.sh
