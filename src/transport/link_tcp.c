/* SPDX-License-Identifier: MIT */
/*
 * link_tcp.c — a TCP link between the gateways of two hosts: the Noise
 * handshake (Noise_XX_25519_ChaChaPoly_BLAKE2b, noise.c) while the link
 * is LINK_SECURE, then the record layer: the link's queue leaves in Noise
 * transport messages and what comes is decrypted into rx, where the
 * ordinary frames are cut and checked as on any link.
 *
 * On the socket every message goes after a 2-byte big-endian length.  A
 * message that does not authenticate (a flipped bit, a replay, a drop, a
 * forged handshake) closes the link at once: counted in auth_failures.
 * Once the handshake is done the gateway looks the peer's static key up
 * in the trust list (ipcn__gw_admit): a key it does not name gets one
 * encrypted ERROR 309 and the link is closed.  docs/protocol.md 19.1.2.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transport/link_impl.h"
#include "transport/noise.h"
#include "transport/tcp.h"

/* XX with empty payloads: 32, 96 and 64 bytes.  A longer one is refused
 * as soon as its length is read, not after 64 KiB were waited for. */
#define SEC_HS_MAX 256u
#define SEC_MSG_MAX (2u + IPCN_NOISE_MAX_MSG)
/* Records are read several at a time: fewer system calls, and the part
 * of a record left at the end is moved to the front once per read. */
#define SEC_IN_CAP (4u * SEC_MSG_MAX)
#define SEC_PT_MAX (IPCN_NOISE_MAX_MSG - IPCN_NOISE_TAG)
#define SEC_BATCH 4u /* messages encrypted per write */
#define SEC_PROLOGUE "IPCNet/1 "
#define LINGER_NS 1000000000ull    /* a closed link's socket, at most */
#define LINGER_POLL_NS 20000000ull

struct ipcn__sec {
    ipcn__noise_hs hs;
    ipcn__noise_cipher tx, rx;
    bool ready;             /* the handshake is done: tx and rx keyed */
    uint8_t *in;            /* records read, not yet taken (in_cap) */
    size_t in_len, in_cap;  /* SEC_MSG_MAX until the handshake is done,
                               then SEC_IN_CAP */
    uint8_t *out;           /* records to write: handshake messages, or
                               the encryption of `covered` bytes of the
                               link's queue from tx_off */
    size_t out_len, out_off, out_cap;
    size_t covered;
};

const char *ipcn__sec_cipher(const ipcn__link *l)
{
    return l->sec && l->sec->ready ? ipcn__noise_suite_name(l->sec->tx.suite) : "";
}

bool ipcn__sec_out_pending(const ipcn__link *l)
{
    return l->sec && l->sec->out_off < l->sec->out_len;
}

bool ipcn__sec_in_pending(const ipcn__link *l)
{
    return l->sec && l->sec->in_len > 0;
}

static bool out_reserve(struct ipcn__sec *s, size_t need)
{
    if (s->out_cap - s->out_len >= need)
        return true;
    size_t cap = s->out_len + need;
    uint8_t *p = ipcn__realloc(s->out, cap);
    if (!p)
        return false;
    s->out = p;
    s->out_cap = cap;
    return true;
}

static void put_len(uint8_t *p, size_t len)
{
    p[0] = (uint8_t)(len >> 8);
    p[1] = (uint8_t)len;
}

/* The peer's record did not authenticate, or its handshake went wrong:
 * the link ends at once, no word sent (the channel is not to be trusted
 * any more). */
static void auth_fail(ipcn_node *n, ipcn__link *l, const char *why)
{
    l->auth_failures++;
    n->stats.auth_failures++;
    ipcn__warn("IPCN-TCP-AUTH", "%s: TCP link %s (%s): %s: closed", n->name,
               l->addr ? l->addr : "?", l->who.name ? l->who.name : "no hello yet",
               why);
    ipcn__link_close(n, l, IPCN_NETWORK_AUTH_REQUIRED, why);
}

static int hs_write(ipcn__link *l)
{
    struct ipcn__sec *s = l->sec;
    if (!out_reserve(s, 2 + SEC_HS_MAX))
        return IPCN_INSUFFICIENT_MEMORY;
    size_t len = 0;
    int st = ipcn__noise_write_message(&s->hs, NULL, 0, s->out + s->out_len + 2,
                                       SEC_HS_MAX, &len);
    if (st != IPCN_OK)
        return st;
    put_len(s->out + s->out_len, len);
    s->out_len += 2 + len;
    return IPCN_OK;
}

/* ---- the host's state: trust, duplicates, lingering sockets ---- */

void ipcn__tcp_trust_refresh(ipcn_node *n, ipcn__tcp_host *h)
{
    struct stat st;
    bool present = stat(h->trust_path, &st) == 0;
    uint64_t stamp[4] = {present ? (uint64_t)st.st_ino : 0,
                         present ? (uint64_t)st.st_size : 0,
                         present ? (uint64_t)st.st_mtim.tv_sec : 0,
                         present ? (uint64_t)st.st_mtim.tv_nsec : 0};
    if (present == h->trust_present && !memcmp(stamp, h->trust_stamp, sizeof stamp))
        return;
    ipcn__trust_list t = {0};
    int r = ipcn__trust_load(h->trust_path, &t);
    if (r != IPCN_OK && r != IPCN_NOT_FOUND) {
        ipcn__warn("IPCN-TCP-TRUST", "%s: %s changed but cannot be read (%d): "
                   "the list read before stays", n->name, h->trust_path, r);
        return;
    }
    ipcn__trust_free(&h->trust);
    h->trust = t;
    h->trust_gen++;
    h->trust_present = present;
    memcpy(h->trust_stamp, stamp, sizeof stamp);
    ipcn__info("IPCN-TCP-TRUST", "%s: %s: %zu trusted hosts", n->name,
               h->trust_path, t.count);
}

void ipcn__tcp_trust_recheck(ipcn_node *n, bool force)
{
    ipcn__tcp_host *h = n->tcp;
    if (force)
        memset(h->trust_stamp, 0, sizeof h->trust_stamp);
    ipcn__tcp_trust_refresh(n, h);
    if (h->swept_gen == h->trust_gen || !h->trust_present)
        return;
    h->swept_gen = h->trust_gen;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (!l->sec || !l->sec->ready || !l->has_peer_key || l->state == LINK_DEAD ||
            ipcn__trust_name(&h->trust, l->peer_key))
            continue;
        n->stats.unauthorized++;
        ipcn__warn("IPCN-TCP-UNTRUSTED", "%s: TCP link %s (host %s): its key was "
                   "taken off the network's trust list: closed (309)", n->name,
                   l->addr, l->who.host ? l->who.host : "?");
        ipcn__link_send_error(n, l, IPCN_NETWORK_AUTH_REQUIRED,
                              "host key no longer trusted");
        ipcn__link_close(n, l, IPCN_NETWORK_AUTH_REQUIRED,
                         "host key no longer trusted");
    }
}

/* Another TCP link to the host of l's key?  Two gateways that dial each
 * other at once get two links: both keep the one dialled by the side of
 * the lower key; of two in the same direction, the older one.  The one
 * kept is pinged: a stale one (a host that vanished) then goes within
 * dead_after, and the next dial wins. */
static int dedup(ipcn_node *n, ipcn__tcp_host *h, ipcn__link *l)
{
    bool we_lower = memcmp(h->pub, l->peer_key, 32) < 0;
    ipcn__link *o;
    ipcn__list_for_each(o, t, &n->links, ipcn__link, node_entry) {
        if (o == l || o->kind != LINK_TCP || o->state == LINK_DEAD ||
            o->state == LINK_SECURE || !o->has_peer_key ||
            memcmp(o->peer_key, l->peer_key, 32))
            continue;
        bool keep_new = o->outbound != l->outbound && l->outbound == we_lower;
        ipcn__link *lose = keep_new ? o : l, *keep = keep_new ? l : o;
        ipcn__info("IPCN-TCP-DUP", "%s: two TCP links to host %s: keeping %s, "
                   "closing %s", n->name, l->who.host, keep->addr, lose->addr);
        if (keep->state == LINK_UP) {
            keep->last_ping_ns = ipcn__now_mono_ns();
            ipcn__send_ping(n, keep, IPCN_F_PING, keep->last_ping_ns);
        }
        if (lose->outbound && h->nlost < IPCN_TCP_LOST_MAX) {
            h->lost[h->nlost].link_id = lose->id;
            memcpy(h->lost[h->nlost++].key, lose->peer_key, 32);
        }
        ipcn__link_close(n, lose, IPCN_CONFLICT, "another link to that host is kept");
        if (lose == l)
            return IPCN_CONFLICT;
    }
    return IPCN_OK;
}

/* The handshake told l's key: its name in the trust list (who.host), or
 * 309; 207 when l was closed for another link to that host; 307. */
static int admit(ipcn_node *n, ipcn__link *l)
{
    ipcn__tcp_host *h = n->tcp;
    ipcn__tcp_trust_refresh(n, h);
    const char *name = ipcn__trust_name(&h->trust, l->peer_key);
    if (!name)
        return IPCN_NETWORK_AUTH_REQUIRED;
    ipcn__free(l->who.host);
    if (!(l->who.host = ipcn__strdup(name)))
        return IPCN_INSUFFICIENT_MEMORY;
    return dedup(n, h, l);
}

/* A closed link's socket is kept a moment, its write side shut, reading
 * and dropping what comes: bytes the peer sent after our last words would
 * otherwise make the kernel reset the connection, and a reset may lose
 * those words (an ERROR 309) before the peer reads them. */
void ipcn__sec_close_fd(ipcn_node *n, ipcn__link *l)
{
    ipcn__tcp_host *h = n->tcp;
    shutdown(l->fd, SHUT_WR);
    if (n->closing || !h || h->nlinger == IPCN_TCP_LINGER_MAX) {
        close(l->fd);
        return;
    }
    uint64_t now = ipcn__now_mono_ns();
    h->linger[h->nlinger].fd = l->fd;
    h->linger[h->nlinger++].until_ns = now + LINGER_NS;
    ipcn__node_arm_timer(n, now + LINGER_POLL_NS);
}

uint64_t ipcn__tcp_linger_pass(ipcn__tcp_host *h, uint64_t now)
{
    for (uint32_t i = 0; i < h->nlinger;) {
        int fd = h->linger[i].fd;
        uint8_t junk[4096];
        ssize_t r;
        while ((r = recv(fd, junk, sizeof junk, MSG_DONTWAIT)) > 0)
            ;
        bool done = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                               errno != EINTR);
        if (done || now >= h->linger[i].until_ns) {
            close(fd);
            h->linger[i] = h->linger[--h->nlinger];
            continue;
        }
        i++;
    }
    return h->nlinger ? now + LINGER_POLL_NS : 0;
}

void ipcn__tcp_host_free(ipcn__tcp_host *h)
{
    if (!h)
        return;
    for (uint32_t i = 0; i < h->nlinger; i++)
        close(h->linger[i].fd);
    ipcn__trust_free(&h->trust);
    ipcn__free(h->trust_path);
    ipcn__noise_wipe(h->priv, sizeof h->priv);
    ipcn__free(h);
}

/* ---- the handshake ---- */

/* Three messages went: key the two directions, learn who the peer is. */
static void hs_done(ipcn_node *n, ipcn__link *l)
{
    struct ipcn__sec *s = l->sec;
    uint8_t hash[IPCN_NOISE_HASH];
    memcpy(l->peer_key, s->hs.rs, sizeof l->peer_key);
    if (ipcn__noise_split(&s->hs, &s->tx, &s->rx, hash) != IPCN_OK) {
        auth_fail(n, l, "handshake did not finish");
        return;
    }
    ipcn__noise_wipe(hash, sizeof hash);
    s->ready = true;
    l->has_peer_key = true;
    l->state = LINK_HELLO;
    int st = admit(n, l);
    if (st == IPCN_OK) {
        ipcn__debug("IPCN-TCP-SECURE", "%s: TCP link %s: host %s", n->name,
                    l->addr, l->who.host);
        ipcn__link_send_hello(n, l);
        return;
    }
    if (st == IPCN_CONFLICT || l->state == LINK_DEAD)
        return; /* the gateway kept another link to that host */
    if (st == IPCN_NETWORK_AUTH_REQUIRED) {
        n->stats.unauthorized++;
        ipcn__warn("IPCN-TCP-UNTRUSTED", "%s: TCP link %s: the host key is "
                   "not in the network's trust list: refused (309)", n->name,
                   l->addr);
        ipcn__link_send_error(n, l, st, "host key not trusted");
    }
    ipcn__link_close(n, l, st, "host key not trusted");
}

/* One handshake message of the peer. */
static bool hs_read(ipcn_node *n, ipcn__link *l, const uint8_t *m, size_t len)
{
    struct ipcn__sec *s = l->sec;
    uint8_t payload[SEC_HS_MAX];
    size_t plen = 0;
    if (ipcn__noise_read_message(&s->hs, m, len, payload, sizeof payload,
                                 &plen) != IPCN_OK) {
        auth_fail(n, l, "handshake message does not authenticate");
        return false;
    }
    if (plen) {
        auth_fail(n, l, "handshake message with a payload");
        return false;
    }
    if (!ipcn__noise_done(&s->hs)) {
        int st = hs_write(l);
        if (st != IPCN_OK) {
            auth_fail(n, l, "handshake message cannot be answered");
            return false;
        }
    }
    if (ipcn__noise_done(&s->hs))
        hs_done(n, l);
    if (l->state != LINK_DEAD)
        ipcn__link_flush(n, l);
    return l->state != LINK_DEAD;
}

static bool rx_reserve(ipcn_node *n, ipcn__link *l, size_t need)
{
    if (l->rx_cap - l->rx_len >= need)
        return true;
    size_t cap = l->rx_len + need;
    if (cap < IPCN_LINK_RX_INITIAL)
        cap = IPCN_LINK_RX_INITIAL;
    uint8_t *p = ipcn__realloc(l->rx, cap);
    if (!p) {
        ipcn__link_close(n, l, IPCN_INSUFFICIENT_MEMORY, "rx buffer");
        return false;
    }
    l->rx = p;
    l->rx_cap = cap;
    return true;
}

/* Take the whole records in `in`: handshake messages, then transport
 * messages decrypted into rx and handed to the frame parser.  False when
 * the link died or reading is paused (what is left stays in `in`). */
static bool take_records(ipcn_node *n, ipcn__link *l)
{
    struct ipcn__sec *s = l->sec;
    size_t pos = 0;
    bool ok = true;
    while (ok) {
        if (l->state == LINK_DEAD || l->rx_paused) {
            ok = false;
            break;
        }
        if (s->in_len - pos < 2)
            break;
        size_t len = (size_t)s->in[pos] << 8 | s->in[pos + 1];
        if (!s->ready && len > SEC_HS_MAX) {
            auth_fail(n, l, "handshake message too long");
            return false;
        }
        if (s->in_len - pos - 2 < len)
            break;
        const uint8_t *m = s->in + pos + 2;
        pos += 2 + len;
        if (!s->ready) {
            ok = hs_read(n, l, m, len);
            continue;
        }
        if (len < IPCN_NOISE_TAG) {
            auth_fail(n, l, "record shorter than its tag");
            return false;
        }
        size_t plen = len - IPCN_NOISE_TAG;
        if (!rx_reserve(n, l, plen))
            return false;
        if (ipcn__noise_decrypt(&s->rx, NULL, 0, m, len, l->rx + l->rx_len) !=
            IPCN_OK) {
            auth_fail(n, l, "record does not authenticate");
            return false;
        }
        ok = ipcn__link_rx_took(n, l, plen);
    }
    if (l->state == LINK_DEAD)
        return false;
    memmove(s->in, s->in + pos, s->in_len - pos);
    s->in_len -= pos;
    return ok;
}

void ipcn__sec_on_readable(ipcn_node *n, ipcn__link *l)
{
    struct ipcn__sec *s = l->sec;
    size_t budget = ipcn__link_read_budget(n->round_ns, l);
    l->rx_pending = false;
    /* Frames decrypted before a pause, then records read before it. */
    if (!ipcn__link_parse_buffered(n, l) || !take_records(n, l))
        return;
    if (s->ready && s->in_cap < SEC_IN_CAP) {
        /* Authenticated: reads may now take several records at once. */
        uint8_t *p = ipcn__realloc(s->in, SEC_IN_CAP);
        if (!p) {
            ipcn__link_close(n, l, IPCN_INSUFFICIENT_MEMORY, "record buffer");
            return;
        }
        s->in = p;
        s->in_cap = SEC_IN_CAP;
    }
    while (l->state != LINK_DEAD && !l->rx_paused && budget > 0) {
        size_t room = s->in_cap - s->in_len; /* > 0: less than a record is left */
        size_t want = room < budget ? room : budget;
        ssize_t r = recv(l->fd, s->in + s->in_len, want, MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            ipcn__link_close(n, l, IPCN_SERVICE_UNAVAILABLE, strerror(errno));
            return;
        }
        if (r == 0) {
            ipcn__link_close(n, l, IPCN_SERVICE_UNAVAILABLE, "hang-up");
            return;
        }
        s->in_len += (size_t)r;
        budget -= (size_t)r < budget ? (size_t)r : budget;
        if (!take_records(n, l))
            return;
        if ((size_t)r < want)
            break;
    }
}

/* As send(): the bytes of the link's queue (from tx_off) that went, in
 * records, all of them written; -1 with errno (EAGAIN while records wait
 * for room); 0 when there is nothing the link may send now. */
ssize_t ipcn__sec_write_some(ipcn_node *n, ipcn__link *l)
{
    struct ipcn__sec *s = l->sec;
    (void)n;
    for (;;) {
        if (s->out_off < s->out_len) {
            ssize_t w = send(l->fd, s->out + s->out_off, s->out_len - s->out_off,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0)
                return -1;
            s->out_off += (size_t)w;
            if (s->out_off < s->out_len) {
                errno = EAGAIN;
                return -1;
            }
        }
        s->out_off = s->out_len = 0;
        size_t avail = l->tx.len - l->tx_off;
        if (s->covered) {
            size_t done = s->covered < avail ? s->covered : avail;
            s->covered = 0;
            if (done)
                return (ssize_t)done;
        }
        if (!s->ready || !avail)
            return 0;
        size_t take = avail < SEC_BATCH * SEC_PT_MAX ? avail : SEC_BATCH * SEC_PT_MAX;
        size_t msgs = (take + SEC_PT_MAX - 1) / SEC_PT_MAX;
        if (!out_reserve(s, take + msgs * (2 + IPCN_NOISE_TAG))) {
            errno = ENOMEM;
            return -1;
        }
        const uint8_t *p = l->tx.p + l->tx_off;
        for (size_t done = 0; done < take;) {
            size_t k = take - done < SEC_PT_MAX ? take - done : SEC_PT_MAX;
            uint8_t *o = s->out + s->out_len;
            put_len(o, k + IPCN_NOISE_TAG);
            if (ipcn__noise_encrypt(&s->tx, NULL, 0, p + done, k, o + 2) !=
                IPCN_OK) {
                /* None of this batch goes (the close's last words would
                 * send it and encrypt the same bytes again). */
                s->out_len = 0;
                l->write_broken = true;
                errno = EIO; /* nonces exhausted or libcrypto failed: the link ends */
                return -1;
            }
            s->out_len += 2 + k + IPCN_NOISE_TAG;
            done += k;
        }
        s->covered = take;
    }
}

static void tune_socket(ipcn_node *n, int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* The kernel's keepalive finds a host that vanished while the link is
     * idle (the heartbeat only watches links that wait for something). */
    int idle = (int)(n->opts.dead_after_ms / 1000u);
    int intvl = idle / 3 > 0 ? idle / 3 : 1;
    int cnt = 3;
    if (idle < 1)
        idle = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

ipcn__link *ipcn__link_new_tcp(ipcn_node *n, int fd, bool outbound,
                               const char *addr)
{
    const uint8_t *key = n->tcp ? n->tcp->priv : NULL;
    ipcn__link *l = key ? ipcn__link_alloc(n, fd, outbound) : NULL;
    if (!l) {
        close(fd);
        return NULL;
    }
    l->kind = LINK_TCP;
    l->state = LINK_SECURE;
    l->router = true;
    /* No kernel word on a process of another host: its principal is the
     * host's name (from the trust list) and the user it says it runs as. */
    l->who.uid = l->who.gid = -1;
    struct ipcn__sec *s = ipcn__calloc(1, sizeof *s);
    l->sec = s;
    l->addr = ipcn__strdup(addr ? addr : "");
    if (!s || !l->addr || !(s->in = ipcn__malloc(SEC_MSG_MAX)))
        goto fail;
    s->in_cap = SEC_MSG_MAX;
    char prologue[sizeof SEC_PROLOGUE + IPCN_NAME_MAX + 1];
    int plen = snprintf(prologue, sizeof prologue, SEC_PROLOGUE "%s", n->network);
    if (plen < 0 || (size_t)plen >= sizeof prologue ||
        ipcn__noise_init_nego(&s->hs, n->tcp ? n->tcp->suites : IPCN_NOISE_CHACHAPOLY,
                              outbound, (const uint8_t *)prologue,
                              (size_t)plen, key) != IPCN_OK)
        goto fail;
    tune_socket(n, fd);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
                             .data.u64 = ipcn__epoll_tag(TAG_LINK, l->id)};
    if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        goto fail;
    ipcn__list_insert_tail(&n->links, &l->node_entry);
    n->nlinks++;
    if (outbound) {
        if (hs_write(l) != IPCN_OK) {
            auth_fail(n, l, "cannot start the handshake");
            return l;
        }
        ipcn__link_flush(n, l); /* waits for the connection if need be */
    }
    return l;
fail:
    close(fd);
    ipcn__sec_free(l);
    ipcn__free(l->addr);
    ipcn__free(l);
    return NULL;
}

void ipcn__sec_free(ipcn__link *l)
{
    struct ipcn__sec *s = l->sec;
    if (!s)
        return;
    ipcn__noise_cipher_clear(&s->tx);
    ipcn__noise_cipher_clear(&s->rx);
    ipcn__noise_wipe(s, offsetof(struct ipcn__sec, in));
    ipcn__free(s->in);
    ipcn__free(s->out);
    ipcn__free(s);
    l->sec = NULL;
}
