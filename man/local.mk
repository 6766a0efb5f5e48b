# man/local.mk — the manual pages, installed by `make install` and shipped in the tarball:
# duro(1), duro-conformance(1), duro-stress(1) and duro(3). tests/man-options.sh (in
# tests/cli.mk) checks that each program page lists exactly the options of its --help.
dist_man_MANS = man/duro.1 man/duro-conformance.1 man/duro-stress.1 man/duro.3
