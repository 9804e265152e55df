/* spool_edit.h - the milters' edits applied to a spooled message: a new spool file with them. */
#ifndef POSTERN_SPOOL_EDIT_H
#define POSTERN_SPOOL_EDIT_H

#include <stdint.h>

#include "spool.h"

struct mc_mods;

/*
 * Copy the message of in (streamed, not yet committed) into a new spool
 * file of sp, with env's envelope and the edits of m applied: header
 * fields added, inserted, changed or deleted, the sender changed,
 * recipients added or removed, a quarantine reason recorded, the body
 * replaced. log_tag ("sess=... id=...") starts the log lines. 0: *out is
 * the new file (in is untouched, the caller aborts it) and *size its
 * message size; -1: nothing changed (logged).
 */
int spool_edit_apply(spool *sp, spool_file *in, const struct spool_envelope *env,
    const struct mc_mods *m, const char *log_tag, spool_file **out, uint64_t *size);

#endif
