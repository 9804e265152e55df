/* engine_harness.h - shared fixtures of the engine tests: temp configs, one transaction end to end. */
#ifndef POSTERN_ENGINE_HARNESS_H
#define POSTERN_ENGINE_HARNESS_H

#include <stddef.h>

#include "config.h"
#include "engine.h"

#define MOD(n)	TEST_MODULE_DIR "/" n ".so"

#define HDRS	"From: Alice <alice@example.com>\nTo: bob@example.net\nSubject: Hello\n"
#define CLEAN	HDRS "\nHi Bob,\nsee you.\n"
#define MP(parts) "From: alice@example.com\nTo: bob@example.net\nSubject: Parts\n" \
	"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n" \
	"--b1\nContent-Type: text/plain\n\nBody text.\n" parts "--b1--\n"

extern char harness_tmpdir[64];
extern unsigned harness_nfiles;

/* A file under the temp dir (name prefixed with a counter); caller frees the path. */
char *write_file(const char *name, const char *text);
/* Engine from config text; NULL with the reason in err. engine_ok fails the test instead. */
policy_engine *engine_from(const char *conf, char *err, size_t errlen);
policy_engine *engine_ok(const char *conf);
/* "accept", "discard" or "CODE XCODE TEXT". */
void result_line(const engine_result *r, char *line, size_t size);
/* One transaction on s (msg with "\n" line ends; headers passed folded, body in CRLF chunks). */
void run_on(engine_session *s, const char *sender, const char *account, const char *msg,
    size_t chunk, char *line, size_t size);
/* Fresh session per run; the line must match for 64 KiB, 7-byte and 1-byte body chunks. */
void check_as(policy_engine *e, const char *sender, const char *account, const char *msg,
    const char *want);
void check(policy_engine *e, const char *msg, const char *want);
/* "accounts_file = ..." for alice (example.com, boss@example.org), blocked mallory, senderless nobody. */
const char *accounts_conf(void);
char *base64(const unsigned char *in, size_t len);
/* A message with text and one base64 attachment; caller frees. */
char *with_attachment(const char *name, const char *type, const unsigned char *content, size_t len);
size_t make_pdf(char *out, size_t size);
unsigned char *slurp(const char *path, size_t max, size_t *len);
int harness_setup(void **state);
int harness_teardown(void **state);

#endif
