/*
 * rule_attachment_type.c - rule 11: libmagic type of each part, refused types and disguised executables.
 *
 * The engine gives a leaf part's libmagic MIME type (of its first decoded
 * bytes) as detected_type wherever it could change a verdict of this rule
 * (engine.c engine_magic_plan: parts starting with an executable or
 * script signature, parts with a name or a non-text type while the
 * mismatch check is on, every part when the reject list names other
 * types); "" elsewhere, which no check below matches. Two checks, in this order:
 *  a) the detected type is in policy_attachment_types_reject;
 *  b) policy_attachment_type_mismatch = yes: the content is an executable
 *     (ELF, PE, Mach-O, object) while the name says a document, image,
 *     archive or text file, or a script (shebang) while the name says a
 *     binary document such as a PDF or an image. Nothing is flagged when the
 *     name or declared type admits an executable, or claims nothing (no
 *     extension and application/octet-stream): few false positives by design.
 */
#include "config.h"
#include "rules.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AT_NAME_MAX	96	/* file name bytes quoted in the reply */

enum at_claim { AT_NONE, AT_TEXT, AT_DOC, AT_EXEC };

struct at_conf {
	char **reject;		/* lowercase MIME types */
	size_t nreject;
	int mismatch;
};

/* Detected types that are machine code. */
static const char *const at_binaries[] = {
	"application/x-executable", "application/x-pie-executable", "application/x-sharedlib",
	"application/x-object", "application/x-dosexec", "application/x-msdownload",
	"application/vnd.microsoft.portable-executable", "application/x-mach-binary",
	"application/x-elf", NULL
};

/* Detected types of scripts (libmagic reads the shebang). */
static const char *const at_scripts[] = {
	"text/x-shellscript", "text/x-perl", "text/x-ruby", "text/x-php", "text/x-lua",
	"text/x-tcl", "text/x-awk", NULL
};

static const char *const at_ext_text[] = {
	"txt", "text", "csv", "tsv", "htm", "html", "xml", "json", "md", "log", "ics", "vcf",
	"eml", "svg", "css", "asc", NULL
};

static const char *const at_ext_doc[] = {
	"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf",
	"jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp", "heic", "ico",
	"zip", "rar", "7z", "gz", "tgz", "tar", "bz2", "xz",
	"mp3", "mp4", "m4a", "wav", "ogg", "mov", "avi", "mkv", "webm", NULL
};

/* Names that admit code: no mismatch (the reject list still applies). */
static const char *const at_ext_exec[] = {
	"exe", "dll", "so", "dylib", "bin", "elf", "com", "scr", "sys", "msi", "o", "out",
	"run", "app", "sh", "bash", "py", "pl", "rb", "php", "bat", "cmd", "ps1", NULL
};

static int
at_in(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcasecmp(*list, s) == 0)
			return 1;
	return 0;
}

static int
at_add_reject(void *ctx, const char *item)
{
	struct at_conf *c = ctx;
	char *t = strdup(item), **v, *p;

	if (t == NULL || (v = realloc(c->reject, (c->nreject + 1) * sizeof(*v))) == NULL) {
		free(t);
		return -1;
	}
	for (p = t; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	c->reject = v;
	c->reject[c->nreject++] = t;
	return 0;
}

static void
at_conf_free(struct at_conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nreject; i++)
		free(c->reject[i]);
	free(c->reject);
	free(c);
}

static int
attachment_type_init(postern_module *mod)
{
	const char *list = postern_module_setting(mod, "policy_attachment_types_reject");
	const char *mm = postern_module_setting(mod, "policy_attachment_type_mismatch");
	struct at_conf *c = calloc(1, sizeof(*c));

	if (c == NULL || config_foreach_item(list ? list : "", at_add_reject, c) != 0) {
		at_conf_free(c);
		postern_module_error(mod, "out of memory");
		return -1;
	}
	c->mismatch = mm != NULL && strcmp(mm, "yes") == 0;
	postern_module_set_data(mod, c);
	return 0;
}

static void
attachment_type_teardown(postern_module *mod)
{
	at_conf_free(postern_module_data(mod));
}

/* What the file name's extension claims; AT_NONE without a known one. */
static enum at_claim
at_claim_name(const char *filename)
{
	const char *dot = strrchr(filename, '.');

	if (dot == NULL || dot[1] == '\0')
		return AT_NONE;
	dot++;
	if (at_in(at_ext_exec, dot))
		return AT_EXEC;
	if (at_in(at_ext_doc, dot))
		return AT_DOC;
	if (at_in(at_ext_text, dot))
		return AT_TEXT;
	return AT_NONE;
}

/* What the declared Content-Type claims. */
static enum at_claim
at_claim_type(const char *ct)
{
	static const char *const doc_prefixes[] = {
		"image/", "audio/", "video/", "application/pdf", "application/msword",
		"application/vnd.ms-", "application/vnd.openxmlformats-",
		"application/vnd.oasis.opendocument.", "application/rtf", "application/zip",
		"application/x-zip", "application/gzip", "application/x-gzip",
		"application/x-rar", "application/vnd.rar", "application/x-7z", "application/x-tar",
		NULL
	};
	size_t i;

	if (at_in(at_binaries, ct) || at_in(at_scripts, ct) || strstr(ct, "script") != NULL)
		return AT_EXEC;
	if (strncmp(ct, "text/", 5) == 0)
		return AT_TEXT;
	for (i = 0; doc_prefixes[i]; i++)
		if (strncmp(ct, doc_prefixes[i], strlen(doc_prefixes[i])) == 0)
			return AT_DOC;
	return AT_NONE;
}

static int
at_mismatch(const postern_part *p)
{
	enum at_claim claim = at_claim_name(p->filename);
	int binary = at_in(at_binaries, p->detected_type);
	int script = at_in(at_scripts, p->detected_type) ||
	    strncmp(p->detected_type, "text/x-script.", 14) == 0;

	if (claim == AT_NONE)
		claim = at_claim_type(p->content_type);
	if (binary)
		return claim == AT_TEXT || claim == AT_DOC;
	/* A .txt may well hold a script someone shares; a PDF or a JPEG never starts with "#!". */
	if (script)
		return claim == AT_DOC;
	return 0;
}

/* "(invoice.pdf: application/x-sharedlib)", ASCII only, for the reply. */
static void
at_reason(const postern_part *p, char *out, size_t outsize)
{
	char name[AT_NAME_MAX + 4];
	size_t i;

	if (p->filename[0] == '\0') {
		snprintf(name, sizeof(name), "part %u", p->index);
	} else {
		for (i = 0; i < AT_NAME_MAX && p->filename[i]; i++) {
			unsigned char c = (unsigned char)p->filename[i];
			name[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
		if (p->filename[i])
			name[i++] = '.', name[i++] = '.', name[i++] = '.';
		name[i] = '\0';
	}
	snprintf(out, outsize, "(%s: %s)", name, p->detected_type);
}

static int
attachment_type_end(postern_msg *m, const postern_part *p)
{
	const struct at_conf *c = postern_module_data(postern_msg_module(m));
	char reason[256];
	size_t i;

	if (!rule_part_is_leaf(p) || p->detected_type[0] == '\0')
		return POSTERN_CONTINUE;
	for (i = 0; i < c->nreject; i++) {
		if (strcasecmp(c->reject[i], p->detected_type) == 0) {
			at_reason(p, reason, sizeof(reason));
			return rule_reply(m, R_ATTACHMENT_TYPE, reason);
		}
	}
	if (c->mismatch && at_mismatch(p)) {
		at_reason(p, reason, sizeof(reason));
		return rule_reply(m, R_ATTACHMENT_MISMATCH, reason);
	}
	return POSTERN_CONTINUE;
}

const postern_policy rule_attachment_type = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "attachment_type",
	.description = "libmagic type of each part: policy_attachment_types_reject and disguised executables",
	.flags = POSTERN_POLICY_WANTS_BODY,
	.init = attachment_type_init,
	.teardown = attachment_type_teardown,
	.part_end = attachment_type_end,
};
