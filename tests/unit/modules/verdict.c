/*
 * verdict.c - test module: returns a configured verdict at a configured stage.
 *
 * Keys: <name>_stage (connect helo mail rcpt header eoh part_begin part_data
 * part_end eom), <name>_verdict (continue accept reject tempfail discard),
 * <name>_code/_xcode/_text (reply; none = engine default). At eom it adds a
 * header "X-<name>" describing what it saw, so tests observe that it ran.
 * Per-message data is allocated at MAIL and freed in msg_end (leak checks).
 * reload() changes the settings in place while other threads run messages,
 * so every access to them takes verdict_lock (policy.h: "or lock").
 */
#include <postern/policy.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MODNAME
#define MODNAME "verdict"
#endif

struct verdict_conf {
	char stage[32];
	int verdict;
	const char *code, *xcode, *text;	/* copied below */
	char codebuf[8], xcodebuf[16], textbuf[256];
	int reloads;
};

struct verdict_msg {
	unsigned parts;
	unsigned long long bytes;
	char types[256];		/* detected types of leaf parts */
};

static pthread_mutex_t verdict_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const verdict_keys[] = { "stage", "verdict", "code", "xcode", "text", NULL };

static int
verdict_read(postern_module *mod, struct verdict_conf *c)
{
	static const char *const names[] = { "continue", "accept", "reject", "tempfail", "discard" };
	const char *v;
	int i;

	memset(c->stage, 0, sizeof(c->stage));
	snprintf(c->stage, sizeof(c->stage), "%s",
	    (v = postern_module_config(mod, "stage")) ? v : "none");
	c->verdict = -1;
	v = postern_module_config(mod, "verdict");
	for (i = 0; i < 5; i++)
		if (strcmp(v ? v : "continue", names[i]) == 0)
			c->verdict = i;
	if (c->verdict < 0) {
		postern_module_error(mod, "bad " MODNAME "_verdict \"%s\"", v);
		return -1;
	}
	c->code = c->xcode = c->text = NULL;
	if ((v = postern_module_config(mod, "code")) != NULL)
		c->code = strncpy(c->codebuf, v, sizeof(c->codebuf) - 1);
	if ((v = postern_module_config(mod, "xcode")) != NULL)
		c->xcode = strncpy(c->xcodebuf, v, sizeof(c->xcodebuf) - 1);
	if ((v = postern_module_config(mod, "text")) != NULL)
		c->text = strncpy(c->textbuf, v, sizeof(c->textbuf) - 1);
	return 0;
}

static int
verdict_init(postern_module *mod)
{
	struct verdict_conf *c = calloc(1, sizeof(*c));

	if (c == NULL || verdict_read(mod, c) != 0) {
		free(c);
		return -1;
	}
	postern_module_set_data(mod, c);
	return 0;
}

#ifndef NO_RELOAD
static int
verdict_reload(postern_module *mod)
{
	struct verdict_conf *c = postern_module_data(mod), n;

	pthread_mutex_lock(&verdict_lock);
	n = *c;
	pthread_mutex_unlock(&verdict_lock);
	if (verdict_read(mod, &n) != 0)
		return -1;
	pthread_mutex_lock(&verdict_lock);
	n.reloads = c->reloads + 1;
	*c = n;
	if (n.code)
		c->code = c->codebuf;
	if (n.xcode)
		c->xcode = c->xcodebuf;
	if (n.text)
		c->text = c->textbuf;
	pthread_mutex_unlock(&verdict_lock);
	return 0;
}
#endif

static void
verdict_teardown(postern_module *mod)
{
	free(postern_module_data(mod));
}

static int
verdict_at(postern_msg *m, const char *stage)
{
	const struct verdict_conf *c = postern_module_data(postern_msg_module(m));
	int v = POSTERN_CONTINUE;

	pthread_mutex_lock(&verdict_lock);
	if (strcmp(c->stage, stage) == 0) {
		v = c->verdict;
		if (c->code && postern_msg_reply(m, c->code, c->xcode ? c->xcode : "", c->text) != 0)
			postern_msg_log(m, "bad reply %s %s", c->code, c->xcode ? c->xcode : "");
	}
	pthread_mutex_unlock(&verdict_lock);
	return v;
}

static int verdict_connect(postern_msg *m) { return verdict_at(m, "connect"); }
static int verdict_helo(postern_msg *m, const char *h) { (void)h; return verdict_at(m, "helo"); }
static int verdict_rcpt(postern_msg *m, const char *r) { (void)r; return verdict_at(m, "rcpt"); }
static int verdict_eoh(postern_msg *m) { return verdict_at(m, "eoh"); }

static int
verdict_mail(postern_msg *m, const char *sender)
{
	(void)sender;
	if (postern_msg_data(m) == NULL)
		postern_msg_set_data(m, calloc(1, sizeof(struct verdict_msg)));
	return verdict_at(m, "mail");
}

static int
verdict_header(postern_msg *m, const char *name, const char *value)
{
	(void)name;
	(void)value;
	return verdict_at(m, "header");
}

static int
verdict_part_begin(postern_msg *m, const postern_part *p)
{
	struct verdict_msg *d = postern_msg_data(m);

	(void)p;
	if (d)
		d->parts++;
	return verdict_at(m, "part_begin");
}

static int
verdict_part_data(postern_msg *m, const postern_part *p, const unsigned char *data, size_t len)
{
	struct verdict_msg *d = postern_msg_data(m);

	(void)p;
	(void)data;
	if (d)
		d->bytes += len;
	return verdict_at(m, "part_data");
}

static int
verdict_part_end(postern_msg *m, const postern_part *p)
{
	struct verdict_msg *d = postern_msg_data(m);

	if (d && p->detected_type[0] && strlen(d->types) + strlen(p->detected_type) + 2 < sizeof(d->types)) {
		if (d->types[0])
			strcat(d->types, ",");
		strcat(d->types, p->detected_type);
	}
	return verdict_at(m, "part_end");
}

static int
verdict_eom(postern_msg *m)
{
	const struct verdict_conf *c = postern_module_data(postern_msg_module(m));
	const struct verdict_msg *d = postern_msg_data(m);
	const char *acct = postern_msg_account(m);
	char v[768];
	int reloads;

	pthread_mutex_lock(&verdict_lock);
	reloads = c->reloads;
	pthread_mutex_unlock(&verdict_lock);
	snprintf(v, sizeof(v), "sender=%s rcpts=%zu first=%s account=%s helo=%s client=%s "
	    "reloads=%d parts=%u bytes=%llu types=%s", postern_msg_sender(m),
	    postern_msg_rcpt_count(m), postern_msg_rcpt_count(m) ? postern_msg_rcpt(m, 0) : "-",
	    acct ? acct : "-", postern_msg_helo(m), postern_msg_client_addr(m), reloads,
	    d ? d->parts : 0, d ? d->bytes : 0, d ? d->types : "");
	postern_msg_add_header(m, "X-" MODNAME, v);
	return verdict_at(m, "eom");
}

static void
verdict_msg_end(postern_msg *m)
{
	free(postern_msg_data(m));
	postern_msg_set_data(m, NULL);
}

const postern_policy postern_policy_module = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = MODNAME,
	.description = "test module: a configured verdict at a configured stage",
	.config_keys = verdict_keys,
	.flags = POSTERN_POLICY_WANTS_BODY,
	.init = verdict_init,
#ifndef NO_RELOAD
	.reload = verdict_reload,
#endif
	.teardown = verdict_teardown,
	.connect = verdict_connect,
	.helo = verdict_helo,
	.mail = verdict_mail,
	.rcpt = verdict_rcpt,
	.header = verdict_header,
	.eoh = verdict_eoh,
	.part_begin = verdict_part_begin,
	.part_data = verdict_part_data,
	.part_end = verdict_part_end,
	.eom = verdict_eom,
	.msg_end = verdict_msg_end,
};
