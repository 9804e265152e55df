/*
 * milter_int.h - what the callbacks (milter.c) and the verdict replies
 * (verdict.c) of postern-milter share; not for main.c.
 */
#ifndef POSTERN_MILTER_INT_H
#define POSTERN_MILTER_INT_H

#include "milter.h"
#include "reply.h"

#include <libmilter/mfapi.h>

/*
 * Per SMTP session, in smfi_setpriv(): created at xxfi_connect, freed (and
 * the pointer set back to NULL) at xxfi_close. One MTA connection may carry
 * several sessions: after SMFIC_QUIT_NC libmilter calls xxfi_close, clears
 * its macros, keeps the socket and goes on with the next SMFIC_CONNECT,
 * without a new negotiation; a final SMFIC_QUIT or EOF calls xxfi_close
 * (again, after QUIT_NC and EOF) and libmilter frees the context, so nothing
 * may stay in smfi_setpriv() after any xxfi_close.
 */
struct pm_conn {
	engine_session *s;		/* NULL: could not be created, tempfail at the next reply */
	int in_tx;			/* between MAIL and EOM/abort */
	int connected;			/* xxfi_connect came (else MAIL runs the connect stage) */
	int body_done;			/* engine_body() said nothing can change any more */
	unsigned long seq;
	char *sender;			/* for the verdict log line, without <> */
	/*
	 * A verdict of a no-reply step of this message (SMFIP_NR_*), kept for
	 * its EOM. Connect and HELO verdicts need no such care: the engine
	 * carries them into every engine_mail() of the connection.
	 */
	engine_result msg_pending;
	/*
	 * Every live session is on pm_live: a SIGTERM that drops idle
	 * sessions exits with them still reachable (owned, not leaked).
	 */
	struct pm_conn *live_prev, *live_next;
};

/* A verdict with its reply from the reply table (lib/reply.c). */
void pm_result_row(engine_result *r, postern_verdict v, enum reply_id id, const char *rule);
/* The milter itself failed: 451 4.3.0, never a pass by accident. */
void pm_internal_error(engine_result *r, const char *why);
/*
 * Set the SMTP reply of a verdict and return the callback's value; logs
 * the verdict (every one at end of message, refusals everywhere).
 */
sfsistat pm_apply(SMFICTX *ctx, struct pm_conn *c, const char *stage, engine_result *r, int final);
/* Keep the first non-CONTINUE verdict of a no-reply step for its end of message. */
void pm_defer(engine_result *pending, const engine_result *r);

#endif
