/* milter.c - libmilter callbacks: feed each protocol step to the policy engine and turn its verdicts into replies. */
#include "autoconf.h"		/* _GNU_SOURCE and friends, before any system header */
#include "milter_int.h"
#include "milter_metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "log.h"
#include "reply.h"
#include "xalloc.h"

/*
 * Shared state. The engine and its config are read by libmilter's worker
 * threads (Debian builds it with a worker pool: one connection's callbacks
 * may run on different threads, so nothing here is per thread) and
 * replaced by the main thread on SIGHUP: callbacks hold the read
 * side of pm_lock while they are inside the engine, pm_reload() the write
 * side. Writers are preferred so a steady stream of callbacks cannot starve
 * a reload.
 */
static pthread_rwlock_t pm_lock;
static policy_engine *pm_engine;
static postern_config *pm_cfg;
static int pm_closing;			/* under pm_lock: SIGTERM drained, engine off limits */
static atomic_int pm_draining;		/* SIGTERM: no new connections or transactions */
/*
 * The SMFIP_* steps every negotiation asks for, fixed by pm_start() for the
 * life of the process (see pm_negotiate), so that a session on a reused
 * MTA connection knows them without a negotiation of its own.
 */
static unsigned long pm_steps;
static int pm_start_modules;		/* custom modules configured at start: CONN/HELO/RCPT reply */

static atomic_uint pm_nconn;		/* SMTP sessions with state (connect .. close) */
static atomic_uint pm_ntx;		/* transactions in flight (MAIL .. EOM/abort) */
static atomic_ulong pm_conn_seq;	/* session number for logs before a queue id exists */

/*
 * Macros asked of the MTA per stage (smfi_setsymlist). Each callback reads
 * the names of its own stage and hands them to the engine, a NULL value
 * clearing what an earlier transaction left. Postfix sends {auth_authen}
 * only with MAIL, and its queue id "i" only once the queue file is open
 * (after the first valid RCPT by default), hence "i" in every later stage.
 * contrib/postfix/README.md lists the same names for milter_*_macros.
 * An empty list asks for no macros at that stage: an MTA sends macros even
 * for the steps it skips, and each packet wakes a libmilter worker.
 */
struct pm_stage_macros {
	int stage;
	const char *names;
};

#define PM_CONNECT_MACROS	"j {daemon_name} {client_addr} {client_name} {client_port} {client_ptr}"
#define PM_HELO_MACROS		"{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}"
#define PM_MAIL_MACROS		"i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} " \
				"{mail_mailer}"

/* With custom modules: every step runs, each with its own stage's macros. */
static const struct pm_stage_macros pm_macros_all[] = {
	{ SMFIM_CONNECT, PM_CONNECT_MACROS },
	{ SMFIM_HELO, PM_HELO_MACROS },
	{ SMFIM_ENVFROM, PM_MAIL_MACROS },
	{ SMFIM_ENVRCPT, "i {rcpt_addr} {rcpt_host} {rcpt_mailer}" },
	{ SMFIM_DATA, "" },
	{ SMFIM_EOH, "i" },
	{ SMFIM_EOM, "i" },
	{ 0, NULL }
};

/*
 * Built-in rules only: connect, HELO and RCPT are not sent (pm_steps_for),
 * so MAIL asks for the connect and HELO stages' macros as well; the values
 * are the same then (they describe the SMTP session, not the command).
 */
static const struct pm_stage_macros pm_macros_lean[] = {
	{ SMFIM_CONNECT, "" },
	{ SMFIM_HELO, "" },
	{ SMFIM_ENVFROM, PM_CONNECT_MACROS " " PM_HELO_MACROS " " PM_MAIL_MACROS },
	{ SMFIM_ENVRCPT, "" },
	{ SMFIM_DATA, "" },
	{ SMFIM_EOH, "" },		/* "i" is read for the verdict's log line, at EOM */
	{ SMFIM_EOM, "i" },
	{ 0, NULL }
};

static const struct pm_stage_macros *pm_macros = pm_macros_all;	/* fixed by pm_start() */

static struct pm_conn *pm_live;
static pthread_mutex_t pm_live_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- engine access ------------------------------------------------------ */

/*
 * Enter the engine for this connection: read lock held on success (1),
 * or 0 with an internal-error verdict in r and no lock.
 */
static int
pm_enter(struct pm_conn *c, engine_result *r)
{
	pthread_rwlock_rdlock(&pm_lock);
	if (pm_closing) {
		pthread_rwlock_unlock(&pm_lock);
		pm_internal_error(r, "shutdown");
		return 0;
	}
	if (c->s == NULL && (c->s = engine_session_new(pm_engine)) == NULL) {
		pthread_rwlock_unlock(&pm_lock);
		pm_internal_error(r, "session");
		return 0;
	}
	return 1;
}

static void
pm_leave(void)
{
	pthread_rwlock_unlock(&pm_lock);
}

/* Hand the engine the macros of one stage as libmilter holds them now. */
static void
pm_pass_macros(SMFICTX *ctx, struct pm_conn *c, int stage)
{
	const char *p, *e;
	char name[64];
	size_t i;

	for (i = 0; pm_macros[i].names != NULL; i++) {
		if (pm_macros[i].stage != stage)
			continue;
		for (p = pm_macros[i].names; *p; p = e) {
			while (*p == ' ')
				p++;
			for (e = p; *e && *e != ' '; e++)
				;
			if (e == p || (size_t)(e - p) >= sizeof(name))
				continue;
			memcpy(name, p, (size_t)(e - p));
			name[e - p] = '\0';
			engine_set_macro(c->s, name, smfi_getsymval(ctx, name));
		}
	}
}

/*
 * Negotiated "no reply" for this step? Always as pm_steps asks: libmilter
 * offers every SMFIP_NR_* (it fakes those the MTA lacks), so each MTA
 * connection got exactly pm_steps' NR_* bits.
 */
static int
pm_noreply(unsigned long nr_flag)
{
	return (pm_steps & nr_flag) != 0;
}

static void
pm_end_tx(struct pm_conn *c)
{
	if (c->in_tx) {
		c->in_tx = 0;
		atomic_fetch_sub(&pm_ntx, 1);
	}
	c->body_done = 0;
	memset(&c->msg_pending, 0, sizeof(c->msg_pending));
}

/* ---- session state ------------------------------------------------------ */

/* A new SMTP session on ctx, in smfi_setpriv(); NULL (logged) when out of memory. */
static struct pm_conn *
pm_session_new(SMFICTX *ctx)
{
	struct pm_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("session state");
		return NULL;
	}
	c->seq = atomic_fetch_add(&pm_conn_seq, 1) + 1;
	atomic_fetch_add(&pm_nconn, 1);
	pm_metrics_session();
	pthread_mutex_lock(&pm_live_lock);
	if ((c->live_next = pm_live) != NULL)
		pm_live->live_prev = c;
	pm_live = c;
	pthread_mutex_unlock(&pm_live_lock);
	smfi_setpriv(ctx, c);
	return c;
}

unsigned
pm_sessions_open(void)
{
	return atomic_load(&pm_nconn);
}

/* End the SMTP session c of ctx: free it all and leave smfi_setpriv() NULL. */
static void
pm_session_end(SMFICTX *ctx, struct pm_conn *c)
{
	smfi_setpriv(ctx, NULL);
	pm_end_tx(c);
	if (c->s != NULL) {
		int closing;

		pthread_rwlock_rdlock(&pm_lock);
		/*
		 * After a drained shutdown the engine may be gone and the process
		 * is exiting: leave the session on pm_live, reachable, untouched.
		 */
		if (!(closing = pm_closing))
			engine_session_free(c->s);
		pthread_rwlock_unlock(&pm_lock);
		if (closing)
			return;
	}
	pthread_mutex_lock(&pm_live_lock);
	if (c->live_prev != NULL)
		c->live_prev->live_next = c->live_next;
	else
		pm_live = c->live_next;
	if (c->live_next != NULL)
		c->live_next->live_prev = c->live_prev;
	pthread_mutex_unlock(&pm_live_lock);
	free(c->sender);
	free(c);
	atomic_fetch_sub(&pm_nconn, 1);
}

/* The session of ctx, started now if none is (its connect failed, or never came). */
static struct pm_conn *
pm_session(SMFICTX *ctx)
{
	struct pm_conn *c = smfi_getpriv(ctx);

	return c != NULL ? c : pm_session_new(ctx);
}

/* The steps to ask for (see pm_negotiate); tcp: the socket is TCP, not unix. */
static unsigned long
pm_steps_for(int modules, int tcp)
{
	unsigned long want = SMFIP_NOUNKNOWN | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;

	/*
	 * DATA is asked for, and answered, over TCP only. Postfix writes the
	 * DATA stage's macros (sent even for a skipped step) from smtpd and
	 * the headers from its cleanup process on the same socket, without
	 * TCP_NODELAY: when nothing answers between them, Nagle holds the
	 * headers until the milter's kernel ACKs the macro packet, which it
	 * delays by 40 ms (delayed ACK: the milter has nothing to send). One
	 * stall per message: behind Postfix over TCP 21.7 msgs/s for a single
	 * session, 204-327 with DATA answered (bench/bench_postfix, README.md).
	 * The reply to DATA carries the ACK, at the price of one round trip.
	 * The fixes that keep no-reply were measured and are weaker or not
	 * reachable: TCP_QUICKACK has to be set after libmilter has read the
	 * packet and libmilter gives no callback for macros nor the socket
	 * (set through its private context at RCPT: 151 msgs/s against 221
	 * with DATA answered, in the same run);
	 * TCP_NODELAY would have to be on Postfix's side. A unix socket has
	 * no Nagle, and postern-smtpd sets TCP_NODELAY and writes a message's
	 * packets at once: there the round trip would be pure cost, but a
	 * TCP listener cannot tell which MTA connects before the negotiation.
	 * Measured (bench_smtpd --milter --perf): postern-smtpd's rate did not
	 * move beyond the noise, for 6.5 more system calls a message in the
	 * milter and 3 in postern-smtpd.
	 */
	if (!tcp)
		want |= SMFIP_NODATA;

	/*
	 * No built-in rule looks at connect, HELO or RCPT: without modules
	 * those steps are not sent at all (no reply where an MTA cannot skip
	 * them), and MAIL brings the session's macros (pm_macros_lean). Nor
	 * is end-of-headers: the engine closes the header block itself at
	 * the first body chunk or at EOM (engine_body, engine_eom), and
	 * only modules read macros there. One packet, and libmilter's
	 * poll and read for it, less per message.
	 */
	if (!modules)
		want |= SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOEOH |
		    SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_RCPT;
	return want;
}

/* ---- callbacks ---------------------------------------------------------- */

/*
 * Negotiate: ask only for the steps the rules need, and "no reply" for
 * every step whose verdict is applied later anyway:
 *   connect, HELO  not sent unless custom modules are loaded; with them,
 *                  no reply (they may reject there): a verdict is kept for
 *                  the next MAIL
 *   MAIL           replies: empty sender and sender-allowed decide here
 *   RCPT           not sent unless custom modules are loaded; with them,
 *                  no reply (a refusal is applied at end of data)
 *   header, body   no reply: content verdicts are applied at EOM
 *   EOH            not sent unless custom modules are loaded; with them,
 *                  no reply
 *   DATA           replies, over TCP only (see pm_steps_for); else not sent
 *   unknown        not sent
 * No SMFIP_SKIP: a no-reply step cannot answer SKIP, and making the body
 * step reply costs a round trip and a reply per 64 KB chunk (measured with
 * bench/bench_milter: +1 ms CPU per 100 KB message, +12 ms per 20 MB one)
 * to save bytes that, with the built-in rules, are never skippable: the
 * MIME structure rule (3rd in order) reads every body byte, so
 * engine_body() only reports "settled" after a MAIL-stage refusal, when
 * the MTA sends no body anyway. When it does say so, the rest of the body
 * is still read but no longer parsed.
 * Header values come without the leading space (no SMFIP_HDR_LEADSPC),
 * the same from Postfix and Sendmail.
 * The choice is made once, at start (pm_steps): a negotiation holds for
 * the whole MTA connection, and after SMFIC_QUIT_NC its next session has
 * no negotiation of its own, nor any state of ours to remember one by.
 * A reload that adds the first custom modules is therefore refused (a
 * restart loads them), one that removes them all keeps the replies until
 * the next start (pm_reload says so). Nothing is stored
 * per connection here: the session state comes with xxfi_connect.
 */
static sfsistat
pm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	size_t i;

	(void)f2;
	(void)f3;
	/*
	 * Refusing the negotiation drops the connection; the MTA then applies
	 * its milter_default_action (tempfail, contrib/postfix): never a pass.
	 */
	if (atomic_load(&pm_draining)) {
		log_debug("shutting down: new MTA connection refused");
		return SMFIS_REJECT;
	}
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_SETSYMLIST);
	if (!(*pf0 & SMFIF_ADDHDRS))
		log_warnx("negotiate: the MTA does not allow adding headers: none will be added");
	/* NR_* are faked by libmilter for MTAs without them; NODATA/NOUNKNOWN need the MTA. */
	*pf1 = pm_steps & f1;
	*pf2 = 0;
	*pf3 = 0;
	if (*pf0 & SMFIF_SETSYMLIST) {
		for (i = 0; pm_macros[i].names != NULL; i++)
			if (smfi_setsymlist(ctx, pm_macros[i].stage, (char *)pm_macros[i].names) != MI_SUCCESS)
				log_warnx("negotiate: smfi_setsymlist(%d) failed", pm_macros[i].stage);
	}
	log_debug("negotiated actions=0x%lx steps=0x%lx (MTA offered 0x%lx/0x%lx)",
	    *pf0, *pf1, f0, f1);
	return SMFIS_CONTINUE;
}

/*
 * Every SMTP session starts here, the first after the negotiation and each
 * one after SMFIC_QUIT_NC alike: with new state, so nothing (engine macros,
 * connect and HELO verdicts, sender) carries over from the one before.
 */
static sfsistat
pm_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct pm_conn *c = smfi_getpriv(ctx);
	char addr[INET6_ADDRSTRLEN] = "";
	const char *maddr;
	engine_result r;

	if (c != NULL) {
		/* libmilter closes a session before the next connect: not reached, but never reuse one. */
		log_warnx("conn=%lu: new connect without a close, session state dropped", c->seq);
		pm_session_end(ctx, c);
	}
	if ((c = pm_session_new(ctx)) == NULL)
		return pm_noreply(SMFIP_NR_CONN) ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
	if (pm_enter(c, &r)) {
		pm_pass_macros(ctx, c, SMFIM_CONNECT);
		/* {client_addr} when the MTA sends it, else the address it connected from. */
		if ((maddr = smfi_getsymval(ctx, "{client_addr}")) != NULL) {
			xstrlcpy(addr, maddr, sizeof(addr));
		} else if (hostaddr != NULL && hostaddr->sa_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)hostaddr)->sin_addr,
			    addr, sizeof(addr));
		} else if (hostaddr != NULL && hostaddr->sa_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)hostaddr)->sin6_addr,
			    addr, sizeof(addr));
		}
		engine_connect(c->s, hostname ? hostname : "", addr, &r);
		c->connected = 1;
		pm_leave();
	}
	if (pm_noreply(SMFIP_NR_CONN))
		return SMFIS_NOREPLY;	/* a refusal is replied at MAIL */
	return pm_apply(ctx, c, "connect", &r, 0);
}

static sfsistat
pm_helo(SMFICTX *ctx, char *helo)
{
	struct pm_conn *c = pm_session(ctx);
	engine_result r;

	if (c == NULL)
		return pm_noreply(SMFIP_NR_HELO) ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
	if (pm_enter(c, &r)) {
		pm_pass_macros(ctx, c, SMFIM_HELO);
		engine_helo(c->s, helo ? helo : "", &r);
		pm_leave();
	}
	if (pm_noreply(SMFIP_NR_HELO))
		return SMFIS_NOREPLY;	/* a refusal is replied at MAIL */
	return pm_apply(ctx, c, "helo", &r, 0);
}

/* "<a@b>" -> "a@b"; "<>" -> "". The MTA has checked the syntax already. */
static char *
pm_strip_brackets(const char *arg)
{
	size_t n;

	if (arg == NULL)
		return xstrdup("");
	n = strlen(arg);
	if (n >= 2 && arg[0] == '<' && arg[n - 1] == '>')
		return xstrndup(arg + 1, n - 2);
	return xstrdup(arg);
}

static sfsistat
pm_envfrom(SMFICTX *ctx, char **argv)
{
	struct pm_conn *c = pm_session(ctx);
	engine_result r;
	sfsistat rc;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	pm_end_tx(c);		/* a MAIL after a finished message starts afresh */
	free(c->sender);
	c->sender = pm_strip_brackets(argv ? argv[0] : NULL);
	if (atomic_load(&pm_draining)) {
		/* 421: the MTA tells the client to come back later and closes the session. */
		pm_result_row(&r, POSTERN_TEMPFAIL, R_SHUTDOWN, "shutdown");
		return pm_apply(ctx, c, "mail", &r, 0);
	}
	if (!pm_enter(c, &r))
		return pm_apply(ctx, c, "mail", &r, 0);
	/* {auth_authen} comes with MAIL only (Postfix): read it here, not at connect. */
	pm_pass_macros(ctx, c, SMFIM_ENVFROM);
	if (!c->connected) {
		/* Connect not sent (SMFIP_NOCONNECT): the session's macros say who it is. */
		const char *name = smfi_getsymval(ctx, "{client_name}");
		const char *addr = smfi_getsymval(ctx, "{client_addr}");

		engine_connect(c->s, name ? name : "", addr ? addr : "", &r);
		c->connected = 1;
	}
	/* Also the connect and HELO verdicts that could not be replied at the time. */
	engine_mail(c->s, c->sender, &r);
	pm_leave();
	rc = pm_apply(ctx, c, "mail", &r, 0);
	if (rc == SMFIS_CONTINUE) {
		c->in_tx = 1;
		atomic_fetch_add(&pm_ntx, 1);
	}
	return rc;
}

static sfsistat
pm_envrcpt(SMFICTX *ctx, char **argv)
{
	struct pm_conn *c = smfi_getpriv(ctx);
	engine_result r;
	char *rcpt;

	if (c == NULL)
		return pm_noreply(SMFIP_NR_RCPT) ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
	rcpt = pm_strip_brackets(argv ? argv[0] : NULL);
	if (pm_enter(c, &r)) {
		pm_pass_macros(ctx, c, SMFIM_ENVRCPT);
		engine_rcpt(c->s, rcpt, &r);
		pm_leave();
	}
	free(rcpt);
	if (pm_noreply(SMFIP_NR_RCPT)) {
		pm_defer(&c->msg_pending, &r);
		return SMFIS_NOREPLY;
	}
	return pm_apply(ctx, c, "rcpt", &r, 0);
}

/* DATA: sent over TCP only, and answered at once (see pm_steps_for); no rule decides here. */
static sfsistat
pm_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
pm_header(SMFICTX *ctx, char *name, char *value)
{
	struct pm_conn *c = smfi_getpriv(ctx);
	engine_result r;

	if (c == NULL)
		return SMFIS_NOREPLY;
	if (pm_enter(c, &r)) {
		engine_header(c->s, name ? name : "", value ? value : "", &r);
		pm_leave();
	}
	pm_defer(&c->msg_pending, &r);
	/* Content verdicts wait for EOM, so the reply is the first rule in the documented order. */
	return pm_noreply(SMFIP_NR_HDR) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
pm_eoh(SMFICTX *ctx)
{
	struct pm_conn *c = smfi_getpriv(ctx);
	engine_result r;

	if (c == NULL)
		return SMFIS_NOREPLY;
	if (pm_enter(c, &r)) {
		pm_pass_macros(ctx, c, SMFIM_EOH);
		engine_eoh(c->s, &r);
		pm_leave();
	}
	pm_defer(&c->msg_pending, &r);
	return pm_noreply(SMFIP_NR_EOH) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
pm_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct pm_conn *c = smfi_getpriv(ctx);
	engine_result r;
	int done = 0;

	if (c == NULL)
		return SMFIS_NOREPLY;
	if (!c->body_done) {
		if (pm_enter(c, &r)) {
			done = engine_body(c->s, (const char *)data, len, &r);
			pm_leave();
		} else {
			done = 1;
		}
		pm_defer(&c->msg_pending, &r);
		c->body_done = done || c->msg_pending.verdict == POSTERN_TEMPFAIL;
	}
	return pm_noreply(SMFIP_NR_BODY) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
pm_eom(SMFICTX *ctx)
{
	struct pm_conn *c = smfi_getpriv(ctx);
	const char *const *names, *const *values;
	engine_result r;
	sfsistat rc;
	size_t i, n = 0;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (pm_enter(c, &r)) {
		pm_pass_macros(ctx, c, SMFIM_EOM);
		engine_eom(c->s, &r);
		if (r.verdict == POSTERN_CONTINUE || r.verdict == POSTERN_ACCEPT)
			n = engine_added_headers(c->s, &names, &values);
		/*
		 * The engine applies content verdicts here itself; a verdict
		 * held from a no-reply step only matters when it passed the
		 * message (e.g. an internal error in a header callback).
		 */
		if ((r.verdict == POSTERN_CONTINUE || r.verdict == POSTERN_ACCEPT) &&
		    c->msg_pending.verdict != POSTERN_CONTINUE &&
		    c->msg_pending.verdict != POSTERN_ACCEPT) {
			r = c->msg_pending;
			n = 0;
		}
		/* libmilter refuses it unless SMFIF_ADDHDRS was negotiated (warned then). */
		for (i = 0; i < n; i++)
			if (smfi_addheader(ctx, (char *)names[i], (char *)values[i]) != MI_SUCCESS)
				log_warnx("smfi_addheader(%s) failed: header not added", names[i]);
		pm_leave();
	}
	rc = pm_apply(ctx, c, "eom", &r, 1);
	pm_end_tx(c);
	return rc;
}

static sfsistat
pm_abort(SMFICTX *ctx)
{
	struct pm_conn *c = smfi_getpriv(ctx);
	engine_result r;

	if (c == NULL)
		return SMFIS_CONTINUE;
	if (c->s != NULL && pm_enter(c, &r)) {
		engine_abort(c->s);
		pm_leave();
	}
	pm_end_tx(c);
	return SMFIS_CONTINUE;
}

/*
 * End of an SMTP session: SMFIC_QUIT, SMFIC_QUIT_NC (the MTA connection
 * stays for the next session) or a lost connection; also twice in a row
 * (QUIT_NC, then EOF), or with no connect before it.
 */
static sfsistat
pm_close(SMFICTX *ctx)
{
	struct pm_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		pm_session_end(ctx, c);
	return SMFIS_CONTINUE;
}

static struct smfiDesc pm_desc = {
	.xxfi_name = "postern-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_SETSYMLIST,
	.xxfi_connect = pm_connect,
	.xxfi_helo = pm_helo,
	.xxfi_envfrom = pm_envfrom,
	.xxfi_envrcpt = pm_envrcpt,
	.xxfi_header = pm_header,
	.xxfi_eoh = pm_eoh,
	.xxfi_body = pm_body,
	.xxfi_eom = pm_eom,
	.xxfi_abort = pm_abort,
	.xxfi_close = pm_close,
	.xxfi_unknown = NULL,
	.xxfi_data = pm_data,
	.xxfi_negotiate = pm_negotiate,
};

/* ---- lifecycle ---------------------------------------------------------- */

static int
pm_modules_configured(const postern_config *cfg)
{
	const char *p;

	for (p = cfg->policy_modules; *p; p++)
		if (*p != ' ' && *p != '\t' && *p != ',')
			return 1;
	return 0;
}

void
pm_start(policy_engine *e, postern_config *cfg, int tcp)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&pm_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pm_engine = e;
	pm_cfg = cfg;
	pm_start_modules = pm_modules_configured(cfg);
	pm_steps = pm_steps_for(pm_start_modules, tcp);
	pm_macros = pm_start_modules ? pm_macros_all : pm_macros_lean;
}

const postern_config *
pm_config(void)
{
	return pm_cfg;
}

int
pm_reload(postern_config *cfg, char *err, size_t errlen)
{
	postern_config *old;
	int rc;

	/*
	 * Started without modules, the MTA was asked not to send connect, HELO
	 * and RCPT (pm_negotiate), for the life of the process: a module added
	 * now would run without them, weaker than configured. Refuse the whole
	 * reload instead, so the running configuration stays and the log says why.
	 */
	if (pm_modules_configured(cfg) && !pm_start_modules) {
		snprintf(err, errlen, "policy_modules added to a milter started without modules: "
		    "the MTA sends connect, HELO and RCPT only to a milter that asked at start; "
		    "restart postern-milter to load them");
		return -1;
	}
	pthread_rwlock_wrlock(&pm_lock);
	rc = engine_reload(pm_engine, cfg, err, errlen);
	if (rc == 0) {
		old = pm_cfg;
		pm_cfg = cfg;
	}
	pthread_rwlock_unlock(&pm_lock);
	if (rc != 0)
		return -1;
	config_free(old);
	/* The negotiated steps stay as at start (pm_negotiate): more than needed is harmless. */
	if (!pm_modules_configured(cfg) && pm_start_modules)
		log_info("reload: policy_modules removed: connect, HELO and RCPT keep a reply "
		    "until the next start");
	return 0;
}

int
pm_open(const char *conn, char *err, size_t errlen)
{
	if (smfi_setconn((char *)conn) != MI_SUCCESS) {
		snprintf(err, errlen, "smfi_setconn(%s) failed", conn);
		return -1;
	}
	if (smfi_register(pm_desc) != MI_SUCCESS) {
		snprintf(err, errlen, "smfi_register failed");
		return -1;
	}
	/* main.c removed a stale unix socket itself; never let libmilter unlink a live one. */
	if (smfi_opensocket(0) != MI_SUCCESS) {
		snprintf(err, errlen, "cannot listen on %s (in use, or no permission)", conn);
		return -1;
	}
	return 0;
}

unsigned
pm_drain(unsigned seconds)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	unsigned waited = 0;

	atomic_store(&pm_draining, 1);
	while (atomic_load(&pm_ntx) > 0 && waited < seconds * 20) {
		nanosleep(&pause, NULL);
		waited++;
	}
	if (atomic_load(&pm_ntx) > 0)
		log_warnx("shutdown: %u transaction(s) still in flight, the MTA tempfails them",
		    atomic_load(&pm_ntx));
	pthread_rwlock_wrlock(&pm_lock);
	pm_closing = 1;
	pthread_rwlock_unlock(&pm_lock);
	return atomic_load(&pm_nconn);
}

void
pm_free(void)
{
	pthread_rwlock_wrlock(&pm_lock);
	engine_free(pm_engine);
	pm_engine = NULL;
	config_free(pm_cfg);
	pm_cfg = NULL;
	pthread_rwlock_unlock(&pm_lock);
}
