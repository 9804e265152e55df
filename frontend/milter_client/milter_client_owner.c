/*
 * milter_client_owner.c - who is at the other end of a new milter
 * connection (smtpd_milter_check_owner). A milter sees every envelope and
 * may add recipients: on this host, only root, postern-smtpd's own user or
 * milter_user may be it. Anyone else could otherwise bind the milter's
 * loopback port while the milter is down, or put a socket of their own in
 * a directory they can write.
 *
 *   unix:   the socket file and its directory must not be writable by
 *           others; the peer's uid comes from SO_PEERCRED.
 *   inet:   on a loopback address, the uid owning the listening socket,
 *           from the kernel's socket table (NETLINK_SOCK_DIAG, an exact
 *           lookup of the listener). Other addresses are not checked: the
 *           uid of a remote process means nothing here.
 */
#include "autoconf.h"		/* _GNU_SOURCE (struct ucred), before any system header */

#include "milter_client_int.h"
#include "fsperm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define MC_DIAG_TIMEOUT_MS	2000	/* the kernel answers at once; this only bounds a surprise */

static int
is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

/*
 * The uid owning the socket listening on the address of ss (the milter's
 * side of our connection): 0 with *uid, or -1 with a reason in why.
 */
static int
listener_uid(const struct sockaddr_storage *ss, uid_t *uid, char *why, size_t whylen)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	struct timeval tv = { MC_DIAG_TIMEOUT_MS / 1000, (MC_DIAG_TIMEOUT_MS % 1000) * 1000 };
	union {
		struct nlmsghdr h;
		char buf[8192];
	} rsp;
	struct nlmsghdr *h;
	ssize_t n;
	int fd, rc = -1;

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.nlh.nlmsg_seq = 1;
	req.r.sdiag_family = (uint8_t)ss->ss_family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = 1u << 10;		/* TCP_LISTEN */
	/*
	 * An exact lookup with no remote end (0:0) matches no connection,
	 * only the listener (a wildcard one included): the uid of the socket
	 * accepting our connection would be 0 while it is still half-open.
	 */
	req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		req.r.id.idiag_sport = sin->sin_port;
		memcpy(req.r.id.idiag_src, &sin->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		req.r.id.idiag_sport = sin6->sin6_port;
		memcpy(req.r.id.idiag_src, &sin6->sin6_addr, 16);
	}
	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) < 0) {
		snprintf(why, whylen, "cannot look up the owner of the port (netlink: %s)",
		    strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0) {
		snprintf(why, whylen, "cannot look up the owner of the port (netlink: %s)",
		    strerror(errno));
		goto out;
	}
	if ((n = recv(fd, rsp.buf, sizeof(rsp.buf), 0)) < 0) {
		snprintf(why, whylen, "cannot look up the owner of the port (netlink: %s)",
		    strerror(errno));
		goto out;
	}
	snprintf(why, whylen, "no socket listens there (or the kernel did not say who owns it)");
	for (h = &rsp.h; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error != 0)
				snprintf(why, whylen, "cannot look up the owner of the port (%s)",
				    strerror(-e->error));
			break;
		}
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);

			*uid = (uid_t)m->idiag_uid;
			rc = 0;
			break;
		}
	}
out:
	close(fd);
	return rc;
}

int
mc_owner_check(const mc_list *l, size_t mi, int fd, char *why, size_t whylen)
{
	const struct mc_milter *m = &l->v[mi];
	char msg[FSPERM_MSG_MAX];
	uid_t uid;

	if (m->ss.ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)&m->ss;
		struct ucred cr;
		socklen_t len = sizeof(cr);

		if (fsperm_socket_shared(un->sun_path, msg, sizeof(msg)) != 0) {
			snprintf(why, whylen, "refused: %s", msg);
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
			snprintf(why, whylen, "refused: SO_PEERCRED: %s", strerror(errno));
			return -1;
		}
		uid = cr.uid;
	} else if (is_loopback(&m->ss)) {
		if (listener_uid(&m->ss, &uid, msg, sizeof(msg)) != 0) {
			snprintf(why, whylen, "refused: %s", msg);
			return -1;
		}
	} else {
		return 0;
	}
	if (uid == 0 || uid == geteuid() || (l->owner_uid >= 0 && uid == (uid_t)l->owner_uid))
		return 0;
	snprintf(why, whylen, "refused: the milter socket belongs to uid %u, not root, "
	    "postern-smtpd (uid %u) or milter_user%s", (unsigned)uid, (unsigned)geteuid(),
	    l->owner_uid >= 0 ? "" : " (none)");
	return -1;
}

int
mc_list_probe(const mc_list *l, size_t i, unsigned timeout_s, char *why, size_t whylen)
{
	const struct mc_milter *m = &l->v[i];
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, soerr = 0, rc = -1;

	if ((fd = socket(m->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&m->ss, m->sslen) != 0) {
		if (errno != EINPROGRESS) {
			snprintf(why, whylen, "cannot connect: %s", strerror(errno));
			goto out;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, (int)timeout_s * 1000) != 1) {
			snprintf(why, whylen, "cannot connect: no answer within %u s", timeout_s);
			goto out;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
			snprintf(why, whylen, "cannot connect: %s", strerror(soerr ? soerr : errno));
			goto out;
		}
	}
	rc = l->check_owner ? mc_owner_check(l, i, fd, why, whylen) : 0;
out:
	close(fd);
	return rc;
}
