/*
 * engine_int.h - private structures of the policy engine (engine.c, module.c, msg.c, magic.c).
 *
 * Nothing here is visible to rules or modules: they see postern/policy.h only.
 *
 * Reloads without stopping the world: the loaded module list and a copy of
 * the configuration form a "generation". A session pins the current
 * generation at the start of each transaction, so a SIGHUP swaps in a new
 * generation while transactions in flight finish with the one they started
 * with; the old one is torn down when its last transaction ends.
 */
#ifndef POSTERN_ENGINE_INT_H
#define POSTERN_ENGINE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "mime.h"

#define ENGINE_NONE		SIZE_MAX	/* no module has decided */
#define ENGINE_MAGIC_BYTES	8192	/* first decoded bytes of a part given to libmagic */
#define ENGINE_TYPE_MAX		128	/* detected MIME type */
#define ENGINE_MAX_MACROS	64
#define ENGINE_MACRO_MAX	1024	/* bytes of one macro value kept */
#define ENGINE_MAX_RCPTS	10000	/* recipients kept for postern_msg_rcpt() */
#define ENGINE_MAX_ADDED	32	/* postern_msg_add_header() per message */
#define ENGINE_ADDED_NAME_MAX	128
#define ENGINE_ADDED_VALUE_MAX	2048
#define ENGINE_MODULE_NAME_MAX	32

struct engine_kv {
	char *key;
	char *value;
};

/* The configuration as modules may read it; shared by generations and modules, refcounted. */
struct engine_snap {
	unsigned refs;
	struct engine_kv *settings;	/* core keys, `-n` text form */
	size_t nsettings;
	struct engine_kv *extras;	/* "<module>_<key>" lines */
	size_t nextras;
};

struct postern_module {
	unsigned refs;			/* generations listing it */
	const postern_policy *pol;
	char *path;			/* shared object, "" for a built-in rule */
	void *dl;			/* dlopen handle, NULL for a built-in rule */
	struct engine_snap *snap;	/* configuration of the last init/reload */
	void *data;
	int inited;			/* init succeeded: teardown is due */
	char err[512];			/* postern_module_error() */
};

struct engine_gen {
	unsigned refs;			/* the engine while current, plus pinned sessions */
	struct engine_snap *snap;
	postern_module **mods;		/* built-ins in the documented order, then policy_modules */
	size_t nmods;
	size_t first_body;		/* first module with POSTERN_POLICY_WANTS_BODY, nmods if none */
	mime_limits lim;
};

/* magic.c: a bounded pool of libmagic handles, shared by every session of an engine. */
typedef struct engine_magic engine_magic;

struct policy_engine {
	pthread_mutex_t reload_lock;	/* one reload at a time */
	struct engine_gen *cur;		/* read and swapped under the module.c ref lock */
	engine_magic *magic;
};

struct postern_msg {
	policy_engine *e;
	struct engine_gen *gen;		/* pinned */
	size_t cur;			/* index of the module being called, ENGINE_NONE outside callbacks */
	void **data;			/* per module of gen */

	/* Connection. */
	char *client_name;
	char *client_addr;
	char *helo;
	struct engine_kv macros[ENGINE_MAX_MACROS];
	size_t nmacros;
	size_t conn_decided;		/* a connect/helo decision carries into every transaction */
	engine_result conn_result;
	/* While replaying connect/HELO after a SIGHUP: the modules of this generation already saw them. */
	const struct engine_gen *replay_skip;

	/* Transaction. */
	int in_tx;
	char *sender;
	char **rcpts;
	size_t nrcpts;
	size_t decided;			/* lowest module index that decided, or ENGINE_NONE */
	engine_result result;

	/* Reply set by the callback being run (postern_msg_reply). */
	int has_reply;
	char reply_code[4];
	char reply_xcode[16];
	char reply_text[512];

	/* Content. */
	int eoh_done;
	int body_skipped;		/* engine_body() said no byte matters any more */
	mime_scanner *scan;		/* NULL until the first header when a module wants the body */
	const char *mime_err;		/* static string from mime_error_str(), valid after eom */
	postern_part part;		/* the part passed to part callbacks */
	/*
	 * Who reads detected_type in the pinned generation (engine_magic_plan):
	 * libmagic runs only for parts whose type could change a verdict.
	 */
	size_t magic_reader;		/* lowest index that may read it, ENGINE_NONE: nobody */
	int magic_all;			/* every leaf part: custom body module, or wider reject list */
	int magic_exec;			/* parts the pre-sniff flags (reject list or mismatch check on) */
	int magic_named;		/* mismatch check on: parts with a file name or a non-text type */
	unsigned char magic_buf[ENGINE_MAGIC_BYTES];
	size_t magic_len;
	char detected[ENGINE_TYPE_MAX];

	/* Headers to add if accepted; kept until the next transaction. */
	const char *added_names[ENGINE_MAX_ADDED];
	const char *added_values[ENGINE_MAX_ADDED];
	size_t nadded;
	int added_valid;		/* the last transaction was accepted */
};

struct engine_session {
	postern_msg msg;
};

/* module.c: generations and the loader. */
struct engine_gen *engine_gen_build(postern_config *cfg, struct engine_gen *old,
    char *err, size_t errlen);
struct engine_gen *engine_gen_acquire(policy_engine *e);
void engine_gen_release(struct engine_gen *g);
/* Make g current (the engine takes over the caller's reference); returns the previous one, to release. */
struct engine_gen *engine_gen_swap(policy_engine *e, struct engine_gen *g);

/* msg.c: macro table. */
const char *engine_macro_get(const postern_msg *m, const char *name);
void engine_macros_free(postern_msg *m);
void engine_added_free(postern_msg *m);

/* magic.c: libmagic handles checked out one detection at a time, and the pre-sniff. */
struct engine_magic_stats {
	size_t open;			/* handles in existence */
	size_t max;			/* the pool's bound */
	size_t peak_out;		/* most handles checked out at once */
	size_t waits;			/* checkouts that waited for a handle */
	size_t detections;		/* libmagic runs */
	int shared_db;			/* one mapped database for all handles */
};
engine_magic *engine_magic_new(size_t max, char *err, size_t errlen);
void engine_magic_free(engine_magic *pool);
int engine_magic_detect(engine_magic *pool, const unsigned char *buf, size_t len,
    char *out, size_t outsize, char *err, size_t errlen);
void engine_magic_stats(engine_magic *pool, struct engine_magic_stats *st);
int engine_magic_sniff(const unsigned char *buf, size_t len);
int engine_magic_type_is_exec(const char *type);

#endif
