# bench/smtpd.mk - frontend benchmark.
