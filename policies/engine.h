/*
 * engine.h - the policy engine: runs the built-in rules and loaded modules over one transaction.
 *
 * Used by postern-milter (libmilter callbacks) and postern-check (offline
 * .eml files) alike, so both give the same verdict for the same input.
 * The engine owns the MIME scanner and the libmagic detection; rules only
 * see postern/policy.h.
 */
#ifndef POSTERN_ENGINE_H
#define POSTERN_ENGINE_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "postern/policy.h"

typedef struct policy_engine policy_engine;

/* Final answer for a stage. */
typedef struct engine_result {
	postern_verdict verdict;	/* CONTINUE means: go on / accept at EOM */
	char code[4];			/* "554"; empty for CONTINUE, ACCEPT, DISCARD */
	char xcode[16];			/* "5.6.0" */
	char text[512];			/* reply text, ASCII, '%' not yet escaped */
	const char *rule;		/* name of the deciding module, for the log */
} engine_result;

/*
 * Build the engine from cfg: built-in rules in the documented order, then
 * the modules of policy_modules (dlopen). Marks the config extras each
 * module accepts. NULL with a reason in err (naming the module file) on failure.
 */
policy_engine *engine_new(postern_config *cfg, char *err, size_t errlen);
/* SIGHUP: swap in a new config and accounts; modules get reload(). 0 ok, -1 with err. */
int engine_reload(policy_engine *e, postern_config *cfg, char *err, size_t errlen);
void engine_free(policy_engine *e);

/* Whether any module wants decoded body parts (else the milter may skip the body). */
int engine_wants_body(const policy_engine *e);
/* One line per module in order: "name: description", plus " (FILE)" for a loaded one (postern-check -v). */
void engine_print_modules(policy_engine *e, FILE *out);

/*
 * One SMTP connection's policy state (a postern_msg lives inside it).
 * Not thread-safe: one per connection/thread. The engine must outlive it.
 */
typedef struct engine_session engine_session;

engine_session *engine_session_new(policy_engine *e);
void engine_session_free(engine_session *s);

/* Macros as the MTA sent them ("{auth_authen}", "j", "i", ...); a NULL value clears it. */
void engine_set_macro(engine_session *s, const char *name, const char *value);

/* Stages, in protocol order. Each returns the verdict of that stage in *r. */
void engine_connect(engine_session *s, const char *client_name, const char *client_addr, engine_result *r);
void engine_helo(engine_session *s, const char *helo, engine_result *r);
/* sender without angle brackets; "" for <>. Starts a new transaction. */
void engine_mail(engine_session *s, const char *sender, engine_result *r);
void engine_rcpt(engine_session *s, const char *rcpt, engine_result *r);
void engine_header(engine_session *s, const char *name, const char *value, engine_result *r);
void engine_eoh(engine_session *s, engine_result *r);
/*
 * Body bytes (CRLF line ends, as after DATA); returns non-zero when no
 * further body bytes can change the verdict (the milter may answer SKIP).
 */
int engine_body(engine_session *s, const char *data, size_t len, engine_result *r);
/* End of message: the final verdict, first failing rule in the documented order. */
void engine_eom(engine_session *s, engine_result *r);
/* Headers that accepted messages get (from postern_msg_add_header); valid until the next transaction. */
size_t engine_added_headers(engine_session *s, const char *const **names, const char *const **values);
/* Transaction aborted (RSET, MAIL after EOM, connection gone): call modules' msg_end. */
void engine_abort(engine_session *s);

#endif
