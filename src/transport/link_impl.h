/* SPDX-License-Identifier: MIT */
/*
 * link_impl.h — what the three files of a link share, private to them:
 * link_io.c (socket I/O, queues, reading and checking frames),
 * link_hello.c (a link's start, its hello and acceptance, its end) and
 * link_ring.c (the switch to shared-memory rings and their doorbells).
 */
#ifndef IPCN_LINK_IMPL_H
#define IPCN_LINK_IMPL_H

#include <sys/types.h>

#include "node/node.h"
#include "transport/link.h"

#define IPCN_LINK_RX_INITIAL (64u << 10)

/* ---- link_io.c ---- */
/* Count the link's tx buffer in the node's sum. */
void ipcn__link_tx_account(ipcn_node *n, ipcn__link *l);
void ipcn__link_set_want_out(ipcn_node *n, ipcn__link *l, bool on);
/* Samples whose last byte has left: no longer counted as queued. */
void ipcn__link_samples_sent(ipcn__link *l);
/* The queue goes with the link: its samples count as dropped. */
void ipcn__link_drop_queue(ipcn_node *n, ipcn__link *l);
void ipcn__link_fd_sent(ipcn__link *l);
ssize_t ipcn__link_write_some(ipcn__link *l);
bool ipcn__link_tokens_ok(const uint8_t *p, size_t len);
bool ipcn__link_parse_buffered(ipcn_node *n, ipcn__link *l);
ssize_t ipcn__link_read_some(ipcn_node *n, ipcn__link *l, void *dst,
                             size_t want);
size_t ipcn__link_rx_room(ipcn_node *n, ipcn__link *l);
bool ipcn__link_rx_took(ipcn_node *n, ipcn__link *l, size_t r);

/* ---- link_hello.c ---- */
/* A link's common start (id, queues, times), not yet listed nor polled;
 * NULL when out of memory (fd left open). */
ipcn__link *ipcn__link_alloc(ipcn_node *n, int fd, bool outbound);
/* Queue this node's HELLO on l (its kind says which capabilities). */
void ipcn__link_send_hello(ipcn_node *n, ipcn__link *l);
/* Refuse the peer's input: counted, logged, an ERROR sent, link closed. */
void ipcn__link_bad_input(ipcn_node *n, ipcn__link *l, int status,
                          const char *why);
/* One checked frame: the hello here, link control, the rest up. */
void ipcn__link_on_frame(ipcn_node *n, ipcn__link *l, const uint8_t *p,
                         size_t len);

/* The epoll mask and the pause follow the queue (after a TCP link's
 * records were written). */
void ipcn__link_check_pressure(ipcn_node *n, ipcn__link *l);

/* ---- link_tcp.c ---- */
/* Are encrypted bytes still waiting for the socket (a TCP link)? */
bool ipcn__sec_out_pending(const ipcn__link *l);
/* Close a TCP link's socket so that what was written last arrives: the
 * write side is shut and the socket kept a moment, reading and throwing
 * away, so that the peer's late bytes do not make the kernel reset the
 * connection (and lose our ERROR) (node/gateway.c keeps it). */
void ipcn__sec_close_fd(ipcn_node *n, ipcn__link *l);

/* ---- link_ring.c ---- */
/* The peer broke a ring's indices (ours: the one we write). */
void ipcn__link_ring_broken(ipcn_node *n, ipcn__link *l, bool ours,
                            const char *why);
ssize_t ipcn__link_ring_write_some(ipcn__link *l, const uint8_t *p,
                                   size_t len);
void ipcn__link_room_bell(ipcn_node *n, ipcn__link *l);
void ipcn__link_ring_bell(ipcn_node *n, ipcn__link *l);
void ipcn__link_send_ring(ipcn_node *n, ipcn__link *l);
int ipcn__link_drain_tokens(ipcn_node *n, ipcn__link *l);
void ipcn__link_ring_readable(ipcn_node *n, ipcn__link *l);

#endif
