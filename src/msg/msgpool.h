/* SPDX-License-Identifier: MIT */
/* msgpool.h — blocks for small messages (see msgpool.c). */
#ifndef IPCN_MSGPOOL_H
#define IPCN_MSGPOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define IPCN_MSG_BLOCK 512u     /* bytes of a block: header, strings, data */
#define IPCN_MSGPOOL_MAX 4096u  /* blocks one pool makes at most (2 MiB) */

typedef struct ipcn__msgpool ipcn__msgpool;

ipcn__msgpool *ipcn__msgpool_new(void);
/* A block of IPCN_MSG_BLOCK bytes, or NULL when the pool is at its size
 * or out of memory.  The node's thread, under its lock. */
void *ipcn__msgpool_get(ipcn__msgpool *p);
/* Give a block back: any thread, also after ipcn__msgpool_close(). */
void ipcn__msgpool_put(ipcn__msgpool *p, void *b);
/* The node is done with the pool: it goes when its last block comes back. */
void ipcn__msgpool_close(ipcn__msgpool *p);

#endif
