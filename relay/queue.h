/*
 * queue.h - postern-relay's queue: picks messages up from SPOOL/new/ (a
 * scan at start, then inotify), hands them to the next hop in arrival
 * order, journals every outcome in SPOOL/state/<id>, retries deferred
 * recipients with backoff, sends the DSN of a final failure, moves the
 * history of a message that left to SPOOL/status/<id> and applies
 * postern-queue's requests from SPOOL/ctl/. Directory layout and file
 * formats: postern-relay(8).
 */
#ifndef POSTERN_RELAY_QUEUE_H
#define POSTERN_RELAY_QUEUE_H

#include <stdint.h>

#include "config.h"
#include "deliver.h"

struct event_base;
typedef struct queue queue;

/*
 * Open the spool's directories (creating the relay's own: state/,
 * status/, ctl/, corrupt/). cfg and hop must outlive the queue (see
 * queue_set_config). NULL with err on failure.
 */
queue *queue_open(struct event_base *base, const postern_config *cfg, relay_hop *hop,
    char *err, size_t errlen);
/* Scan new/, state/ and ctl/, start watching new/ and ctl/, deliver. */
int queue_start(queue *q, char *err, size_t errlen);
/* SIGHUP: the timing, bounce and concurrency settings of cfg apply from now on (cfg must outlive the queue). */
void queue_set_config(queue *q, const postern_config *cfg);
/* SIGHUP built a new next hop: the next deliveries go to it (the old one is the caller's);
 * after queue_set_config() of the config it was built from. */
void queue_set_hop(queue *q, relay_hop *hop);
/* SIGTERM: start nothing new; done() runs (once) when nothing is in flight. */
void queue_drain(queue *q, void (*done)(void *arg), void *arg);
/* Deliveries in flight. */
unsigned queue_inflight(const queue *q);
/*
 * Messages in the queue (held ones too; not those leaving in this loop
 * turn) and the arrival time (Unix ms) of the oldest, 0 when empty. A walk
 * of the whole queue: for the metrics page and the status line, not per event.
 */
void queue_stats(const queue *q, unsigned *nmsgs, uint64_t *oldest_ms);
void queue_free(queue *q);

#endif
