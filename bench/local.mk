# bench/local.mk - milter benchmark: `make bench-milter` (not part of make check; needs root and Postfix).
# bench/null_milter is the protocol floor postern-milter is measured against, behind the same Postfix.
# First user of EXTRA_PROGRAMS (later fragments: +=).
EXTRA_PROGRAMS = bench/null_milter
bench_null_milter_SOURCES = bench/null_milter.c
bench_null_milter_LDADD = $(MILTER_LIBS)
CLEANFILES += bench/null_milter
EXTRA_DIST += bench/bench_milter

bench-milter: milter/postern-milter bench/null_milter
	$(PYTHON3) $(srcdir)/bench/bench_milter --milter milter/postern-milter --null bench/null_milter \
		$(BENCH_ARGS)

.PHONY: bench-milter
