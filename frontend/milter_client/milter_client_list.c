/*
 * milter_client_list.c - the smtpd_milters list of the milter client:
 * parsing (Postfix's syntax, braces with per-milter settings included),
 * address resolution at load time, and its reference count (sessions keep
 * a replaced list alive; its pool of idle connections goes with it).
 */
#include "milter_client_int.h"
#include "config.h"
#include "endpoint.h"
#include "xalloc.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

/* --- the list */

static int
parse_def(const char *v, enum mc_def *d)
{
	if (strcasecmp(v, "tempfail") == 0)
		*d = MC_DEF_TEMPFAIL;
	else if (strcasecmp(v, "accept") == 0)
		*d = MC_DEF_ACCEPT;
	else if (strcasecmp(v, "reject") == 0)
		*d = MC_DEF_REJECT;
	else
		return -1;
	return 0;
}

/* One address: inet:host:port, inet6:[addr]:port, unix:/path or local:/path, resolved now. */
static int
parse_addr(struct mc_milter *m, const char *item, char *err, size_t errlen)
{
	struct endpoint ep;
	char why[128], port[8];
	struct addrinfo hints, *res;
	int rc;

	if (endpoint_parse(item, ENDPOINT_ALLOW_PREFIX | ENDPOINT_ALLOW_UNIX, 0, &ep, why,
	    sizeof(why)) != 0) {
		snprintf(err, errlen, "bad milter socket \"%.200s\" (inet:HOST:PORT, inet6:[ADDR]:PORT "
		    "or unix:PATH): %s", item, why);
		return -1;
	}
	if (ep.kind == ENDPOINT_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)&m->ss;

		_Static_assert(sizeof(un->sun_path) == sizeof(ep.path), "endpoint_parse bounds the path");
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, ep.path, sizeof(ep.path));
		m->sslen = sizeof(*un);
		return 0;
	}
	snprintf(port, sizeof(port), "%u", ep.port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = ep.family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(ep.host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "milter \"%.200s\": %s", item, gai_strerror(rc));
		return -1;
	}
	memcpy(&m->ss, res->ai_addr, res->ai_addrlen);
	m->sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* A per-milter setting inside braces. */
static int
parse_setting(struct mc_milter *m, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	char key[32];
	const char *v;
	size_t kl;

	if (eq == NULL || (kl = (size_t)(eq - kv)) >= sizeof(key))
		goto bad;
	memcpy(key, kv, kl);
	while (kl > 0 && (key[kl - 1] == ' ' || key[kl - 1] == '\t'))
		kl--;
	key[kl] = '\0';
	for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
		;
	if (strcmp(key, "default_action") == 0 && parse_def(v, &m->def) == 0)
		return 0;
	if ((strcmp(key, "timeout") == 0 || strcmp(key, "command_timeout") == 0 ||
	    strcmp(key, "connect_timeout") == 0) && config_parse_duration(v, &m->timeout_s) == 0 &&
	    m->timeout_s > 0)
		return 0;
	if (strcmp(key, "reuse") == 0 && config_parse_bool(v, &m->reuse) == 0)
		return 0;
bad:
	snprintf(err, errlen, "milter \"%.100s\": bad setting \"%.100s\" (default_action, timeout, reuse)",
	    m->name ? m->name : "", kv);
	return -1;
}

/* Next item of s up to a comma (or end); trimmed copy into out. Returns the position after it. */
static const char *
next_item(const char *s, const char *end, char *out, size_t outsize)
{
	const char *e = memchr(s, ',', (size_t)(end - s));
	size_t n;

	if (e == NULL)
		e = end;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	n = (size_t)(e - s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= outsize)
		n = outsize - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return e < end ? e + 1 : e;
}

static void
list_destroy(mc_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		mc_pool_flush(&l->v[i]);
		free(l->v[i].name);
	}
	free(l->v);
	free(l->tmpdir);
	free(l);
}

mc_list *
mc_list_parse(const char *spec, const struct mc_options *opt, char *err, size_t errlen)
{
	mc_list *l = xcalloc(1, sizeof(*l));
	const char *p = spec, *end, *inner_end;
	char item[512];
	struct mc_milter *m;
	enum mc_def def = MC_DEF_TEMPFAIL;

	l->refs = 1;
	l->tmpdir = xstrdup(opt->tmpdir ? opt->tmpdir : "/tmp");
	l->max_body = opt->max_body ? opt->max_body : MC_MAX_BODY_DEFAULT;
	l->pool_max = opt->pool_max;
	l->check_owner = opt->check_owner;
	l->owner_uid = opt->check_owner ? opt->owner_uid : -1;
	if (opt->default_action && parse_def(opt->default_action, &def) != 0) {
		snprintf(err, errlen, "bad milter_default_action \"%.100s\"", opt->default_action);
		goto fail;
	}
	end = spec + strlen(spec);
	while (p < end) {
		if (*p == ' ' || *p == '\t' || *p == ',' || *p == '\n') {
			p++;
			continue;
		}
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		m = &l->v[l->n];
		memset(m, 0, sizeof(*m));
		m->def = def;
		m->timeout_s = opt->timeout_s ? opt->timeout_s : 30;
		m->reuse = opt->reuse;
		l->n++;
		if (*p == '{') {
			/* Postfix's "{ address, key=value, ... }": commas inside are the group's own. */
			if ((inner_end = strchr(p, '}')) == NULL) {
				snprintf(err, errlen, "milter entry without its closing brace: \"%.100s\"", p);
				goto fail;
			}
			p = next_item(p + 1, inner_end, item, sizeof(item));
			m->name = xstrdup(item);
			if (parse_addr(m, item, err, errlen) != 0)
				goto fail;
			while (p < inner_end) {
				p = next_item(p, inner_end, item, sizeof(item));
				if (item[0] != '\0' && parse_setting(m, item, err, errlen) != 0)
					goto fail;
			}
			p = inner_end + 1;
		} else {
			p = next_item(p, end, item, sizeof(item));
			m->name = xstrdup(item);
			if (parse_addr(m, item, err, errlen) != 0)
				goto fail;
		}
	}
	return l;
fail:
	list_destroy(l);
	return NULL;
}

void
mc_list_unref(mc_list *l)
{
	if (l && --l->refs == 0)
		list_destroy(l);
}

void
mc_list_free(mc_list *l)
{
	mc_list_unref(l);
}

size_t
mc_list_count(const mc_list *l)
{
	return l ? l->n : 0;
}

const char *
mc_list_name(const mc_list *l, size_t i)
{
	return l && i < l->n ? l->v[i].name : "";
}
