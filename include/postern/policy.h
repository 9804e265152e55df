/*
 * postern/policy.h - the public C API of Postern policy modules.
 *
 * A policy module is a shared object exporting one symbol,
 *
 *	const postern_policy postern_policy_module = { ... };
 *
 * filled with designated initialisers. postern-milter and postern-check load
 * it with dlopen (policy_modules = /path/a.so, /path/b.so) and call its
 * callbacks for every message. The built-in rules (empty sender, sender
 * allowed, alignment, MIME, addresses, Subject, body, attachments) are
 * modules of exactly this shape, compiled in: there is no private back door.
 *
 * Build a module out of tree with
 *	cc -shared -fPIC $(pkg-config --cflags postern-policy) -o my.so my.c
 *
 * THREADS: postern-milter runs one thread per SMTP connection. Callbacks of
 * one message are never called concurrently, but callbacks of different
 * messages are. Keep module-wide state read-only after init/reload, or lock.
 *
 * VERDICTS: every message callback returns a postern_verdict. The first
 * module (in load order: built-ins, then policy_modules) that returns
 * anything but POSTERN_CONTINUE decides the message; later modules are no
 * longer called for it, earlier ones still are and may still decide.
 * Envelope stages (connect, helo, mail, rcpt) apply at once; content
 * verdicts (header .. eom) are applied at end of message, so the reply is
 * that of the first rule in the documented order, whatever the order in
 * which the problems appear in the message.
 */
#ifndef POSTERN_POLICY_H
#define POSTERN_POLICY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change; the loader refuses another version. */
#define POSTERN_POLICY_ABI_VERSION	1

/* The symbol the loader looks up in every module. */
#define POSTERN_POLICY_SYMBOL		"postern_policy_module"

typedef enum postern_verdict {
	POSTERN_CONTINUE = 0,	/* no opinion (yet) */
	POSTERN_ACCEPT,		/* accept: later modules are not asked */
	POSTERN_REJECT,		/* permanent failure; reply set with postern_msg_reply() or 550 5.7.1 */
	POSTERN_TEMPFAIL,	/* temporary failure; reply set with postern_msg_reply() or 451 4.7.1 */
	POSTERN_DISCARD		/* accept and silently drop */
} postern_verdict;

/* One SMTP transaction, as far as the policies see it. Opaque. */
typedef struct postern_msg postern_msg;

/* One loaded module: its configuration and module-wide data. Opaque. */
typedef struct postern_module postern_module;

/* A MIME entity: 0 is the message itself. Strings are never NULL. */
typedef struct postern_part {
	unsigned index;			/* order of appearance, 0 = top level */
	unsigned depth;			/* nesting level, 0 = top level */
	const char *content_type;	/* lowercased "type/subtype", default applied */
	const char *disposition;	/* "attachment", "inline" or "" */
	const char *filename;		/* decoded file name or "" */
	const char *content_id;		/* without angle brackets, or "" */
	const char *charset;		/* lowercased, or "" */
	const char *transfer_encoding;	/* "7bit", "8bit", "binary", "base64", "quoted-printable" */
	int is_multipart;
	int is_message;			/* message/rfc822: its content is the next part */
	unsigned long long decoded_size;/* valid in part_end */
	/*
	 * libmagic's MIME type of the first 8 KiB of decoded content, valid in
	 * part_end. While a loaded module has POSTERN_POLICY_WANTS_BODY it is
	 * filled for every leaf part with content. With the built-in rules
	 * alone, the engine runs libmagic only where the answer can change a
	 * verdict (see policy_attachment_types_reject). "" means not examined:
	 * an empty part, a container, a part libmagic was not run for, or a
	 * failed detection.
	 */
	const char *detected_type;
	int in_related;			/* the parent is a multipart/related */
} postern_part;

/* Flags a module sets in postern_policy.flags. */
#define POSTERN_POLICY_WANTS_BODY	0x1	/* call part_begin/part_data/part_end */

typedef struct postern_policy {
	unsigned abi_version;		/* POSTERN_POLICY_ABI_VERSION */
	const char *name;		/* [a-z][a-z0-9]*: log tag and config key prefix */
	const char *description;	/* one line for logs and postern-check -v */
	const char *const *config_keys;	/* NULL-terminated keys it accepts, without "<name>_" */
	unsigned flags;

	/* Module lifecycle: return 0, or -1 after postern_module_error(). */
	int (*init)(postern_module *mod);	/* after config is read, before any message */
	int (*reload)(postern_module *mod);	/* SIGHUP: config re-read; NULL = teardown + init */
	void (*teardown)(postern_module *mod);

	/* Message callbacks: any may be NULL. Return a postern_verdict. */
	int (*connect)(postern_msg *m);
	int (*helo)(postern_msg *m, const char *helo);
	int (*mail)(postern_msg *m, const char *sender);	/* "" for the null sender <> */
	int (*rcpt)(postern_msg *m, const char *rcpt);		/* REJECT refuses this recipient only */
	int (*header)(postern_msg *m, const char *name, const char *value);	/* top level, unfolded */
	int (*eoh)(postern_msg *m);
	int (*part_begin)(postern_msg *m, const postern_part *p);
	int (*part_data)(postern_msg *m, const postern_part *p,
	    const unsigned char *data, size_t len);		/* decoded content of leaf parts */
	int (*part_end)(postern_msg *m, const postern_part *p);
	int (*eom)(postern_msg *m);
	/* The transaction is over (accepted, rejected or aborted): free per-message data. */
	void (*msg_end)(postern_msg *m);
} postern_policy;

/* --- Module-wide functions (init, reload, teardown) -------------------- */

/* Value of "<name>_<key>" from postern.conf, or NULL when it is not set. */
const char *postern_module_config(const postern_module *mod, const char *key);
/* Module-wide data pointer, owned by the module. */
void *postern_module_data(const postern_module *mod);
void postern_module_set_data(postern_module *mod, void *data);
/*
 * Effective value of a core postern.conf key ("policy_alignment",
 * "accounts_file", "message_size_limit", ...) exactly as `-n` prints it
 * (durations as "300s", booleans as "yes"/"no"), or NULL when key is not a
 * core key. Module keys ("<name>_<key>") come from postern_module_config().
 * Both strings stay valid until the next reload or teardown: copy what you keep.
 */
const char *postern_module_setting(const postern_module *mod, const char *key);
/* Reason for a failed init/reload; the loader prints it with the file name. */
void postern_module_error(postern_module *mod, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* --- Per-message functions (message callbacks) ------------------------- */

const postern_module *postern_msg_module(const postern_msg *m);	/* the module being called */
const char *postern_msg_id(const postern_msg *m);		/* queue id, or "" before it is known */
const char *postern_msg_client_addr(const postern_msg *m);	/* "" when unknown */
const char *postern_msg_client_name(const postern_msg *m);
const char *postern_msg_helo(const postern_msg *m);
const char *postern_msg_account(const postern_msg *m);		/* SASL login, or NULL without AUTH */
const char *postern_msg_tls_version(const postern_msg *m);	/* e.g. "TLSv1.3", or NULL */
const char *postern_msg_tls_cipher(const postern_msg *m);
const char *postern_msg_sender(const postern_msg *m);		/* without <>, "" = null sender */
size_t postern_msg_rcpt_count(const postern_msg *m);
const char *postern_msg_rcpt(const postern_msg *m, size_t i);
/* Macro sent by the MTA, e.g. "{auth_type}" or "j"; NULL when absent. */
const char *postern_msg_macro(const postern_msg *m, const char *name);
/*
 * NULL when the message's MIME structure is sound, else a short ASCII reason
 * such as "multipart without boundary" (too deep, too many parts, broken part
 * header, bad base64 included). Valid from eom on; only modules with
 * POSTERN_POLICY_WANTS_BODY get a reliable answer (without them the engine
 * may skip the body).
 */
const char *postern_msg_mime_error(const postern_msg *m);

/* Per-message data of the calling module; freed by the module in msg_end. */
void *postern_msg_data(const postern_msg *m);
void postern_msg_set_data(postern_msg *m, void *data);

/*
 * Reply for a REJECT or TEMPFAIL returned by this callback: code "550",
 * enhanced code "5.7.1", ASCII text (no CR/LF; '%' is escaped for the MTA).
 * Returns 0, or -1 if the code or enhanced code is malformed.
 */
int postern_msg_reply(postern_msg *m, const char *code, const char *xcode, const char *text);
/* Add a header to the message if it is accepted. */
int postern_msg_add_header(postern_msg *m, const char *name, const char *value);
/* Log one line tagged with the message id and the module name. */
void postern_msg_log(const postern_msg *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif
