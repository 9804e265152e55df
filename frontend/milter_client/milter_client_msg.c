/*
 * milter_client_msg.c - what the milter client sends and receives around
 * the message: the macros of each stage (Postfix's defaults, or the
 * milter's SETSYMLIST), the message stream cut into HEADER, EOH and BODY
 * packets as the bytes arrive (bounded: one header field, one body chunk),
 * and the end-of-message edits collected for the spool.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* O_TMPFILE, mkostemp */
#endif
#include "milter_client_int.h"
#include "log.h"
#include "reply.h"
#include "xalloc.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- macros */

static const char *const mac_name[M_COUNT] = {
	"j", "_", "{daemon_name}", "{daemon_addr}", "v", "{client_addr}", "{client_port}",
	"{client_name}", "{tls_version}", "{cipher}", "{cipher_bits}", "{cert_subject}",
	"{cert_issuer}", "{auth_type}", "{auth_authen}", "i", "{mail_addr}", "{rcpt_addr}"
};

/* The SMFIC_* letter a MACRO packet names its stage with (index: SMFIM_*). */
static const uint8_t stage_cmd[MC_NSTAGES] = {
	SMFIC_CONNECT, SMFIC_HELO, SMFIC_MAIL, SMFIC_RCPT, SMFIC_DATA, SMFIC_BODYEOB, SMFIC_EOH
};

/* Postfix's milter_*_macros defaults, plus the client's address at connect. */
static const enum mc_mac stage_default[MC_NSTAGES][10] = {
	{ M_J, M_DAEMON_NAME, M_DAEMON_ADDR, M_V, M_UNDERSCORE, M_CLIENT_ADDR, M_CLIENT_PORT,
	  M_CLIENT_NAME, M_COUNT },
	{ M_TLS_VERSION, M_CIPHER, M_CIPHER_BITS, M_CERT_SUBJECT, M_CERT_ISSUER, M_COUNT },
	{ M_I, M_AUTH_TYPE, M_AUTH_AUTHEN, M_MAIL_ADDR, M_COUNT },
	{ M_I, M_RCPT_ADDR, M_COUNT },
	{ M_I, M_COUNT },
	{ M_I, M_COUNT },
	{ M_I, M_COUNT },
};

void
mc_macro_set(mc_session *s, enum mc_mac m, const char *v)
{
	char *p;

	free(s->mac[m]);
	s->mac[m] = NULL;
	if (v == NULL)
		return;
	/* Bounded, and no control characters: a value must not forge protocol lines downstream. */
	s->mac[m] = xstrndup(v, MC_MACRO_MAX);
	for (p = s->mac[m]; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* Our index of a macro name, with or without its braces; -1 if unknown. */
static int
mac_lookup(const char *name, size_t len)
{
	const char *n;
	size_t nl;
	int i;

	if (len >= 2 && name[0] == '{' && name[len - 1] == '}') {
		name++;
		len -= 2;
	}
	for (i = 0; i < M_COUNT; i++) {
		n = mac_name[i];
		nl = strlen(n);
		if (nl >= 2 && n[0] == '{') {
			n++;
			nl -= 2;
		}
		if (nl == len && memcmp(n, name, len) == 0)
			return i;
	}
	return -1;
}

static void
add_macro(const mc_session *s, struct mp_buf *list, int m)
{
	if (m >= 0 && s->mac[m]) {
		mp_list_add(list, mac_name[m]);
		mp_list_add(list, s->mac[m]);
	}
}

void
mc_send_macros(mc_session *s, size_t slot, int stage)
{
	struct mc_conn *c = s->slots[slot].c;
	struct mp_buf list = { 0 }, pkt = { 0 };
	const char *p, *e;
	int i;

	if ((p = c->symlist[stage]) != NULL) {
		/* The milter's own list (SETSYMLIST): only what it asked for. */
		while (*p) {
			while (*p == ' ' || *p == ',' || *p == '\t')
				p++;
			for (e = p; *e && *e != ' ' && *e != ',' && *e != '\t'; e++)
				;
			if (e > p)
				add_macro(s, &list, mac_lookup(p, (size_t)(e - p)));
			p = e;
		}
	} else {
		for (i = 0; stage_default[stage][i] != M_COUNT; i++)
			add_macro(s, &list, stage_default[stage][i]);
	}
	if (list.len > 0 && mp_encode(&pkt, MP_COMMANDS, &(struct mp_msg){ .cmd = SMFIC_MACRO,
	    .stage = stage_cmd[stage], .list = (const char *)list.p, .listlen = list.len }) == MP_OK)
		mc_conn_send(c, pkt.p, pkt.len, 0);
	mp_buf_free(&list);
	mp_buf_free(&pkt);
}

/* --- the message stream */

int
mc_hdr_leadspc(const struct mc_conn *c)
{
	return (c->proto & SMFIP_HDR_LEADSPC) != 0;
}

void
mc_stream_reset(mc_session *s)
{
	evbuffer_drain(s->in, evbuffer_get_length(s->in));
	mc_split_reset(&s->split);
	s->out_blocked = 0;
	s->want_ready = 0;
	s->mods_bytes = 0;
	s->body_slot = 0;
	event_del(s->ready_ev);
}

static void
put_str(struct mp_buf *b, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)	/* a NUL would end the string early on the milter's side */
		b->p[b->len++] = p[i] ? p[i] : ' ';
	b->p[b->len++] = '\0';
}

/* The field the splitter holds as HEADER packets ([0] without the leading space, [1] with). */
static int
emit_field(mc_session *s)
{
	const uint8_t *name, *val;
	size_t nlen, vlen, skip, k;
	struct mp_buf *b;
	int cut;

	mc_split_field(&s->split, &name, &nlen, &val, &vlen, &cut);
	if (cut)
		log_warnx("milter: header field %.*s longer than %d bytes, cut", (int)(nlen > 64 ? 64 : nlen),
		    name, MC_FIELD_MAX);
	for (k = 0; k < 2; k++) {
		b = &s->pkt[k];
		skip = k == 0 && vlen > 0 && val[0] == ' ';	/* Sendmail eats one space */
		b->len = 0;
		if (b->cap < MP_HDR_LEN + nlen + vlen + 2) {
			b->cap = MP_HDR_LEN + nlen + vlen + 2;
			b->p = xrealloc(b->p, b->cap);
		}
		mp_put_header(b->p, SMFIC_HEADER, nlen + vlen - skip + 2);
		b->len = MP_HDR_LEN;
		put_str(b, name, nlen);
		put_str(b, val + skip, vlen - skip);
	}
	return mc_any_takes(s, SMFIC_HEADER) ? SMFIC_HEADER : 0;
}

/* The header section ended. */
static int
emit_eoh(mc_session *s)
{
	s->pkt[0].len = 0;
	mp_encode(&s->pkt[0], MP_COMMANDS, &(struct mp_msg){ .cmd = SMFIC_EOH });
	return mc_any_takes(s, SMFIC_EOH) ? SMFIC_EOH : 0;
}

static int
emit_body(mc_session *s)
{
	size_t n;
	const uint8_t *p = mc_split_chunk(&s->split, &n);

	s->pkt[0].len = 0;
	if (s->pkt[0].cap < MP_HDR_LEN + n) {
		s->pkt[0].cap = MP_HDR_LEN + MP_CHUNK;
		s->pkt[0].p = xrealloc(s->pkt[0].p, s->pkt[0].cap);
	}
	mp_put_header(s->pkt[0].p, SMFIC_BODY, n);
	memcpy(s->pkt[0].p + MP_HDR_LEN, p, n);
	s->pkt[0].len = MP_HDR_LEN + n;
	return SMFIC_BODY;
}

/* The next unit from the bytes held, or 0 when they are used up (and flushed at end of data). */
static int
produce(mc_session *s)
{
	struct evbuffer_iovec v;
	int ev, unit;

	for (;;) {
		if (mc_split_in_body(&s->split) && !mc_any_takes(s, SMFIC_BODY)) {
			/* Nobody reads the body (NOBODY, SKIP, accepted): drop it unread. */
			evbuffer_drain(s->in, evbuffer_get_length(s->in));
			mc_split_drop_body(&s->split);
			return 0;
		}
		if (evbuffer_peek(s->in, -1, NULL, &v, 1) < 1)
			v.iov_len = 0;
		if (v.iov_len > 0) {
			evbuffer_drain(s->in, mc_split_feed(&s->split, v.iov_base, v.iov_len, &ev));
		} else {
			if (!s->eom)
				return 0;
			if ((ev = mc_split_finish(&s->split)) == MC_SPLIT_NONE)
				return 0;
		}
		switch (ev) {
		case MC_SPLIT_HEADER:
			unit = emit_field(s);
			break;
		case MC_SPLIT_EOH:
			unit = emit_eoh(s);
			break;
		case MC_SPLIT_BODY:
			unit = emit_body(s);
			break;
		default:
			unit = 0;
			break;
		}
		if (unit)
			return unit;
	}
}

/* Is some milter's socket too full to take more of the stream? */
static int
stream_blocked(mc_session *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->slots[i].c && s->slots[i].c->st == C_READY && mc_conn_blocked(s->slots[i].c))
			return 1;
	return 0;
}

/*
 * Push the held message bytes through the milters, one unit at a time,
 * until a reply is awaited, a socket is full, or the bytes run out; at end
 * of data, flush and start the end-of-message step.
 */
void
mc_pump(mc_session *s)
{
	int unit;

	if (s->ev || !s->in_data)
		return;
	for (;;) {
		if (stream_blocked(s)) {
			s->out_blocked = 1;	/* mc_on_writable() resumes */
			return;
		}
		if ((unit = produce(s)) == 0)
			break;
		if (!mc_unit_start(s, unit))
			return;		/* the reply resumes through mc_event_done() */
	}
	if (s->want_ready && evbuffer_get_length(s->in) < MC_IN_HIGH / 2)
		event_active(s->ready_ev, 0, 0);
	if (s->eom)
		mc_eom_start(s);
}

/* --- end-of-message edits */

static struct mc_mod *
mod_add(mc_session *s, enum mc_mod_kind kind, uint32_t index, const char *name, char *value)
{
	struct mc_mods *m;
	struct mc_mod *d;

	if (s->mods == NULL) {
		s->mods = xcalloc(1, sizeof(*s->mods));
		s->mods->body_fd = -1;
	}
	m = s->mods;
	s->mods_bytes += strlen(name) + strlen(value) + sizeof(*d);
	if (m->n >= MC_MODS_MAX || s->mods_bytes > MC_MODS_BYTES_MAX) {
		free(value);
		return NULL;
	}
	m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
	d = &m->v[m->n++];
	d->kind = kind;
	d->index = index;
	d->name = xstrdup(name);
	d->value = value;
	return d;
}

/*
 * A header value as the spool writes it after "name:": the space Sendmail
 * ate put back (unless the milter negotiated SMFIP_HDR_LEADSPC), lines
 * joined by CRLF and each continuation starting with a blank, so that no
 * value can smuggle in a header line of its own.
 */
static char *
hdr_value(const char *v, int leadspc)
{
	size_t n = strlen(v), o = 0;
	char *out = xmalloc(3 * n + 2);
	const char *p;

	if (!leadspc)
		out[o++] = ' ';
	for (p = v; *p; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n') {
			if (p[1] == '\0')
				break;
			out[o++] = '\r';
			out[o++] = '\n';
			if (p[1] != ' ' && p[1] != '\t' && p[1] != '\r')
				out[o++] = '\t';
			continue;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
	return out;
}

static int
name_ok(const char *n)
{
	if (*n == '\0')
		return 0;
	for (; *n; n++)
		if (!mc_split_ftext((unsigned char)*n))
			return 0;
	return 1;
}

/* Append replacement body bytes, bare LF made CRLF. -1: over the size limit. */
static int
body_write(mc_session *s, const uint8_t *p, size_t n)
{
	struct mc_mods *m = s->mods;
	char buf[8192];
	size_t i, o = 0;
	ssize_t w;

	for (i = 0; i <= n; i++) {
		if (o + 2 > sizeof(buf) || (i == n && o > 0)) {
			if (m->body_size + o > s->l->max_body)
				return -1;
			if ((w = write(m->body_fd, buf, o)) != (ssize_t)o) {
				log_warn("milter: writing the replaced body");
				return -2;
			}
			m->body_size += o;
			o = 0;
		}
		if (i == n)
			break;
		if (p[i] == '\n' && !s->body_cr)
			buf[o++] = '\r';
		buf[o++] = (char)p[i];
		s->body_cr = p[i] == '\r';
	}
	return 0;
}

static int
body_start(mc_session *s, size_t slot)
{
	struct mc_mods *m = s->mods;
	char path[4096];

	s->body_slot = slot + 1;
	s->body_cr = 0;
	m->body_size = 0;
	if (m->body_fd >= 0)
		return ftruncate(m->body_fd, 0) == 0 && lseek(m->body_fd, 0, SEEK_SET) == 0 ? 0 : -1;
	m->body_fd = open(s->l->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (m->body_fd < 0) {
		/* No O_TMPFILE on this file system: a named file, unlinked at once. */
		snprintf(path, sizeof(path), "%s/postern-body.XXXXXX", s->l->tmpdir);
		if ((m->body_fd = mkostemp(path, O_CLOEXEC)) >= 0)
			unlink(path);
	}
	if (m->body_fd < 0)
		log_warn("milter: temporary file in %s", s->l->tmpdir);
	return m->body_fd >= 0 ? 0 : -1;
}

/* Could not store an edit: the message is tempfailed (our fault, not the milter's). */
static void
edit_failed(mc_session *s)
{
	if (s->msg_act == MC_CONTINUE) {
		s->msg_act = MC_TEMPFAIL;
		reply_format(R_POLICY_INTERNAL, NULL, mc_reply_buf(&s->msg_reply), MP_REPLY_MAX + 1);
	}
}

int
mc_eom_packet(mc_session *s, size_t slot, const struct mp_msg *m)
{
	struct mc_conn *c = s->slots[slot].c;
	uint32_t need;
	int lead = mc_hdr_leadspc(c), rc;
	const char *name = s->l->v[slot].name;

	switch (m->cmd) {
	case SMFIR_ADDHEADER: case SMFIR_INSHEADER: need = SMFIF_ADDHDRS; break;
	case SMFIR_CHGHEADER: need = SMFIF_CHGHDRS; break;
	case SMFIR_CHGFROM: need = SMFIF_CHGFROM; break;
	case SMFIR_ADDRCPT: need = SMFIF_ADDRCPT; break;
	case SMFIR_ADDRCPT_PAR: need = SMFIF_ADDRCPT_PAR; break;
	case SMFIR_DELRCPT: need = SMFIF_DELRCPT; break;
	case SMFIR_REPLBODY: need = SMFIF_CHGBODY; break;
	case SMFIR_QUARANTINE: need = SMFIF_QUARANTINE; break;
	default:
		return -1;
	}
	if (!(c->actions & need)) {
		log_warnx("milter %s: edit '%c' it did not negotiate, ignored", name, m->cmd);
		return 0;
	}
	if (s->mods == NULL) {
		s->mods = xcalloc(1, sizeof(*s->mods));
		s->mods->body_fd = -1;
	}
	switch (m->cmd) {
	case SMFIR_ADDHEADER:
	case SMFIR_INSHEADER:
	case SMFIR_CHGHEADER:
		if (!name_ok(m->s1)) {
			log_warnx("milter %s: bad header name in edit, ignored", name);
			return 0;
		}
		if (m->cmd == SMFIR_ADDHEADER)
			return mod_add(s, MC_MOD_ADD_HEADER, 0, m->s1, hdr_value(m->s2, lead)) ? 0 : -1;
		if (m->cmd == SMFIR_INSHEADER)
			return mod_add(s, MC_MOD_INS_HEADER, m->index, m->s1, hdr_value(m->s2, lead)) ? 0 : -1;
		/* Index 0 means the first one, as in Sendmail; an empty value deletes. */
		return mod_add(s, m->s2[0] ? MC_MOD_CHG_HEADER : MC_MOD_DEL_HEADER, m->index ? m->index : 1,
		    m->s1, m->s2[0] ? hdr_value(m->s2, lead) : xstrdup("")) ? 0 : -1;
	case SMFIR_CHGFROM:
		return mod_add(s, MC_MOD_CHG_FROM, 0, m->s1, xstrdup(m->s2 ? m->s2 : "")) ? 0 : -1;
	case SMFIR_ADDRCPT:
	case SMFIR_ADDRCPT_PAR:
		return mod_add(s, MC_MOD_ADD_RCPT, 0, m->s1, xstrdup(m->s2 ? m->s2 : "")) ? 0 : -1;
	case SMFIR_DELRCPT:
		return mod_add(s, MC_MOD_DEL_RCPT, 0, m->s1, xstrdup("")) ? 0 : -1;
	case SMFIR_QUARANTINE:
		return mod_add(s, MC_MOD_QUARANTINE, 0, "", xstrndup(m->s1, 1024)) ? 0 : -1;
	}
	/* SMFIR_REPLBODY: a new milter's replacement starts over. */
	if (s->body_slot != slot + 1 && body_start(s, slot) != 0) {
		edit_failed(s);
		return 0;
	}
	if ((rc = body_write(s, m->data, m->len)) == -1)
		return -1;	/* over max_body: that milter's failure */
	if (rc != 0)
		edit_failed(s);
	return 0;
}

/* Forget the edits slot made at end of message (it failed before its final word). */
void
mc_mods_drop(mc_session *s, size_t slot)
{
	struct mc_mods *m = s->mods;

	if (m == NULL)
		return;
	while (m->n > s->mods_mark) {
		m->n--;
		free(m->v[m->n].name);
		free(m->v[m->n].value);
	}
	if (s->body_slot == slot + 1 && m->body_fd >= 0) {
		/* Its body replacement went over an earlier one, if any: no replacement then. */
		close(m->body_fd);
		m->body_fd = -1;
		m->body_size = 0;
		s->body_slot = 0;
	}
}

void
mc_mods_free(struct mc_mods *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].value);
	}
	free(m->v);
	if (m->body_fd >= 0)
		close(m->body_fd);
	free(m);
}
