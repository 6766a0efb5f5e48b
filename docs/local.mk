# docs/local.mk — the Markdown documentation, installed to $(docdir) and shipped in the
# tarball (README.md is added in Makefile.am). List a file here once it exists in docs/.
dist_doc_DATA += \
	docs/building.md \
	docs/conformance.md \
	docs/decisions.md \
	docs/postgres.md \
	docs/fuzzing.md \
	docs/operating.md \
	docs/provider-guide.md \
	docs/scale-out.md \
	docs/stress.md \
	docs/user-guide.md
