/*
 * module.c - the module loader (dlopen) and engine generations; the postern_module_* API.
 *
 * A generation is the ordered module list plus a configuration snapshot.
 * engine_new builds the first one; engine_reload builds the next from a new
 * config, sharing the module objects of custom modules that have a reload()
 * callback (they are reloaded in place, as policy.h promises) and making new
 * ones for the rest (init now, teardown when the old generation drains).
 */
#include "engine_int.h"
#include "log.h"
#include "rules.h"
#include "xalloc.h"

#include <ctype.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Guards every refcount here and policy_engine.cur; never held while module code runs. */
static pthread_mutex_t module_ref_lock = PTHREAD_MUTEX_INITIALIZER;

/* --- Configuration snapshots ------------------------------------------- */

/*
 * snap_new - copy what modules may read from cfg. The core keys are taken
 * from config_print() so they read exactly like `-n` output and the engine
 * needs no knowledge of postern_config's layout.
 */
static struct engine_snap *
snap_new(const postern_config *cfg)
{
	struct engine_snap *sn = xcalloc(1, sizeof(*sn));
	char *text = NULL, *line, *save = NULL;
	size_t len = 0, cap = 0, i;
	FILE *f;

	sn->refs = 1;
	if ((f = open_memstream(&text, &len)) == NULL)
		log_fatal("open_memstream");
	config_print(cfg, f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strstr(line, " = ");
		if (eq == NULL)
			continue;
		if (sn->nsettings == cap) {
			cap = cap ? cap * 2 : 64;
			sn->settings = xrealloc(sn->settings, cap * sizeof(*sn->settings));
		}
		sn->settings[sn->nsettings].key = xstrndup(line, (size_t)(eq - line));
		sn->settings[sn->nsettings].value = xstrdup(eq + 3);
		sn->nsettings++;
	}
	free(text);
	/* config_print ends with the extras: drop them, settings hold core keys only. */
	for (i = 0; i < cfg->nextras && sn->nsettings > 0; i++) {
		sn->nsettings--;
		free(sn->settings[sn->nsettings].key);
		free(sn->settings[sn->nsettings].value);
	}
	if (cfg->nextras > 0) {
		sn->extras = xcalloc(cfg->nextras, sizeof(*sn->extras));
		for (i = 0; i < cfg->nextras; i++) {
			sn->extras[i].key = xstrdup(cfg->extras[i].key);
			sn->extras[i].value = xstrdup(cfg->extras[i].value);
		}
		sn->nextras = cfg->nextras;
	}
	return sn;
}

static void
snap_ref(struct engine_snap *sn)
{
	pthread_mutex_lock(&module_ref_lock);
	sn->refs++;
	pthread_mutex_unlock(&module_ref_lock);
}

static void
snap_unref(struct engine_snap *sn)
{
	size_t i;
	int last;

	if (sn == NULL)
		return;
	pthread_mutex_lock(&module_ref_lock);
	last = --sn->refs == 0;
	pthread_mutex_unlock(&module_ref_lock);
	if (!last)
		return;
	for (i = 0; i < sn->nsettings; i++) {
		free(sn->settings[i].key);
		free(sn->settings[i].value);
	}
	for (i = 0; i < sn->nextras; i++) {
		free(sn->extras[i].key);
		free(sn->extras[i].value);
	}
	free(sn->settings);
	free(sn->extras);
	free(sn);
}

/* --- Module objects ----------------------------------------------------- */

static postern_module *
module_new(const postern_policy *pol, const char *path, void *dl)
{
	postern_module *mod = xcalloc(1, sizeof(*mod));

	mod->refs = 1;
	mod->pol = pol;
	mod->path = xstrdup(path);
	mod->dl = dl;
	return mod;
}

/* Drop one reference; the last one tears the module down and unloads it. */
static void
module_unref(postern_module *mod)
{
	int last;

	pthread_mutex_lock(&module_ref_lock);
	last = --mod->refs == 0;
	pthread_mutex_unlock(&module_ref_lock);
	if (!last)
		return;
	if (mod->inited && mod->pol->teardown)
		mod->pol->teardown(mod);
	if (mod->dl)
		dlclose(mod->dl);
	snap_unref(mod->snap);
	free(mod->path);
	free(mod);
}

/* How errors name a module: its file, or "rule NAME" for a built-in. */
static void
module_label(const postern_module *mod, char *out, size_t outsize)
{
	if (mod->dl)
		snprintf(out, outsize, "module %s", mod->path);
	else
		snprintf(out, outsize, "rule %s", mod->pol->name);
}

/* [a-z][a-z0-9]*: the name is the config key prefix, so no '_' (keeps "<name>_<key>" unambiguous). */
static int
module_name_ok(const char *name)
{
	size_t i;

	if (name == NULL || !islower((unsigned char)name[0]))
		return 0;
	for (i = 0; name[i]; i++)
		if (i >= ENGINE_MODULE_NAME_MAX ||
		    !(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i])))
			return 0;
	return 1;
}

/* dlopen a module file and check its descriptor; NULL with a reason naming the file. */
static postern_module *
module_load(const char *path, char *err, size_t errlen)
{
	const postern_policy *pol;
	void *dl;

	if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		const char *why = dlerror();
		snprintf(err, errlen, "module %s: cannot open: %s", path, why ? why : "unknown error");
		return NULL;
	}
	dlerror();
	if ((pol = dlsym(dl, POSTERN_POLICY_SYMBOL)) == NULL) {
		snprintf(err, errlen, "module %s: missing symbol %s", path, POSTERN_POLICY_SYMBOL);
		dlclose(dl);
		return NULL;
	}
	if (pol->abi_version != POSTERN_POLICY_ABI_VERSION) {
		snprintf(err, errlen, "module %s: ABI mismatch (expected %d, module has %u)",
		    path, POSTERN_POLICY_ABI_VERSION, pol->abi_version);
		dlclose(dl);
		return NULL;
	}
	if (!module_name_ok(pol->name)) {
		snprintf(err, errlen, "module %s: bad name \"%.40s\" (want [a-z][a-z0-9]*, "
		    "at most %d characters)", path, pol->name ? pol->name : "", ENGINE_MODULE_NAME_MAX);
		dlclose(dl);
		return NULL;
	}
	log_info("policy module %s loaded from %s", pol->name, path);
	return module_new(pol, path, dl);
}

/* Mark the extras "<name>_<key>" whose key the module lists in config_keys. */
static void
module_claim_extras(const postern_module *mod, postern_config *cfg)
{
	const char *name = mod->pol->name;
	size_t nlen = strlen(name), i, k;

	if (mod->pol->config_keys == NULL)
		return;
	for (i = 0; i < cfg->nextras; i++) {
		const char *key = cfg->extras[i].key;
		if (strncmp(key, name, nlen) != 0 || key[nlen] != '_')
			continue;
		for (k = 0; mod->pol->config_keys[k]; k++)
			if (strcmp(mod->pol->config_keys[k], key + nlen + 1) == 0)
				cfg->extras[i].claimed = 1;
	}
}

/* --- Generations -------------------------------------------------------- */

struct gen_build {
	struct engine_gen *g;
	struct engine_gen *old;
	unsigned char *reuse;		/* per module: shared with old, reload() due */
	char *err;
	size_t errlen;
};

static void
gen_add(struct gen_build *b, postern_module *mod, int reuse)
{
	struct engine_gen *g = b->g;

	g->mods = xrealloc(g->mods, (g->nmods + 1) * sizeof(*g->mods));
	b->reuse = xrealloc(b->reuse, g->nmods + 1);
	g->mods[g->nmods] = mod;
	b->reuse[g->nmods] = (unsigned char)reuse;
	g->nmods++;
}

/* config_foreach_item callback: one entry of policy_modules. */
static int
gen_load_one(void *ctx, const char *path)
{
	struct gen_build *b = ctx;
	postern_module *mod = NULL;
	size_t i;

	for (i = 0; b->old && i < b->old->nmods; i++) {
		postern_module *om = b->old->mods[i];
		if (om->dl && strcmp(om->path, path) == 0 && om->pol->reload) {
			pthread_mutex_lock(&module_ref_lock);
			om->refs++;
			pthread_mutex_unlock(&module_ref_lock);
			mod = om;
			break;
		}
	}
	if (mod == NULL && (mod = module_load(path, b->err, b->errlen)) == NULL)
		return -1;
	for (i = 0; i < b->g->nmods; i++) {
		if (strcmp(b->g->mods[i]->pol->name, mod->pol->name) == 0) {
			char label[300];
			module_label(b->g->mods[i], label, sizeof(label));
			snprintf(b->err, b->errlen, "module %s: name \"%s\" already used by %s",
			    path, mod->pol->name, label);
			module_unref(mod);
			return -1;
		}
	}
	/* Only a module shared with old is already initialised: it gets reload(). */
	gen_add(b, mod, mod->inited);
	return 0;
}

static void
gen_free(struct engine_gen *g)
{
	size_t i;

	for (i = g->nmods; i > 0; i--)
		module_unref(g->mods[i - 1]);
	free(g->mods);
	snap_unref(g->snap);
	free(g);
}

/* Run init for the new modules, then reload() for the shared ones. */
static int
gen_start(struct gen_build *b)
{
	struct engine_gen *g = b->g;
	char label[300];
	size_t i;

	for (i = 0; i < g->nmods; i++) {
		postern_module *mod = g->mods[i];
		if (b->reuse[i])
			continue;
		snap_ref(g->snap);
		mod->snap = g->snap;
		mod->err[0] = '\0';
		if (mod->pol->init && mod->pol->init(mod) != 0) {
			module_label(mod, label, sizeof(label));
			snprintf(b->err, b->errlen, "%s: init failed: %s", label,
			    mod->err[0] ? mod->err : "no reason given");
			return -1;
		}
		mod->inited = 1;
	}
	/* In place, last: a reload cannot be undone if a later module failed. */
	for (i = 0; i < g->nmods; i++) {
		postern_module *mod = g->mods[i];
		struct engine_snap *prev = mod->snap;
		if (!b->reuse[i])
			continue;
		snap_ref(g->snap);
		mod->snap = g->snap;
		mod->err[0] = '\0';
		if (mod->pol->reload(mod) != 0) {
			mod->snap = prev;
			snap_unref(g->snap);
			module_label(mod, label, sizeof(label));
			snprintf(b->err, b->errlen, "%s: reload failed: %s", label,
			    mod->err[0] ? mod->err : "no reason given");
			return -1;
		}
		snap_unref(prev);
	}
	return 0;
}

/*
 * engine_gen_build - built-in rules plus the modules of cfg->policy_modules,
 * their config extras claimed and checked, all initialised (or reloaded when
 * shared with old). NULL with a reason in err.
 */
struct engine_gen *
engine_gen_build(postern_config *cfg, struct engine_gen *old, char *err, size_t errlen)
{
	static const postern_policy *const builtin[] = {
#define RULES_ADDRESS(n)	&rule_##n,
		RULES_BUILTIN(RULES_ADDRESS)
#undef RULES_ADDRESS
	};
	struct gen_build b = { .old = old, .err = err, .errlen = errlen };
	struct engine_gen *g = xcalloc(1, sizeof(*g));
	size_t i;

	g->refs = 1;
	g->snap = snap_new(cfg);
	g->lim.max_depth = cfg->policy_max_mime_depth;
	g->lim.max_parts = cfg->policy_max_mime_parts;
	g->lim.max_header = MIME_DEFAULT_MAX_HEADER;
	g->lim.max_headers = MIME_DEFAULT_MAX_HEADERS;
	b.g = g;
	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		gen_add(&b, module_new(builtin[i], "", NULL), 0);
	if (config_foreach_item(cfg->policy_modules, gen_load_one, &b) != 0)
		goto fail;
	for (i = 0; i < g->nmods; i++)
		module_claim_extras(g->mods[i], cfg);
	if (config_check_extras(cfg, err, errlen) != 0)
		goto fail;
	g->first_body = g->nmods;
	for (i = g->nmods; i > 0; i--)
		if (g->mods[i - 1]->pol->flags & POSTERN_POLICY_WANTS_BODY)
			g->first_body = i - 1;
	if (gen_start(&b) != 0)
		goto fail;
	free(b.reuse);
	return g;
fail:
	free(b.reuse);
	gen_free(g);
	return NULL;
}

/* The current generation, with a reference for the caller. */
struct engine_gen *
engine_gen_acquire(policy_engine *e)
{
	struct engine_gen *g;

	pthread_mutex_lock(&module_ref_lock);
	g = e->cur;
	g->refs++;
	pthread_mutex_unlock(&module_ref_lock);
	return g;
}

void
engine_gen_release(struct engine_gen *g)
{
	int last;

	if (g == NULL)
		return;
	pthread_mutex_lock(&module_ref_lock);
	last = --g->refs == 0;
	pthread_mutex_unlock(&module_ref_lock);
	if (last)
		gen_free(g);
}

struct engine_gen *
engine_gen_swap(policy_engine *e, struct engine_gen *g)
{
	struct engine_gen *prev;

	pthread_mutex_lock(&module_ref_lock);
	prev = e->cur;
	e->cur = g;
	pthread_mutex_unlock(&module_ref_lock);
	return prev;
}

/* --- postern_module_* (policy.h) ---------------------------------------- */

const char *
postern_module_config(const postern_module *mod, const char *key)
{
	const struct engine_snap *sn = mod->snap;
	size_t nlen = strlen(mod->pol->name), i;

	if (sn == NULL || key == NULL)
		return NULL;
	for (i = 0; i < sn->nextras; i++) {
		const char *k = sn->extras[i].key;
		if (strncmp(k, mod->pol->name, nlen) == 0 && k[nlen] == '_' &&
		    strcmp(k + nlen + 1, key) == 0)
			return sn->extras[i].value;
	}
	return NULL;
}

const char *
postern_module_setting(const postern_module *mod, const char *key)
{
	const struct engine_snap *sn = mod->snap;
	size_t i;

	if (sn == NULL || key == NULL)
		return NULL;
	for (i = 0; i < sn->nsettings; i++)
		if (strcmp(sn->settings[i].key, key) == 0)
			return sn->settings[i].value;
	return NULL;
}

void *
postern_module_data(const postern_module *mod)
{
	return mod->data;
}

void
postern_module_set_data(postern_module *mod, void *data)
{
	mod->data = data;
}

void
postern_module_error(postern_module *mod, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(mod->err, sizeof(mod->err), fmt, ap);
	va_end(ap);
}
