/* null_milter.c - the protocol floor for the milter benchmarks: sees every step of every message and does nothing with it. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

/*
 * The cheapest filter that still gets the whole message: every callback is
 * registered (so the MTA sends headers and body), none replies except EOM
 * (SMFIP_NR_* for all other steps), nothing is looked at. Whatever
 * postern-milter costs above this is the price of its policies.
 * With -r it answers every step instead (no SMFIP_NR_*), as most filters
 * do: behind Postfix over TCP that is the faster floor (bench_postfix).
 */

static int nm_reply_all;		/* -r: answer every step */

static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	(void)ctx;
	(void)f0;
	(void)f2;
	(void)f3;
	*pf0 = 0;
	if (nm_reply_all) {
		*pf1 = f1 & SMFIP_NOUNKNOWN;
		*pf2 = 0;
		*pf3 = 0;
		return SMFIS_CONTINUE;
	}
	*pf1 = f1 & (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
	    SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NODATA | SMFIP_NOUNKNOWN);
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx;
	(void)host;
	(void)addr;
	return nm_reply_all ? SMFIS_CONTINUE : SMFIS_NOREPLY;
}

static sfsistat
nm_str(SMFICTX *ctx, char *s)
{
	(void)ctx;
	(void)s;
	return nm_reply_all ? SMFIS_CONTINUE : SMFIS_NOREPLY;
}

static sfsistat
nm_argv(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return nm_reply_all ? SMFIS_CONTINUE : SMFIS_NOREPLY;
}

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return nm_reply_all ? SMFIS_CONTINUE : SMFIS_NOREPLY;
}

static sfsistat
nm_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return nm_reply_all ? SMFIS_CONTINUE : SMFIS_NOREPLY;
}

static sfsistat
nm_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return nm_reply_all ? SMFIS_CONTINUE : SMFIS_NOREPLY;
}

static sfsistat
nm_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static struct smfiDesc nm_desc = {
	.xxfi_name = "null-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_connect = nm_connect,
	.xxfi_helo = nm_str,
	.xxfi_envfrom = nm_argv,
	.xxfi_envrcpt = nm_argv,
	.xxfi_header = nm_header,
	.xxfi_eoh = nm_eoh,
	.xxfi_body = nm_body,
	.xxfi_data = nm_eoh,
	.xxfi_eom = nm_eom,
	.xxfi_negotiate = nm_negotiate,
};

int
main(int argc, char **argv)
{
	/* libmilter syntax: inet:PORT@HOST or unix:PATH. SIGTERM stops it (libmilter's own handling). */
	if (argc == 3 && strcmp(argv[1], "-r") == 0) {
		nm_reply_all = 1;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: null_milter [-r] inet:PORT@HOST|unix:PATH\n");
		return 2;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(nm_desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "null_milter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
