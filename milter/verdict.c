/*
 * verdict.c - postern-milter's verdicts as SMTP replies: checked codes, the
 * reply table's defaults, Sendmail-safe text, and one log line per verdict.
 */
#include "autoconf.h"		/* _GNU_SOURCE and friends, before any system header */
#include "milter_int.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "milter_metrics.h"
#include "xalloc.h"

/* A verdict with its reply from the reply table (lib/reply.c). */
void
pm_result_row(engine_result *r, postern_verdict v, enum reply_id id, const char *rule)
{
	const struct reply_row *row = reply_get(id);

	memset(r, 0, sizeof(*r));
	r->verdict = v;
	snprintf(r->code, sizeof(r->code), "%d", row->code);
	xstrlcpy(r->xcode, row->xcode, sizeof(r->xcode));
	reply_text(id, NULL, r->text, sizeof(r->text));
	r->rule = rule;
}

/* The milter itself failed: 451 4.3.0, never a pass by accident. */
void
pm_internal_error(engine_result *r, const char *why)
{
	pm_result_row(r, POSTERN_TEMPFAIL, R_POLICY_INTERNAL, why);
}

static const char *
pm_verdict_word(postern_verdict v)
{
	switch (v) {
	case POSTERN_REJECT:	return "reject";
	case POSTERN_TEMPFAIL:	return "tempfail";
	case POSTERN_DISCARD:	return "discard";
	case POSTERN_ACCEPT:
	case POSTERN_CONTINUE:	break;
	}
	return "accept";
}

/* A reply code MTAs take: 3 digits, first 4 or 5 matching the verdict, and an enhanced code of the same class. */
static int
pm_reply_ok(const engine_result *r)
{
	char want = r->verdict == POSTERN_REJECT ? '5' : '4';
	const char *x = r->xcode;
	int dots = 0;

	if (strlen(r->code) != 3 || r->code[0] != want ||
	    r->code[1] < '0' || r->code[1] > '9' || r->code[2] < '0' || r->code[2] > '9')
		return 0;
	if (x[0] != want || x[1] != '.')
		return 0;
	for (x += 2; *x; x++) {
		if (*x == '.')
			dots++;
		else if (*x < '0' || *x > '9')
			return 0;
	}
	return dots == 1 && x[-1] != '.' && r->xcode[2] != '.';
}

/*
 * Reply text as both MTAs relay it (notes/real-mtas.md): printable ASCII
 * only, and '%' doubled since Sendmail uses the text as a format string
 * (Postfix undoes the doubling).
 */
static void
pm_escape_text(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *in && o + 2 < outlen; in++) {
		unsigned char ch = (unsigned char)*in;

		if (ch == '%') {
			out[o++] = '%';
			out[o++] = '%';
		} else {
			out[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
		}
	}
	out[o] = '\0';
}

/* Fallback reply for a reject/tempfail that came without a usable one (policy.h defaults). */
static void
pm_default_reply(engine_result *r)
{
	pm_result_row(r, r->verdict, r->verdict == POSTERN_REJECT ? R_POLICY_REJECT :
	    R_POLICY_TEMPFAIL, r->rule);
}

/*
 * One log line per verdict, tagged with the queue id (macro i) or the
 * connection number; values with spaces or quotes quoted (log_value).
 */
static void
pm_log_verdict(SMFICTX *ctx, struct pm_conn *c, const char *stage, const engine_result *r)
{
	const char *id = smfi_getsymval(ctx, "i");
	const char *acct = smfi_getsymval(ctx, "{auth_authen}");
	char text[sizeof(r->code) + sizeof(r->xcode) + sizeof(r->text) + 8];
	char reply[2 * sizeof(text) + 16] = "", from[1100], fq[2300], aq[600], rq[200], iq[200];
	const char *rule = log_value(r->rule ? r->rule : "-", rq, sizeof(rq));

	pm_metrics_verdict(stage, pm_verdict_word(r->verdict), r->rule);
	if (r->verdict == POSTERN_REJECT || r->verdict == POSTERN_TEMPFAIL) {
		snprintf(text, sizeof(text), "%s %s %s", r->code, r->xcode, r->text);
		snprintf(reply, sizeof(reply), " reply=%s", log_value(text, fq, sizeof(fq)));
	}
	snprintf(from, sizeof(from), "<%s>", c->sender ? c->sender : "");
	acct = log_value(acct && *acct ? acct : "-", aq, sizeof(aq));
	if (id != NULL && *id != '\0')
		log_info("id=%s stage=%s from=%s account=%s verdict=%s rule=%s%s",
		    log_value(id, iq, sizeof(iq)), stage,
		    log_value(from, fq, sizeof(fq)), acct, pm_verdict_word(r->verdict), rule, reply);
	else
		log_info("conn=%lu stage=%s from=%s account=%s verdict=%s rule=%s%s", c->seq, stage,
		    log_value(from, fq, sizeof(fq)), acct, pm_verdict_word(r->verdict), rule, reply);
}

/*
 * Turn a verdict into the callback's return value, after setting the SMTP
 * reply. Only for steps that reply. ACCEPT and CONTINUE are silent except
 * at EOM, where every message gets its line.
 */
sfsistat
pm_apply(SMFICTX *ctx, struct pm_conn *c, const char *stage, engine_result *r, int final)
{
	char text[2 * sizeof(r->text)];

	switch (r->verdict) {
	case POSTERN_CONTINUE:
	case POSTERN_ACCEPT:
		if (final)
			pm_log_verdict(ctx, c, stage, r);
		return r->verdict == POSTERN_ACCEPT ? SMFIS_ACCEPT : SMFIS_CONTINUE;
	case POSTERN_DISCARD:
		pm_log_verdict(ctx, c, stage, r);
		return SMFIS_DISCARD;
	case POSTERN_REJECT:
	case POSTERN_TEMPFAIL:
		break;
	}
	if (!pm_reply_ok(r)) {
		log_warnx("rule %s gave a malformed reply \"%s %s\", using the default",
		    r->rule ? r->rule : "-", r->code, r->xcode);
		pm_default_reply(r);
	}
	pm_log_verdict(ctx, c, stage, r);
	pm_escape_text(r->text, text, sizeof(text));
	/* Always with the enhanced code: Sendmail would invent 5.0.0 otherwise. */
	if (smfi_setreply(ctx, r->code, r->xcode, text) != MI_SUCCESS)
		log_warnx("smfi_setreply refused \"%s %s %s\"; the MTA sends its default text",
		    r->code, r->xcode, text);
	return r->verdict == POSTERN_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* Keep the first non-CONTINUE verdict of a no-reply step for later. */
void
pm_defer(engine_result *pending, const engine_result *r)
{
	if (r->verdict != POSTERN_CONTINUE && pending->verdict == POSTERN_CONTINUE)
		*pending = *r;
}
