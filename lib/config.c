/* config.c - postern.conf parser: a table of typed keys, defaults, and file:line errors. */
#include "config.h"
#include "endpoint.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_LINE_MAX	8192

enum config_type { CT_STR, CT_BOOL, CT_TRIBOOL, CT_UINT, CT_PERCENT, CT_DURATION, CT_SIZE, CT_ENUM,
	CT_MODE, CT_LISTEN, CT_MILTER_LISTEN };

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	const char *def;		/* textual default, parsed like a file value */
	const char *choices;		/* CT_ENUM: "a|b|c" */
};

#define K(n, t, d) { #n, t, offsetof(postern_config, n), d, NULL }
#define E(n, d, c) { #n, CT_ENUM, offsetof(postern_config, n), d, c }

/* Order is the order of `-n` output; doc/postern.conf.5 documents each key (test_config_doc). */
static const struct config_key config_keys[] = {
	E(log, "stderr", "stderr|syslog"),
	K(smtpd_listen, CT_LISTEN, "127.0.0.1:2525"),
	K(smtpd_tls_listen, CT_LISTEN, ""),
	K(smtpd_hostname, CT_STR, ""),
	K(smtpd_tls_cert_file, CT_STR, ""),
	K(smtpd_tls_key_file, CT_STR, ""),
	K(smtpd_tls_priority, CT_STR, ""),
	K(smtpd_require_tls, CT_TRIBOOL, ""),
	K(smtpd_tls_ask_ccert, CT_BOOL, "no"),
	K(smtpd_require_auth, CT_BOOL, "yes"),
	K(smtpd_user, CT_STR, "postern"),
	K(smtpd_max_connections, CT_UINT, "1000"),
	K(smtpd_max_connections_per_ip, CT_UINT, "50"),
	K(smtpd_max_recipients, CT_UINT, "100"),
	K(smtpd_max_errors, CT_UINT, "10"),
	K(message_size_limit, CT_SIZE, "26214400"),
	K(smtpd_command_timeout, CT_DURATION, "300s"),
	K(smtpd_data_timeout, CT_DURATION, "600s"),
	K(smtpd_min_data_rate, CT_UINT, "500"),
	K(smtpd_tls_handshake_timeout, CT_DURATION, "60s"),
	K(smtpd_proxy_protocol, CT_STR, "no"),
	K(smtpd_proxy_timeout, CT_DURATION, "10s"),
	K(metrics_listen, CT_STR, ""),
	K(smtpd_metrics_listen, CT_STR, ""),
	K(smtpd_stress_threshold, CT_PERCENT, "80"),
	K(smtpd_stress_timeout, CT_DURATION, "10s"),
	E(smtpd_bare_newline, "reject", "reject|normalize"),
	K(smtpd_auth_workers, CT_UINT, "2"),
	K(smtpd_milters, CT_STR, "inet:127.0.0.1:8891"),
	K(milter_timeout, CT_DURATION, "30s"),
	E(milter_default_action, "tempfail", "tempfail|accept|reject"),
	K(milter_reuse, CT_BOOL, "no"),
	K(smtpd_milter_check_owner, CT_BOOL, "yes"),
	K(smtpd_spool_dir, CT_STR, LOCALSTATEDIR "/spool/postern"),
	K(accounts_file, CT_STR, ""),
	K(milter_listen, CT_MILTER_LISTEN, "inet:127.0.0.1:8891"),
	K(milter_user, CT_STR, "postern"),
	K(milter_socket_mode, CT_MODE, "0660"),
	K(milter_socket_group, CT_STR, ""),
	K(milter_metrics_listen, CT_STR, ""),
	K(policy_subject_max_length, CT_UINT, "255"),
	E(policy_alignment, "strict", "strict|relaxed"),
	K(policy_alignment_sender, CT_BOOL, "no"),
	K(policy_modules, CT_STR, ""),
	K(policy_attachment_types_reject, CT_STR,
	    "application/x-executable,application/x-dosexec,application/x-sharedlib,"
	    "application/x-pie-executable,application/x-mach-binary,"
	    "application/vnd.microsoft.portable-executable"),
	K(policy_attachment_type_mismatch, CT_BOOL, "yes"),
	K(policy_max_mime_parts, CT_UINT, "1000"),
	K(policy_max_mime_depth, CT_UINT, "32"),
	K(relay_host, CT_STR, ""),
	K(relay_helo_name, CT_STR, ""),
	E(relay_tls, "may", "none|may|encrypt|verify"),
	K(relay_tls_ca_file, CT_STR, ""),
	K(relay_auth_file, CT_STR, ""),
	K(relay_concurrency, CT_UINT, "20"),
	/* postern-relay: the queue side (the next hop's keys sit with the delivery client's). */
	K(relay_user, CT_STR, "postern"),
	K(relay_backoff_min, CT_DURATION, "300s"),
	K(relay_backoff_max, CT_DURATION, "4000s"),
	K(relay_max_queue_lifetime, CT_DURATION, "5d"),
	K(relay_bounce, CT_BOOL, "yes"),
	K(relay_status_lifetime, CT_DURATION, "7d"),
	K(relay_metrics_listen, CT_STR, ""),
};
#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

int
config_parse_uint(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT_MAX)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
config_parse_mode(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '7' || strlen(s) > 4)
		return -1;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno != 0 || *end != '\0' || v > 0777)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Number with an optional one-letter unit; mult maps the unit to a factor (0 = not allowed). */
static int
config_parse_scaled(const char *s, uint64_t (*mult)(char), uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t m = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0' || (m = mult((char)tolower((unsigned char)*end))) == 0)
			return -1;
	}
	if (v > UINT64_MAX / m)
		return -1;
	*out = v * m;
	return 0;
}

static uint64_t
config_time_unit(char c)
{
	return c == 's' ? 1 : c == 'm' ? 60 : c == 'h' ? 3600 : c == 'd' ? 86400 : 0;
}

static uint64_t
config_size_unit(char c)
{
	return c == 'k' ? 1024 : c == 'm' ? 1024 * 1024 : 0;
}

int
config_parse_duration(const char *s, unsigned *out)
{
	uint64_t v;

	if (config_parse_scaled(s, config_time_unit, &v) != 0 || v > UINT_MAX)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
config_parse_size(const char *s, uint64_t *out)
{
	return config_parse_scaled(s, config_size_unit, out);
}

int
config_parse_bool(const char *s, int *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
config_enum_ok(const char *choices, const char *v)
{
	size_t len = strlen(v);
	const char *p = choices;

	while (*p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n == len && strncmp(p, v, n) == 0)
			return 1;
		p += n + (bar ? 1 : 0);
	}
	return 0;
}

/*
 * Socket addresses are checked when the file is read, so that a bad one is
 * reported with its line by every program (-n included), not only by the
 * one that binds it, and in the syntax the user wrote.
 */
struct config_listen_ctx {
	char *why;
	size_t whylen;
};

static int
config_listen_one(void *arg, const char *item)
{
	struct config_listen_ctx *c = arg;
	struct endpoint ep;
	char why[160];

	if (endpoint_parse(item, ENDPOINT_ALLOW_BARE | ENDPOINT_ALLOW_ANY, 0, &ep, why, sizeof(why)) == 0)
		return 0;
	snprintf(c->why, c->whylen, "bad address \"%.100s\": %.100s (HOST:PORT or [ADDR]:PORT)", item, why);
	return -1;
}

static const char *
config_check_listen(const char *v, char *why, size_t whylen)
{
	struct config_listen_ctx c = { why, whylen };

	return config_foreach_item(v, config_listen_one, &c) != 0 ? why : NULL;
}

static const char *
config_check_milter_listen(const char *v, char *why, size_t whylen)
{
	struct endpoint ep;
	char e[160];

	if (endpoint_parse(v, ENDPOINT_ALLOW_PREFIX | ENDPOINT_ALLOW_UNIX | ENDPOINT_ALLOW_ANY, 0, &ep,
	    e, sizeof(e)) == 0)
		return NULL;
	snprintf(why, whylen, "bad address \"%.100s\": %.100s (inet:HOST:PORT, inet6:[ADDR]:PORT or "
	    "unix:/PATH)", v, e);
	return why;
}

/* Set one key from its text; returns NULL or a reason (in why for the socket types). */
static const char *
config_set(postern_config *cfg, const struct config_key *k, const char *v, char *why, size_t whylen)
{
	void *field = (char *)cfg + k->offset;

	switch (k->type) {
	case CT_LISTEN:
		if (config_check_listen(v, why, whylen) != NULL)
			return why;
		goto str;
	case CT_MILTER_LISTEN:
		if (config_check_milter_listen(v, why, whylen) != NULL)
			return why;
		goto str;
	case CT_ENUM:
		if (!config_enum_ok(k->choices, v))
			return "value must be one of";
		/* FALLTHROUGH */
	case CT_STR:
	str:
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		return NULL;
	case CT_TRIBOOL:
		if (*v == '\0') {
			*(int *)field = -1;
			return NULL;
		}
		/* FALLTHROUGH */
	case CT_BOOL:
		return config_parse_bool(v, (int *)field) ? "expected yes or no" : NULL;
	case CT_UINT:
		return config_parse_uint(v, (unsigned *)field) ? "expected a whole number" : NULL;
	case CT_PERCENT:
		return config_parse_uint(v, (unsigned *)field) || *(unsigned *)field > 100 ?
		    "expected a percentage from 0 to 100" : NULL;
	case CT_DURATION:
		return config_parse_duration(v, (unsigned *)field) ?
		    "expected a duration (number with optional s, m, h or d)" : NULL;
	case CT_SIZE:
		return config_parse_size(v, (uint64_t *)field) ?
		    "expected a size (bytes, or number with k or m)" : NULL;
	case CT_MODE:
		return config_parse_mode(v, (unsigned *)field) ?
		    "expected octal permission bits (0000 to 0777)" : NULL;
	}
	return "internal error";
}

static const struct config_key *
config_find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

static char *
config_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
config_read_file(postern_config *cfg, FILE *f, const char *path, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, rc = -1;

	while ((n = getline(&line, &cap, f)) >= 0) {
		char *p, *eq, *key, *val;
		const struct config_key *k;
		const char *why;
		char whybuf[CONFIG_ERR_MAX];

		lineno++;
		if (n > CONFIG_LINE_MAX) {
			snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, lineno,
			    CONFIG_LINE_MAX);
			goto out;
		}
		if (memchr(line, '\0', (size_t)n) != NULL) {
			snprintf(err, errlen, "%s:%d: NUL byte in line", path, lineno);
			goto out;
		}
		p = config_trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected \"key = value\"", path, lineno);
			goto out;
		}
		*eq = '\0';
		key = config_trim(p);
		val = config_trim(eq + 1);
		if (*key == '\0') {
			snprintf(err, errlen, "%s:%d: missing key before \"=\"", path, lineno);
			goto out;
		}
		for (p = key; *p; p++) {
			if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_') {
				snprintf(err, errlen, "%s:%d: invalid key \"%.64s\"", path, lineno, key);
				goto out;
			}
		}
		if ((k = config_find_key(key)) == NULL) {
			struct config_extra *x;
			if (strchr(key, '_') == NULL) {
				snprintf(err, errlen, "%s:%d: %.64s: unknown key", path, lineno, key);
				goto out;
			}
			/* Maybe a module's `<module>_<key>`: the loader decides. */
			cfg->extras = xrealloc(cfg->extras, (cfg->nextras + 1) * sizeof(*x));
			x = &cfg->extras[cfg->nextras++];
			x->key = xstrdup(key);
			x->value = xstrdup(val);
			x->file = xstrdup(path);
			x->line = lineno;
			x->claimed = 0;
			continue;
		}
		if ((why = config_set(cfg, k, val, whybuf, sizeof(whybuf))) != NULL) {
			if (why == whybuf)
				snprintf(err, errlen, "%s:%d: %s: %s", path, lineno, key, why);
			else if (k->type == CT_ENUM)
				snprintf(err, errlen, "%s:%d: %s: bad value \"%.64s\": %s %s",
				    path, lineno, key, val, why, k->choices);
			else
				snprintf(err, errlen, "%s:%d: %s: bad value \"%.64s\": %s",
				    path, lineno, key, val, why);
			goto out;
		}
		cfg->key_lines[k - config_keys] = lineno;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	rc = 0;
out:
	free(line);
	return rc;
}

/* Defaults, then the file's lines (f may be NULL), then derived values. */
static postern_config *
config_build(const char *path, FILE *f, char *err, size_t errlen)
{
	postern_config *cfg = xcalloc(1, sizeof(*cfg));
	char why[CONFIG_ERR_MAX];
	size_t i;

	cfg->key_lines = xcalloc(NKEYS, sizeof(*cfg->key_lines));
	for (i = 0; i < NKEYS; i++) {
		if (config_set(cfg, &config_keys[i], config_keys[i].def, why, sizeof(why)) != NULL) {
			snprintf(err, errlen, "built-in default of %s is invalid", config_keys[i].name);
			config_free(cfg);
			return NULL;
		}
	}
	cfg->path = xstrdup(path ? path : "");
	if (f != NULL && config_read_file(cfg, f, path, err, errlen) != 0) {
		config_free(cfg);
		return NULL;
	}
	if (cfg->smtpd_hostname[0] == '\0') {
		char host[256];
		if (gethostname(host, sizeof(host)) != 0)
			xstrlcpy(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		free(cfg->smtpd_hostname);
		cfg->smtpd_hostname = xstrdup(host);
	}
	if (cfg->relay_helo_name[0] == '\0') {
		free(cfg->relay_helo_name);
		cfg->relay_helo_name = xstrdup(cfg->smtpd_hostname);
	}
	/*
	 * metrics_listen (product.md) is the endpoint of the daemon that reads
	 * the file: it stands for each daemon's own key left empty. Daemons that
	 * share one file set their own keys, or they would want one port.
	 */
	if (cfg->metrics_listen[0] != '\0') {
		if (cfg->smtpd_metrics_listen[0] == '\0') {
			free(cfg->smtpd_metrics_listen);
			cfg->smtpd_metrics_listen = xstrdup(cfg->metrics_listen);
		}
		if (cfg->milter_metrics_listen[0] == '\0') {
			free(cfg->milter_metrics_listen);
			cfg->milter_metrics_listen = xstrdup(cfg->metrics_listen);
		}
		if (cfg->relay_metrics_listen[0] == '\0') {
			free(cfg->relay_metrics_listen);
			cfg->relay_metrics_listen = xstrdup(cfg->metrics_listen);
		}
	}
	if (cfg->relay_concurrency == 0) {
		snprintf(err, errlen, "%s: relay_concurrency must be at least 1",
		    path ? path : "defaults");
		config_free(cfg);
		return NULL;
	}
	if (cfg->relay_backoff_min == 0 || cfg->relay_backoff_max < cfg->relay_backoff_min) {
		snprintf(err, errlen, "%s: relay_backoff_min must be at least 1s and at most "
		    "relay_backoff_max", path ? path : "defaults");
		config_free(cfg);
		return NULL;
	}
	if (cfg->smtpd_require_tls < 0)
		cfg->smtpd_require_tls = cfg->smtpd_tls_cert_file[0] != '\0';
	if ((cfg->smtpd_tls_cert_file[0] == '\0') != (cfg->smtpd_tls_key_file[0] == '\0')) {
		snprintf(err, errlen, "%s: smtpd_tls_cert_file and smtpd_tls_key_file go together",
		    path ? path : "defaults");
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

postern_config *
config_load(const char *path, int missing_ok, char *err, size_t errlen)
{
	postern_config *cfg;
	FILE *f = NULL;

	if (path != NULL && (f = fopen(path, "r")) == NULL &&
	    !(missing_ok && errno == ENOENT)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	cfg = config_build(path, f, err, errlen);
	if (f != NULL)
		fclose(f);
	return cfg;
}

postern_config *
config_parse(const char *name, const char *data, size_t len, char *err, size_t errlen)
{
	postern_config *cfg;
	FILE *f;

	if (len == 0)
		return config_build(name, NULL, err, errlen);
	if ((f = fmemopen((void *)data, len, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return NULL;
	}
	cfg = config_build(name, f, err, errlen);
	fclose(f);
	return cfg;
}

void
config_free(postern_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		if (k->type == CT_STR || k->type == CT_ENUM || k->type == CT_LISTEN ||
		    k->type == CT_MILTER_LISTEN)
			free(*(char **)((char *)cfg + k->offset));
	}
	for (i = 0; i < cfg->nextras; i++) {
		free(cfg->extras[i].key);
		free(cfg->extras[i].value);
		free(cfg->extras[i].file);
	}
	free(cfg->extras);
	free(cfg->key_lines);
	free(cfg->path);
	free(cfg);
}

void
config_print(const postern_config *cfg, FILE *out)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		const void *field = (const char *)cfg + k->offset;

		fprintf(out, "%s = ", k->name);
		switch (k->type) {
		case CT_STR:
		case CT_ENUM:
		case CT_LISTEN:
		case CT_MILTER_LISTEN:
			fprintf(out, "%s\n", *(char *const *)field);
			break;
		case CT_BOOL:
		case CT_TRIBOOL:
			fprintf(out, "%s\n", *(const int *)field ? "yes" : "no");
			break;
		case CT_UINT:
		case CT_PERCENT:
			fprintf(out, "%u\n", *(const unsigned *)field);
			break;
		case CT_DURATION:
			fprintf(out, "%us\n", *(const unsigned *)field);
			break;
		case CT_SIZE:
			fprintf(out, "%llu\n", (unsigned long long)*(const uint64_t *)field);
			break;
		case CT_MODE:
			fprintf(out, "%04o\n", *(const unsigned *)field);
			break;
		}
	}
	for (i = 0; i < cfg->nextras; i++)
		fprintf(out, "%s = %s\n", cfg->extras[i].key, cfg->extras[i].value);
}

int
config_check_extras(const postern_config *cfg, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < cfg->nextras; i++) {
		if (!cfg->extras[i].claimed) {
			snprintf(err, errlen, "%s:%d: %.64s: unknown key", cfg->extras[i].file,
			    cfg->extras[i].line, cfg->extras[i].key);
			return -1;
		}
	}
	return 0;
}

struct config_claim_ctx {
	postern_config *cfg;
};

static int
config_claim_one(void *arg, const char *item)
{
	postern_config *cfg = ((struct config_claim_ctx *)arg)->cfg;
	const char *base = strrchr(item, '/');
	size_t n, i;

	base = base ? base + 1 : item;
	n = strlen(base);
	if (n > 3 && strcmp(base + n - 3, ".so") == 0)
		n -= 3;
	for (i = 0; i < cfg->nextras; i++)
		if (strncmp(cfg->extras[i].key, base, n) == 0 && cfg->extras[i].key[n] == '_')
			cfg->extras[i].claimed = 1;
	return 0;
}

void
config_claim_module_files(postern_config *cfg)
{
	struct config_claim_ctx c = { cfg };

	config_foreach_item(cfg->policy_modules, config_claim_one, &c);
}

void
config_where(const postern_config *cfg, const char *key, char *out, size_t outsize)
{
	const struct config_key *k = config_find_key(key);
	int line = k && cfg->key_lines ? cfg->key_lines[k - config_keys] : 0;
	const char *file = cfg->path && cfg->path[0] ? cfg->path : "defaults";

	if (line > 0)
		snprintf(out, outsize, "%s:%d: %s", file, line, key);
	else
		snprintf(out, outsize, "%s: %s", file, key);
}

int
config_foreach_item(const char *list, int (*fn)(void *ctx, const char *item), void *ctx)
{
	const char *p = list;
	char item[1024];

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		const char *s = p, *e = p + n;
		int rc;

		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e > s) {
			size_t len = (size_t)(e - s);
			if (len >= sizeof(item))
				len = sizeof(item) - 1;
			memcpy(item, s, len);
			item[len] = '\0';
			if ((rc = fn(ctx, item)) != 0)
				return rc;
		}
		p += n + (comma ? 1 : 0);
	}
	return 0;
}
