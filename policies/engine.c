/*
 * engine.c - runs the built-in rules and loaded modules over SMTP transactions.
 *
 * Verdicts follow policy.h: modules are asked in order; the first one (the
 * lowest index) that returns anything but CONTINUE decides; modules after it
 * are no longer called for the message, modules before it still are and may
 * still take the decision over. Envelope refusals apply at once; everything
 * else is delivered at end of message, which makes the reply that of the
 * first rule in the documented order (rules.h) whatever the order in which
 * the problems show up in the message.
 *
 * Content is streamed: headers and body go straight into the MIME scanner,
 * which calls back with decoded part content; per message the engine keeps
 * only fixed-size state (the scanner is bounded by mime_limits, libmagic
 * sees the first ENGINE_MAGIC_BYTES of each part).
 *
 * libmagic costs about a millisecond per text part and walks its whole
 * 8 MB database doing so; it runs only for parts whose detected type could
 * change a verdict (engine_magic_plan, engine_magic_wanted).
 */
#include "engine_int.h"
#include "log.h"
#include "reply.h"
#include "rules.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

enum engine_stage {
	ST_CONNECT, ST_HELO, ST_MAIL, ST_RCPT, ST_HEADER, ST_EOH,
	ST_PART_BEGIN, ST_PART_DATA, ST_PART_END, ST_EOM
};

/* Arguments of one stage's callbacks. */
struct engine_call {
	const char *s1;			/* helo, sender, rcpt, header name */
	const char *s2;			/* header value */
	const unsigned char *data;	/* part data */
	size_t len;
};

static const char *const engine_cte_names[] = {
	[MIME_CTE_7BIT] = "7bit", [MIME_CTE_8BIT] = "8bit", [MIME_CTE_BINARY] = "binary",
	[MIME_CTE_BASE64] = "base64", [MIME_CTE_QP] = "quoted-printable",
	/* Unknown encodings pass through undecoded, which is what "binary" means. */
	[MIME_CTE_UNKNOWN] = "binary",
};

/* Fill r from a reply table row. */
static void
engine_result_row(engine_result *r, postern_verdict v, enum reply_id id, const char *rule)
{
	const struct reply_row *row = reply_get(id);

	r->verdict = v;
	snprintf(r->code, sizeof(r->code), "%d", row->code);
	xstrlcpy(r->xcode, row->xcode ? row->xcode : "", sizeof(r->xcode));
	reply_text(id, NULL, r->text, sizeof(r->text));
	r->rule = rule;
}

static void
engine_result_continue(engine_result *r)
{
	memset(r, 0, sizeof(*r));
	r->verdict = POSTERN_CONTINUE;
}

/*
 * Turn a callback's return value (and the reply it may have set) into a
 * result. A reply counts only if its class matches the verdict (5xx for
 * REJECT, 4xx for TEMPFAIL); otherwise the default row applies.
 */
static void
engine_result_of(postern_msg *m, size_t i, int rv, engine_result *r)
{
	const char *name = m->gen->mods[i]->pol->name;
	char want;

	switch (rv) {
	case POSTERN_ACCEPT:
	case POSTERN_DISCARD:
		engine_result_continue(r);
		r->verdict = rv;
		r->rule = name;
		return;
	case POSTERN_REJECT:
		want = '5';
		break;
	case POSTERN_TEMPFAIL:
		want = '4';
		break;
	default:
		log_warnx("policy %s: invalid verdict %d, temporary failure", name, rv);
		engine_result_row(r, POSTERN_TEMPFAIL, R_POLICY_INTERNAL, name);
		return;
	}
	if (m->has_reply && m->reply_code[0] == want) {
		r->verdict = rv;
		memcpy(r->code, m->reply_code, sizeof(r->code));
		xstrlcpy(r->xcode, m->reply_xcode, sizeof(r->xcode));
		if (m->reply_text[0])
			xstrlcpy(r->text, m->reply_text, sizeof(r->text));
		else
			reply_text(want == '5' ? R_POLICY_REJECT : R_POLICY_TEMPFAIL, NULL,
			    r->text, sizeof(r->text));
		r->rule = name;
		return;
	}
	engine_result_row(r, rv, want == '5' ? R_POLICY_REJECT : R_POLICY_TEMPFAIL, name);
}

/* Module i decides the message (it is lower than any earlier decider). */
static void
engine_decide(postern_msg *m, size_t i, int rv)
{
	engine_result_of(m, i, rv, &m->result);
	m->decided = i;
	log_debug("policy: %s decided %d", m->result.rule, m->result.verdict);
}

/*
 * engine_internal - the engine itself failed (libmagic): a temporary failure
 * standing where the first body-reading module stands, so that a decision
 * taken before that point is still honoured.
 */
static void
engine_internal(postern_msg *m, const char *why)
{
	log_warnx("policy: %s", why);
	if (m->gen->first_body >= m->decided)
		return;
	engine_result_row(&m->result, POSTERN_TEMPFAIL, R_POLICY_INTERNAL, "engine");
	m->decided = m->gen->first_body;
}

/* Whether g lists mod (modules kept across a reload are shared by both generations). */
static int
engine_gen_lists(const struct engine_gen *g, const postern_module *mod)
{
	size_t i;

	for (i = 0; i < g->nmods; i++)
		if (g->mods[i] == mod)
			return 1;
	return 0;
}

/* Call one module's callback for stage st. */
static int
engine_call_one(postern_msg *m, const postern_policy *pol, enum engine_stage st,
    const struct engine_call *c)
{
	switch (st) {
	case ST_CONNECT:
		return pol->connect ? pol->connect(m) : POSTERN_CONTINUE;
	case ST_HELO:
		return pol->helo ? pol->helo(m, c->s1) : POSTERN_CONTINUE;
	case ST_MAIL:
		return pol->mail ? pol->mail(m, c->s1) : POSTERN_CONTINUE;
	case ST_RCPT:
		return pol->rcpt ? pol->rcpt(m, c->s1) : POSTERN_CONTINUE;
	case ST_HEADER:
		return pol->header ? pol->header(m, c->s1, c->s2) : POSTERN_CONTINUE;
	case ST_EOH:
		return pol->eoh ? pol->eoh(m) : POSTERN_CONTINUE;
	case ST_PART_BEGIN:
		return pol->part_begin ? pol->part_begin(m, &m->part) : POSTERN_CONTINUE;
	case ST_PART_DATA:
		return pol->part_data ? pol->part_data(m, &m->part, c->data, c->len) :
		    POSTERN_CONTINUE;
	case ST_PART_END:
		return pol->part_end ? pol->part_end(m, &m->part) : POSTERN_CONTINUE;
	case ST_EOM:
		return pol->eom ? pol->eom(m) : POSTERN_CONTINUE;
	}
	return POSTERN_CONTINUE;
}

/*
 * engine_run - call stage st of every module before the decider. For RCPT a
 * REJECT or TEMPFAIL refuses that recipient only: it goes to rcpt_r and
 * stops the round without deciding the message.
 */
static void
engine_run(postern_msg *m, enum engine_stage st, const struct engine_call *c, engine_result *rcpt_r)
{
	int body = st == ST_PART_BEGIN || st == ST_PART_DATA || st == ST_PART_END;
	size_t i;

	for (i = 0; i < m->gen->nmods && i < m->decided; i++) {
		const postern_policy *pol = m->gen->mods[i]->pol;
		int rv;

		if (body && !(pol->flags & POSTERN_POLICY_WANTS_BODY))
			continue;
		if (m->replay_skip != NULL && engine_gen_lists(m->replay_skip, m->gen->mods[i]))
			continue;
		m->cur = i;
		m->has_reply = 0;
		rv = engine_call_one(m, pol, st, c);
		m->cur = ENGINE_NONE;
		if (rv == POSTERN_CONTINUE)
			continue;
		if (st == ST_RCPT && (rv == POSTERN_REJECT || rv == POSTERN_TEMPFAIL)) {
			engine_result_of(m, i, rv, rcpt_r);
			return;
		}
		engine_decide(m, i, rv);
	}
}

/* --- MIME scanner glue -------------------------------------------------- */

static int
engine_part_is_leaf(const mime_part *p)
{
	return !p->is_multipart && !p->is_message;
}

static void
engine_map_part(postern_msg *m, const mime_part *p)
{
	postern_part *pp = &m->part;

	pp->index = p->index;
	pp->depth = p->depth;
	pp->content_type = p->content_type;
	pp->disposition = p->disposition;
	pp->filename = p->filename;
	pp->content_id = p->content_id;
	pp->charset = p->charset;
	pp->transfer_encoding = (unsigned)p->cte <= MIME_CTE_UNKNOWN ? engine_cte_names[p->cte] : "binary";
	pp->is_multipart = p->is_multipart;
	pp->is_message = p->is_message;
	pp->in_related = p->in_related;
	pp->decoded_size = p->decoded_size;
	pp->detected_type = m->detected;
}

static void
engine_mime_begin(void *ctx, const mime_part *p)
{
	postern_msg *m = ctx;

	m->magic_len = 0;
	m->detected[0] = '\0';
	engine_map_part(m, p);
	engine_run(m, ST_PART_BEGIN, NULL, NULL);
}

static void
engine_mime_data(void *ctx, const mime_part *p, const unsigned char *data, size_t len)
{
	postern_msg *m = ctx;
	struct engine_call c = { .data = data, .len = len };
	size_t room = sizeof(m->magic_buf) - m->magic_len;

	if (room > 0 && engine_part_is_leaf(p) && m->magic_reader < m->decided) {
		memcpy(m->magic_buf + m->magic_len, data, len < room ? len : room);
		m->magic_len += len < room ? len : room;
	}
	engine_map_part(m, p);
	engine_run(m, ST_PART_DATA, &c, NULL);
}

/*
 * engine_magic_wanted - whether libmagic's type of this part could change a
 * verdict, given who reads detected_type (engine_magic_plan). With the
 * built-in rules alone and executables in the reject list, the pre-sniff
 * settles most parts in a few comparisons.
 */
static int
engine_magic_wanted(const postern_msg *m, const mime_part *p)
{
	/* Nobody left to read it: no reader, or a module before every reader decided. */
	if (!engine_part_is_leaf(p) || m->magic_len == 0 || m->magic_reader >= m->decided)
		return 0;
	if (m->magic_all)
		return 1;
	if (m->magic_exec && engine_magic_sniff(m->magic_buf, m->magic_len))
		return 1;
	/*
	 * The mismatch check also flags a script whose name or declared type
	 * claims a document, and libmagic names scripts without "#!" ("<?php"):
	 * a document can be claimed only by a file name or a non-text type.
	 */
	return m->magic_named && (p->filename[0] != '\0' || strncmp(p->content_type, "text/", 5) != 0);
}

static void
engine_mime_end(void *ctx, const mime_part *p)
{
	postern_msg *m = ctx;
	char err[256];

	m->detected[0] = '\0';
	if (engine_magic_wanted(m, p) &&
	    engine_magic_detect(m->e->magic, m->magic_buf, m->magic_len, m->detected,
	    sizeof(m->detected), err, sizeof(err)) != 0) {
		m->detected[0] = '\0';
		engine_internal(m, err);
	}
	m->magic_len = 0;
	engine_map_part(m, p);
	engine_run(m, ST_PART_END, NULL, NULL);
}

static const mime_callbacks engine_mime_cb = {
	.header = NULL,
	.part_begin = engine_mime_begin,
	.part_data = engine_mime_data,
	.part_end = engine_mime_end,
};

/* Whether no body byte can change the verdict: no module before the decider reads it. */
static int
engine_body_done(const postern_msg *m)
{
	return m->body_skipped || m->gen->first_body >= m->decided;
}

/* Give the scanner more of the reconstructed message (created on first use). */
static void
engine_feed(postern_msg *m, const char *data, size_t len)
{
	if (engine_body_done(m))
		return;
	if (m->scan == NULL)
		m->scan = mime_scanner_new(&engine_mime_cb, m, &m->gen->lim);
	mime_scanner_feed(m->scan, data, len);
}

/* --- Transactions ------------------------------------------------------- */

/* config_foreach_item() callbacks: any item at all; a type the pre-sniff cannot vouch for. */
static int
engine_item_any(void *ctx, const char *item)
{
	(void)ctx;
	(void)item;
	return 1;
}

static int
engine_item_not_exec(void *ctx, const char *item)
{
	(void)ctx;
	return !engine_magic_type_is_exec(item);
}

/*
 * engine_magic_plan - which parts of m's transactions need libmagic, from
 * the modules of the pinned generation that may read detected_type:
 *  - rule attachment_type, with the configuration it reads itself: a
 *    reject list of executable types only (the default) needs the parts
 *    the pre-sniff flags; a wider one, every leaf part; the mismatch
 *    check adds parts with a file name or a non-text type;
 *  - a custom module with POSTERN_POLICY_WANTS_BODY: every leaf part, so
 *    that a module always sees detected_type as policy.h describes it.
 * Done per pin (session start, reload), not per part.
 */
static void
engine_magic_plan(postern_msg *m)
{
	const struct engine_gen *g = m->gen;
	size_t i;

	m->magic_reader = ENGINE_NONE;
	m->magic_all = m->magic_exec = m->magic_named = 0;
	for (i = 0; i < g->nmods; i++) {
		const postern_module *mod = g->mods[i];

		if (mod->pol == &rule_attachment_type) {
			const char *list = postern_module_setting(mod, "policy_attachment_types_reject");
			const char *mm = postern_module_setting(mod, "policy_attachment_type_mismatch");
			int mismatch = mm != NULL && strcmp(mm, "yes") == 0;

			if (list == NULL)
				list = "";
			if (!mismatch && config_foreach_item(list, engine_item_any, NULL) == 0)
				continue;	/* nothing to reject: the rule never looks */
			if (config_foreach_item(list, engine_item_not_exec, NULL) != 0)
				m->magic_all = 1;
			m->magic_exec = 1;
			m->magic_named = mismatch;
		} else if (mod->dl != NULL && (mod->pol->flags & POSTERN_POLICY_WANTS_BODY)) {
			m->magic_all = 1;
		} else {
			continue;
		}
		if (m->magic_reader == ENGINE_NONE)
			m->magic_reader = i;
	}
}

/* Per-module data of the pinned generation: one slot each. */
static void
engine_pin(postern_msg *m, struct engine_gen *g)
{
	m->gen = g;
	free(m->data);
	m->data = xcalloc(g->nmods ? g->nmods : 1, sizeof(*m->data));
	engine_magic_plan(m);
}

/* msg_end for every module (all == 0: only those holding data, outside a transaction). */
static void
engine_msg_end(postern_msg *m, int all)
{
	size_t i;

	for (i = 0; i < m->gen->nmods; i++) {
		const postern_policy *pol = m->gen->mods[i]->pol;
		if (pol->msg_end && (all || m->data[i] != NULL)) {
			m->cur = i;
			pol->msg_end(m);
		}
		m->data[i] = NULL;
	}
	m->cur = ENGINE_NONE;
}

static void
engine_tx_end(postern_msg *m)
{
	size_t i;

	if (!m->in_tx)
		return;
	engine_msg_end(m, 1);
	if (m->scan) {
		mime_scanner_free(m->scan);
		m->scan = NULL;
	}
	for (i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	m->rcpts = NULL;
	m->nrcpts = 0;
	free(m->sender);
	m->sender = NULL;
	m->in_tx = 0;
}

static void engine_conn_stage(postern_msg *m, enum engine_stage st, const struct engine_call *c,
    engine_result *r);

/*
 * A module added by SIGHUP joins sessions already open at their next MAIL:
 * it gets the connect and HELO calls it missed first, so that every hook of
 * it has run before MAIL, as in a session that starts after the reload.
 * Modules of the old generation saw them already and are not called again.
 */
static void
engine_replay_conn(postern_msg *m, const struct engine_gen *old)
{
	engine_result ignored;

	m->replay_skip = old;
	if (m->client_addr != NULL)
		engine_conn_stage(m, ST_CONNECT, NULL, &ignored);
	if (m->helo != NULL && m->conn_decided == ENGINE_NONE) {
		struct engine_call c = { .s1 = m->helo };
		engine_conn_stage(m, ST_HELO, &c, &ignored);
	}
	m->replay_skip = NULL;
}

/*
 * A new transaction: the session moves to the newest generation (SIGHUP)
 * unless a connect/helo decision ties it to the module indices of its own.
 */
static void
engine_tx_begin(postern_msg *m, const char *sender)
{
	engine_tx_end(m);
	engine_added_free(m);
	if (m->conn_decided == ENGINE_NONE) {
		struct engine_gen *g = engine_gen_acquire(m->e), *old = m->gen;
		if (g != old) {
			engine_msg_end(m, 0);
			engine_pin(m, g);
			engine_replay_conn(m, old);
			engine_gen_release(old);
		} else {
			engine_gen_release(g);
		}
	}
	m->in_tx = 1;
	m->sender = xstrdup(sender);
	m->decided = m->conn_decided;
	m->result = m->conn_result;
	m->eoh_done = 0;
	m->body_skipped = 0;
	m->mime_err = NULL;
	m->magic_len = 0;
	m->detected[0] = '\0';
}

/* Envelope stages report REJECT/TEMPFAIL at once; an ACCEPT or DISCARD waits for EOM. */
static void
engine_envelope_result(postern_msg *m, engine_result *r)
{
	if (m->decided != ENGINE_NONE &&
	    (m->result.verdict == POSTERN_REJECT || m->result.verdict == POSTERN_TEMPFAIL))
		*r = m->result;
	else
		engine_result_continue(r);
}

/* --- engine.h ----------------------------------------------------------- */

policy_engine *
engine_new(postern_config *cfg, char *err, size_t errlen)
{
	policy_engine *e = xcalloc(1, sizeof(*e));

	/* Opens one handle now: a missing database shows at startup, not on every message. */
	if ((e->magic = engine_magic_new(0, err, errlen)) == NULL) {
		free(e);
		return NULL;
	}
	if ((e->cur = engine_gen_build(cfg, NULL, err, errlen)) == NULL) {
		engine_magic_free(e->magic);
		free(e);
		return NULL;
	}
	pthread_mutex_init(&e->reload_lock, NULL);
	return e;
}

int
engine_reload(policy_engine *e, postern_config *cfg, char *err, size_t errlen)
{
	struct engine_gen *old, *g;

	pthread_mutex_lock(&e->reload_lock);
	old = engine_gen_acquire(e);
	g = engine_gen_build(cfg, old, err, errlen);
	if (g != NULL)
		engine_gen_release(engine_gen_swap(e, g));
	engine_gen_release(old);
	pthread_mutex_unlock(&e->reload_lock);
	return g ? 0 : -1;
}

void
engine_free(policy_engine *e)
{
	if (e == NULL)
		return;
	engine_gen_release(engine_gen_swap(e, NULL));
	pthread_mutex_destroy(&e->reload_lock);
	engine_magic_free(e->magic);
	free(e);
}

int
engine_wants_body(const policy_engine *e)
{
	struct engine_gen *g = engine_gen_acquire((policy_engine *)e);
	int wants = g->first_body < g->nmods;

	engine_gen_release(g);
	return wants;
}

void
engine_print_modules(policy_engine *e, FILE *out)
{
	struct engine_gen *g = engine_gen_acquire(e);
	size_t i;

	for (i = 0; i < g->nmods; i++) {
		const postern_module *mod = g->mods[i];
		fprintf(out, "%s: %s%s%s%s\n", mod->pol->name,
		    mod->pol->description ? mod->pol->description : "",
		    mod->dl ? " (" : "", mod->dl ? mod->path : "", mod->dl ? ")" : "");
	}
	engine_gen_release(g);
}

engine_session *
engine_session_new(policy_engine *e)
{
	engine_session *s = xcalloc(1, sizeof(*s));
	postern_msg *m = &s->msg;

	m->e = e;
	m->cur = ENGINE_NONE;
	m->decided = m->conn_decided = ENGINE_NONE;
	engine_pin(m, engine_gen_acquire(e));
	return s;
}

void
engine_session_free(engine_session *s)
{
	postern_msg *m;

	if (s == NULL)
		return;
	m = &s->msg;
	if (m->in_tx)
		engine_tx_end(m);
	else
		engine_msg_end(m, 0);
	engine_added_free(m);
	engine_macros_free(m);
	free(m->client_name);
	free(m->client_addr);
	free(m->helo);
	free(m->data);
	engine_gen_release(m->gen);
	free(s);
}

/* connect and helo decide for the whole connection. */
static void
engine_conn_stage(postern_msg *m, enum engine_stage st, const struct engine_call *c, engine_result *r)
{
	m->decided = m->conn_decided;
	m->result = m->conn_result;
	engine_run(m, st, c, NULL);
	m->conn_decided = m->decided;
	m->conn_result = m->result;
	engine_envelope_result(m, r);
}

void
engine_connect(engine_session *s, const char *client_name, const char *client_addr, engine_result *r)
{
	postern_msg *m = &s->msg;

	free(m->client_name);
	free(m->client_addr);
	m->client_name = xstrdup(client_name ? client_name : "");
	m->client_addr = xstrdup(client_addr ? client_addr : "");
	engine_conn_stage(m, ST_CONNECT, NULL, r);
}

void
engine_helo(engine_session *s, const char *helo, engine_result *r)
{
	postern_msg *m = &s->msg;
	struct engine_call c = { .s1 = helo ? helo : "" };

	free(m->helo);
	m->helo = xstrdup(c.s1);
	engine_conn_stage(m, ST_HELO, &c, r);
}

void
engine_mail(engine_session *s, const char *sender, engine_result *r)
{
	postern_msg *m = &s->msg;
	struct engine_call c = { .s1 = sender ? sender : "" };

	engine_tx_begin(m, c.s1);
	engine_run(m, ST_MAIL, &c, NULL);
	engine_envelope_result(m, r);
	if (r->verdict != POSTERN_CONTINUE)
		engine_tx_end(m);	/* MAIL refused: this transaction is over */
}

void
engine_rcpt(engine_session *s, const char *rcpt, engine_result *r)
{
	postern_msg *m = &s->msg;
	struct engine_call c = { .s1 = rcpt ? rcpt : "" };

	engine_result_continue(r);
	if (!m->in_tx)
		return;
	engine_run(m, ST_RCPT, &c, r);
	if (r->verdict != POSTERN_CONTINUE)
		return;
	engine_envelope_result(m, r);
	if (r->verdict == POSTERN_CONTINUE && m->nrcpts < ENGINE_MAX_RCPTS) {
		m->rcpts = xrealloc(m->rcpts, (m->nrcpts + 1) * sizeof(*m->rcpts));
		m->rcpts[m->nrcpts++] = xstrdup(c.s1);
	}
}

/* Unfold a header value (drop CR/LF before WSP and at the end) and skip leading WSP. */
static char *
engine_unfold(const char *v)
{
	char *out = xmalloc(strlen(v) + 1), *o = out;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v; v++) {
		if (*v == '\r' || *v == '\n')
			continue;
		*o++ = *v;
	}
	*o = '\0';
	return out;
}

void
engine_header(engine_session *s, const char *name, const char *value, engine_result *r)
{
	postern_msg *m = &s->msg;
	struct engine_call c;
	char *v;

	engine_result_continue(r);
	if (!m->in_tx || name == NULL || m->eoh_done)
		return;
	v = engine_unfold(value ? value : "");
	/* The scanner sees the top-level header block exactly as the modules do. */
	engine_feed(m, name, strlen(name));
	engine_feed(m, ": ", 2);
	engine_feed(m, v, strlen(v));
	engine_feed(m, "\r\n", 2);
	c.s1 = name;
	c.s2 = v;
	engine_run(m, ST_HEADER, &c, NULL);
	free(v);
}

void
engine_eoh(engine_session *s, engine_result *r)
{
	postern_msg *m = &s->msg;

	engine_result_continue(r);
	if (!m->in_tx || m->eoh_done)
		return;
	m->eoh_done = 1;
	engine_run(m, ST_EOH, NULL, NULL);
	engine_feed(m, "\r\n", 2);
}

int
engine_body(engine_session *s, const char *data, size_t len, engine_result *r)
{
	postern_msg *m = &s->msg;

	engine_result_continue(r);
	if (!m->in_tx)
		return 1;
	if (!m->eoh_done)
		engine_eoh(s, r);
	if (engine_body_done(m)) {
		m->body_skipped = 1;
		return 1;
	}
	engine_feed(m, data, len);
	if (engine_body_done(m))
		m->body_skipped = 1;
	return m->body_skipped;
}

void
engine_eom(engine_session *s, engine_result *r)
{
	postern_msg *m = &s->msg;
	enum mime_error me;

	engine_result_continue(r);
	if (!m->in_tx)
		return;
	if (!m->eoh_done)
		engine_eoh(s, r);
	if (!engine_body_done(m)) {
		if (m->scan == NULL)
			m->scan = mime_scanner_new(&engine_mime_cb, m, &m->gen->lim);
		/* Closes the open parts: their part_end callbacks run here, before eom. */
		me = mime_scanner_finish(m->scan);
		m->mime_err = me == MIME_OK ? NULL : mime_error_str(me);
	}
	engine_run(m, ST_EOM, NULL, NULL);
	if (m->decided != ENGINE_NONE)
		*r = m->result;
	m->added_valid = r->verdict == POSTERN_CONTINUE || r->verdict == POSTERN_ACCEPT;
	engine_tx_end(m);
}

/* Only an open transaction is aborted: the headers of the last accepted one stay valid. */
void
engine_abort(engine_session *s)
{
	postern_msg *m = &s->msg;

	if (!m->in_tx)
		return;
	engine_tx_end(m);
	engine_added_free(m);
}
