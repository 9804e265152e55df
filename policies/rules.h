/*
 * rules.h - the built-in rules, their documented order, and two helpers they share.
 *
 * THE ORDER (single source: the engine runs RULES_BUILTIN in this order, the
 * postern-milter(8) copies this list). The first rule that fails decides; content rules
 * are decided at end of message, so a message with several problems always
 * gets the reply of the earliest rule below, then the custom modules of
 * policy_modules in their listed order.
 *
 * Envelope stage, answered at once at MAIL FROM:
 *  1 empty_sender       550 5.7.1 Empty sender not allowed
 *                       The null sender <> is refused. DSNs carry <> and are
 *                       thus refused too: a submission gateway does not relay
 *                       bounces (that is the reply table's rule).
 *  2 sender_allowed     550 5.7.1 Sender not allowed
 *                       Only with an {auth_authen} macro (a session without it
 *                       was let in by the MTA without login and is not checked):
 *                       the account must exist in accounts_file, not be
 *                       blocked, and list the sender (address or domain).
 *                       No accounts_file at all refuses every logged-in sender.
 * Content, decided at end of message, first failing in this order:
 *  3 mime_structure     554 5.6.0 Invalid or corrupt MIME multipart
 *                       Any MIME scanner error: boundary missing, bad, unused
 *                       or never closed, too deep (policy_max_mime_depth), too
 *                       many parts (policy_max_mime_parts), broken part
 *                       header, invalid base64.
 *  4 header_addresses   554 5.6.0 Could not read the message. <reason>
 *                       From, Sender, Reply-To, To, Cc and Bcc must parse.
 *                       From: exactly one header with at least one mailbox
 *                       ("Missing From header", "Multiple From headers");
 *                       Sender: at least one mailbox; Reply-To, To, Cc, Bcc
 *                       may be empty groups ("undisclosed-recipients:;").
 *                       <reason> is the parser's, e.g. "Local address ends
 *                       with dot", of the first header that fails.
 *  5 alignment          550 5.7.1 Header from domain does not align with envelope from domain
 *                       Every From mailbox's domain, in lowercase A-label form,
 *                       equals the envelope sender's (policy_alignment =
 *                       strict) or has the same organizational domain by the
 *                       Public Suffix List (relaxed). With
 *                       policy_alignment_sender = yes, the Sender mailbox too.
 *  6 subject_present    554 5.6.0 Subject not present
 *                       No Subject header, or only empty / whitespace-only
 *                       ones after RFC 2047 decoding.
 *  7 subject_length     554 5.6.0 Subject too long
 *                       More than policy_subject_max_length characters
 *                       (Unicode code points after unfolding and RFC 2047
 *                       decoding) in a Subject header.
 *  8 body_present       554 5.6.0 Body not present
 *                       No text/plain or text/html part with a non-whitespace
 *                       byte of decoded content, and no attachment at all
 *                       (a part with Content-Disposition: attachment or a
 *                       file name).
 *  9 attachment_empty   554 5.6.0 Attachment is empty
 *                       An attachment (disposition attachment, or a non-text
 *                       part with a file name) with no decoded content.
 * 10 inline_image_empty 554 5.6.0 Inline image is empty
 *                       An image (type image/...) with a Content-ID and no decoded content.
 * 11 attachment_type    554 5.6.0 Attachment type not allowed (<name>: <type>)
 *                       554 5.6.0 Attachment type does not match its name (<name>: <type>)
 *                       The libmagic type of a part's first 8 KiB is in
 *                       policy_attachment_types_reject; or, with
 *                       policy_attachment_type_mismatch = yes, the content is
 *                       an executable or library while its name or declared
 *                       type claims a document, image, archive or text (a
 *                       shebang script only against a binary document type).
 *                       <name> is the file name (ASCII, '?' for other bytes)
 *                       or "part N" for a part without one.
 * Then custom modules: a REJECT or TEMPFAIL without postern_msg_reply()
 * answers 550 5.7.1 Message rejected by policy / 451 4.7.1 Temporary policy
 * failure, try again later. An engine failure (libmagic) answers 451 4.3.0
 * Internal policy error, try again later, unless a rule before the first
 * body-reading one (mime_structure) already decided.
 */
#ifndef POSTERN_RULES_H
#define POSTERN_RULES_H

#include <stdint.h>
#include <stdio.h>

#include "postern/policy.h"
#include "reply.h"

/* X-macro: the built-in rules in the documented order above. */
#define RULES_BUILTIN(X)	\
	X(empty_sender)		\
	X(sender_allowed)	\
	X(mime_structure)	\
	X(header_addresses)	\
	X(alignment)		\
	X(subject_present)	\
	X(subject_length)	\
	X(body_present)		\
	X(attachment_empty)	\
	X(inline_image_empty)	\
	X(attachment_type)

#define RULES_DECLARE(n)	extern const postern_policy rule_##n;
RULES_BUILTIN(RULES_DECLARE)
#undef RULES_DECLARE

/*
 * rule_reply - set the reply of a table row (arg fills its placeholder) and
 * return the verdict that goes with its class: REJECT for 5xx, TEMPFAIL for 4xx.
 */
static inline int
rule_reply(postern_msg *m, enum reply_id id, const char *arg)
{
	const struct reply_row *row = reply_get(id);
	char code[8], text[512];

	snprintf(code, sizeof(code), "%d", row->code);
	reply_text(id, arg, text, sizeof(text));
	postern_msg_reply(m, code, row->xcode, text);
	return row->code >= 500 ? POSTERN_REJECT : POSTERN_TEMPFAIL;
}

/*
 * A few bits of per-message state live in the data pointer itself: no
 * allocation, nothing to free in msg_end, fixed size whatever the message.
 */
static inline unsigned
rule_flags(const postern_msg *m)
{
	return (unsigned)(uintptr_t)postern_msg_data(m);
}

static inline void
rule_set_flags(postern_msg *m, unsigned flags)
{
	postern_msg_set_data(m, (void *)(uintptr_t)flags);
}

/* Leaf: a part with content of its own (not a multipart, not an embedded message). */
static inline int
rule_part_is_leaf(const postern_part *p)
{
	return !p->is_multipart && !p->is_message;
}

#endif
