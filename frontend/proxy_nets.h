/*
 * proxy_nets.h - smtpd_proxy_protocol's trusted networks: "no", or a
 * list of IPv4/IPv6 addresses and CIDR networks, matched against the
 * peer of an accepted connection.
 */
#ifndef POSTERN_PROXY_NETS_H
#define POSTERN_PROXY_NETS_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct proxy_nets proxy_nets;

/*
 * Parse the setting. 0 and *out NULL for "no" (or empty), 0 and a list,
 * or -1 with err naming the bad item.
 */
int proxy_nets_parse(const char *value, proxy_nets **out, char *err, size_t errlen);
/* 1 when ss (an IPv4-mapped IPv6 peer counts as IPv4) is in one of the networks. */
int proxy_nets_match(const proxy_nets *n, const struct sockaddr_storage *ss);
void proxy_nets_free(proxy_nets *n);

#endif
