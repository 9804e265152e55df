# bench/relay.mk - end-to-end benchmark of the hand-off: `make bench-relay` (not part of make
# check; needs root and Postfix): postern-smtpd + postern-milter + postern-relay against a private
# Postfix with the same milter, both relaying to smtp-sink. Figures: bench/README.md.
EXTRA_DIST += bench/bench_relay bench/README.md

bench-relay: frontend/postern-smtpd milter/postern-milter relay/postern-relay
	$(PYTHON3) $(srcdir)/bench/bench_relay --smtpd frontend/postern-smtpd \
		--milter milter/postern-milter --relay relay/postern-relay $(BENCH_ARGS)

.PHONY: bench-relay
