# report/local.mk — libduroreport: JUnit XML writer and validator (libxml2) and console
# tables, linked into the conformance and stress suites and their tests. Not installed and
# hidden in every shared library that links it; it uses util/libduro-util.la, which whoever
# links it links too.
noinst_LTLIBRARIES += report/libduroreport.la

report_libduroreport_la_SOURCES = \
	report/duro-report.h \
	report/text.h report/text.c \
	report/junit.c report/validate.c report/table.c
report_libduroreport_la_CFLAGS = $(AM_CFLAGS) $(LIBXML_CFLAGS)
report_libduroreport_la_LIBADD = $(LIBXML_LIBS)
