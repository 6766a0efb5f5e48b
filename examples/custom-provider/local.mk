# examples/custom-provider/local.mk — the custom provider example built in the source tree
# (included from examples/local.mk): the same sources a provider author builds with the
# example's own Makefile against an installed duro, linked here against the libraries of
# this tree. make check runs both programs through run-custom.sh.
check_PROGRAMS += examples/custom-provider/custom-conformance \
	examples/custom-provider/custom-stress
TESTS += examples/custom-provider/run-custom.sh
EXTRA_DIST += examples/custom-provider/run-custom.sh examples/custom-provider/Makefile \
	examples/custom-provider/README.md

examples_custom_provider_custom_conformance_SOURCES = \
	examples/custom-provider/conformance.c examples/custom-provider/custom-provider.c \
	examples/custom-provider/custom-provider.h
examples_custom_provider_custom_conformance_LDADD = providertest/libduro-providertest.la \
	lib/libduro.la

examples_custom_provider_custom_stress_SOURCES = \
	examples/custom-provider/stress.c examples/custom-provider/custom-provider.c \
	examples/custom-provider/custom-provider.h
examples_custom_provider_custom_stress_LDADD = $(examples_custom_provider_custom_conformance_LDADD)
