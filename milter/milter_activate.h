/* milter_activate.h - postern-milter: serving on the listening socket systemd passed (socket activation). */
#ifndef POSTERN_MILTER_ACTIVATE_H
#define POSTERN_MILTER_ACTIVATE_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * External interface. main.c calls pm_activate_take() before anything
 * touches milter_listen; when it returns 1, it opens libmilter (pm_open())
 * on the placeholder pm_activate_mark() wrote into conn just before, and
 * right after calls pm_activate_adopt(), which puts systemd's socket in
 * the place of libmilter's own. milter_listen is then ignored.
 */

#define PM_ACTIVATE_NAME	"milter"	/* the FileDescriptorName expected */
#define PM_ACTIVATE_FDS_MAX	256		/* descriptors compared before/after smfi_opensocket */

struct pm_activated {
	int fd;				/* systemd's socket until adopted, then -1 */
	int family;			/* AF_UNIX, AF_INET or AF_INET6 */
	struct sockaddr_storage addr;	/* its own address: logs, and the poke at stop */
	socklen_t addrlen;
	char where[160];		/* that address in milter_listen's syntax */
	char tmpdir[108];		/* the unix placeholder's private directory, or "" */
	unsigned char before[PM_ACTIVATE_FDS_MAX / 8];	/* descriptors open before libmilter's */
};

/*
 * Take the socket systemd passed (LISTEN_FDS): exactly one listening
 * stream socket named "milter", else -1 with a reason in err. 0: none
 * passed (bind milter_listen as usual). 1: a is filled.
 */
int pm_activate_take(struct pm_activated *a, char *err, size_t errlen);

/*
 * Just before pm_open(): conn gets the libmilter connection string of a
 * private placeholder of the same family (a unix one's directory is made
 * now), and the descriptors open now are remembered. 0, or -1 with err.
 */
int pm_activate_mark(struct pm_activated *a, char *conn, size_t connlen, char *err,
    size_t errlen);

/*
 * Just after pm_open(): find the placeholder libmilter opened and put
 * systemd's socket on its descriptor. 0, or -1 with err.
 */
int pm_activate_adopt(struct pm_activated *a, char *err, size_t errlen);

/* Undo what pm_activate_take() did when startup fails before the adoption. */
void pm_activate_abandon(struct pm_activated *a);

/* Is LISTEN_FDS set, and built to take it (for -n and -t, which do not take the socket)? */
int pm_activate_pending(void);

#endif
