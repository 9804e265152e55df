/* commands_int.h - what commands.c, commands_mail.c and commands_auth.c share; not for the session layer. */
#ifndef POSTERN_COMMANDS_INT_H
#define POSTERN_COMMANDS_INT_H

#include "commands.h"

/* Wipe and free AUTH credentials and the LOGIN user name. */
void cmd_wipe_creds(struct cmd_session *s);
char *cmd_skip_space(char *p);
void cmd_rtrim(char *p);

/* Drop the transaction's envelope (sender, recipients, parameters). */
void cmd_tx_clear(struct cmd_session *s);
/* Reply id with the first len bytes of arg as its argument. */
void cmd_reply_n(struct cmd_result *r, int id, const char *arg, size_t len);

/* The transaction's handlers (table entries, commands_mail.c). */
void cmd_mail(struct cmd_session *s, char *args, struct cmd_result *r);
void cmd_rcpt(struct cmd_session *s, char *args, struct cmd_result *r);
void cmd_data(struct cmd_session *s, char *args, struct cmd_result *r);
void cmd_bdat(struct cmd_session *s, char *args, struct cmd_result *r);

/* AUTH handler (table entry), a line of an AUTH exchange, and the failure path back to idle. */
void cmd_auth(struct cmd_session *s, char *args, struct cmd_result *r);
void cmd_auth_step(struct cmd_session *s, char *line, struct cmd_result *r);
void cmd_auth_fail(struct cmd_session *s, int id, struct cmd_result *r);

#endif
