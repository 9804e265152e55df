# bench/local.mk - milter benchmark: `make bench-milter` (not part of make check; needs root and Postfix).
# bench/null_milter is the protocol floor postern-milter is measured against, behind the same Postfix.
# First user of EXTRA_PROGRAMS (later fragments: +=).
EXTRA_PROGRAMS = bench/null_milter
bench_null_milter_SOURCES = bench/null_milter.c
bench_null_milter_LDADD = $(MILTER_LIBS)
CLEANFILES += bench/null_milter
EXTRA_DIST += bench/bench_milter bench/README.md

bench-milter: milter/postern-milter bench/null_milter
	$(PYTHON3) $(srcdir)/bench/bench_milter --milter milter/postern-milter --null bench/null_milter \
		$(BENCH_ARGS)

.PHONY: bench-milter

# postern-milter behind Postfix over TCP and a unix socket, beside null_milter both ways.
EXTRA_DIST += bench/bench_postfix
bench-postfix: milter/postern-milter bench/null_milter
	$(PYTHON3) $(srcdir)/bench/bench_postfix --milter milter/postern-milter --null bench/null_milter \
		$(BENCH_ARGS)

.PHONY: bench-postfix

# --- frontend benchmark: `make bench-smtpd` (not part of make check; needs
# Postfix's smtp-source and smtp-sink, and root for smtp-sink -u).
EXTRA_PROGRAMS += bench/bench_smtpd_conn
bench_bench_smtpd_conn_SOURCES = bench/bench_smtpd_conn.c
bench_bench_smtpd_conn_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS)
bench_bench_smtpd_conn_LDADD = $(GNUTLS_LIBS)
CLEANFILES += bench/bench_smtpd_conn
EXTRA_DIST += bench/bench_smtpd

# With postern-milter attached, side by side with a private Postfix + the same milter.
bench-smtpd: frontend/postern-smtpd bench/bench_smtpd_conn milter/postern-milter
	$(PYTHON3) $(srcdir)/bench/bench_smtpd --smtpd frontend/postern-smtpd \
		--conn bench/bench_smtpd_conn --milter milter/postern-milter $(BENCH_ARGS)

.PHONY: bench-smtpd

# End-to-end benchmark of the hand-off: `make bench-relay` (not part of make
# check; needs root and Postfix): postern-smtpd + postern-milter + postern-relay against a private
# Postfix with the same milter, both relaying to smtp-sink. Figures: bench/README.md.
EXTRA_DIST += bench/bench_relay

bench-relay: frontend/postern-smtpd milter/postern-milter relay/postern-relay
	$(PYTHON3) $(srcdir)/bench/bench_relay --smtpd frontend/postern-smtpd \
		--milter milter/postern-milter --relay relay/postern-relay $(BENCH_ARGS)

.PHONY: bench-relay
