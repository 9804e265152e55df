/* msg.c - the postern_msg_* API of policy.h: what a module may read and set about a message. */
#include "engine_int.h"
#include "log.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "{auth_authen}" and "auth_authen" name the same macro: Sendmail and Postfix differ in braces. */
static void
macro_bare(const char *name, const char **start, size_t *len)
{
	size_t n = strlen(name);

	if (n >= 2 && name[0] == '{' && name[n - 1] == '}') {
		*start = name + 1;
		*len = n - 2;
	} else {
		*start = name;
		*len = n;
	}
}

static int
macro_same(const char *a, const char *b)
{
	const char *sa, *sb;
	size_t la, lb;

	macro_bare(a, &sa, &la);
	macro_bare(b, &sb, &lb);
	return la == lb && memcmp(sa, sb, la) == 0;
}

const char *
engine_macro_get(const postern_msg *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nmacros; i++)
		if (macro_same(m->macros[i].key, name))
			return m->macros[i].value;
	return NULL;
}

void
engine_set_macro(engine_session *s, const char *name, const char *value)
{
	postern_msg *m = &s->msg;
	size_t i;

	if (name == NULL || *name == '\0')
		return;
	for (i = 0; i < m->nmacros; i++)
		if (macro_same(m->macros[i].key, name))
			break;
	if (value == NULL) {
		if (i == m->nmacros)
			return;
		free(m->macros[i].key);
		free(m->macros[i].value);
		m->macros[i] = m->macros[--m->nmacros];
		return;
	}
	if (i == m->nmacros) {
		/* Bounded: the MTA decides what it sends; past the cap we keep the first ones. */
		if (m->nmacros == ENGINE_MAX_MACROS) {
			log_debug("policy: macro %.64s dropped, more than %d", name, ENGINE_MAX_MACROS);
			return;
		}
		m->macros[i].key = xstrdup(name);
		m->macros[i].value = NULL;
		m->nmacros++;
	}
	free(m->macros[i].value);
	m->macros[i].value = xstrndup(value, ENGINE_MACRO_MAX);
}

void
engine_macros_free(postern_msg *m)
{
	size_t i;

	for (i = 0; i < m->nmacros; i++) {
		free(m->macros[i].key);
		free(m->macros[i].value);
	}
	m->nmacros = 0;
}

void
engine_added_free(postern_msg *m)
{
	size_t i;

	for (i = 0; i < m->nadded; i++) {
		free((char *)m->added_names[i]);
		free((char *)m->added_values[i]);
	}
	m->nadded = 0;
	m->added_valid = 0;
}

size_t
engine_added_headers(engine_session *s, const char *const **names, const char *const **values)
{
	postern_msg *m = &s->msg;

	*names = m->added_names;
	*values = m->added_values;
	return m->added_valid ? m->nadded : 0;
}

/* --- postern_msg_* (policy.h) ------------------------------------------- */

const postern_module *
postern_msg_module(const postern_msg *m)
{
	return m->cur < m->gen->nmods ? m->gen->mods[m->cur] : NULL;
}

const char *
postern_msg_id(const postern_msg *m)
{
	const char *id = engine_macro_get(m, "i");

	return id ? id : "";
}

const char *
postern_msg_client_addr(const postern_msg *m)
{
	return m->client_addr ? m->client_addr : "";
}

const char *
postern_msg_client_name(const postern_msg *m)
{
	return m->client_name ? m->client_name : "";
}

const char *
postern_msg_helo(const postern_msg *m)
{
	return m->helo ? m->helo : "";
}

/* An empty {auth_authen} (some MTAs send it before AUTH) means no login. */
const char *
postern_msg_account(const postern_msg *m)
{
	const char *a = engine_macro_get(m, "{auth_authen}");

	return a && *a ? a : NULL;
}

const char *
postern_msg_tls_version(const postern_msg *m)
{
	const char *v = engine_macro_get(m, "{tls_version}");

	return v && *v ? v : NULL;
}

const char *
postern_msg_tls_cipher(const postern_msg *m)
{
	const char *v = engine_macro_get(m, "{cipher}");

	return v && *v ? v : NULL;
}

const char *
postern_msg_sender(const postern_msg *m)
{
	return m->sender ? m->sender : "";
}

size_t
postern_msg_rcpt_count(const postern_msg *m)
{
	return m->nrcpts;
}

const char *
postern_msg_rcpt(const postern_msg *m, size_t i)
{
	return i < m->nrcpts ? m->rcpts[i] : NULL;
}

const char *
postern_msg_macro(const postern_msg *m, const char *name)
{
	return name ? engine_macro_get(m, name) : NULL;
}

const char *
postern_msg_mime_error(const postern_msg *m)
{
	return m->mime_err;
}

void *
postern_msg_data(const postern_msg *m)
{
	return m->cur < m->gen->nmods ? m->data[m->cur] : NULL;
}

void
postern_msg_set_data(postern_msg *m, void *data)
{
	if (m->cur < m->gen->nmods)
		m->data[m->cur] = data;
}

/* "550" and "5.7.1": a 4xx/5xx code and an enhanced code of the same class. */
static int
msg_codes_ok(const char *code, const char *xcode)
{
	const char *p;
	int field, digits;

	if (code == NULL || xcode == NULL || strlen(code) != 3 || (code[0] != '4' && code[0] != '5') ||
	    !isdigit((unsigned char)code[1]) || !isdigit((unsigned char)code[2]))
		return 0;
	if (xcode[0] != code[0] || xcode[1] != '.' || strlen(xcode) > 9)
		return 0;
	for (p = xcode + 2, field = 1, digits = 0; ; p++) {
		if (isdigit((unsigned char)*p)) {
			if (++digits > 3)
				return 0;
		} else if (*p == '.' && digits > 0 && field == 1) {
			field = 2;
			digits = 0;
		} else {
			return *p == '\0' && digits > 0 && field == 2;
		}
	}
}

int
postern_msg_reply(postern_msg *m, const char *code, const char *xcode, const char *text)
{
	size_t i;

	if (!msg_codes_ok(code, xcode))
		return -1;
	memcpy(m->reply_code, code, 4);
	xstrlcpy(m->reply_xcode, xcode, sizeof(m->reply_xcode));
	if (text == NULL)
		text = "";
	/* Replies are ASCII without CR/LF: anything else becomes '?' rather than breaking SMTP. */
	for (i = 0; i < sizeof(m->reply_text) - 1 && text[i]; i++) {
		unsigned char c = (unsigned char)text[i];
		m->reply_text[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	m->reply_text[i] = '\0';
	m->has_reply = 1;
	return 0;
}

/* A field name (RFC 5322: printable ASCII but ':') and a value that only folds with LF + WSP. */
static int
msg_header_ok(const char *name, const char *value)
{
	const char *p;

	if (name == NULL || value == NULL || *name == '\0' || strlen(name) >= ENGINE_ADDED_NAME_MAX ||
	    strlen(value) >= ENGINE_ADDED_VALUE_MAX)
		return 0;
	for (p = name; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == ':')
			return 0;
	for (p = value; *p; p++) {
		if (*p == '\r')
			return 0;
		if (*p == '\n' && p[1] != ' ' && p[1] != '\t')
			return 0;
	}
	return 1;
}

int
postern_msg_add_header(postern_msg *m, const char *name, const char *value)
{
	if (!m->in_tx || m->nadded == ENGINE_MAX_ADDED || !msg_header_ok(name, value))
		return -1;
	m->added_names[m->nadded] = xstrdup(name);
	m->added_values[m->nadded] = xstrdup(value);
	m->nadded++;
	return 0;
}

void
postern_msg_log(const postern_msg *m, const char *fmt, ...)
{
	const postern_module *mod = postern_msg_module(m);
	const char *id = postern_msg_id(m);
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_info("%s: policy %s: %s", *id ? id : "NOQUEUE", mod ? mod->pol->name : "engine", buf);
}
