/* SPDX-License-Identifier: MIT */
/*
 * net_node.c — the node the multi-host tests (tests/net/) start on a host
 * where they need counters that the ipcnet tool does not print: a
 * publisher of numbered samples, a subscriber that checks them exactly
 * once and in order per publisher, and (with the gateway of issue 18) a
 * gateway whose node counters (auth failures, unauthorised peers, loops)
 * it writes down.
 *
 *   ipcn-net-node NAME LIFETIME_S [key=value...]
 *   ipcn-net-node --features     prints "gateway" and "routing", one a
 *                                line, for what this build has
 *     gateway=1     make the node a gateway (ipcn_node_gateway(): listen,
 *                   peers and keys from the environment, IPCNET_LISTEN,
 *                   IPCNET_PEERS, IPCNET_CONFIG_DIR, as `ipcnet gateway`)
 *     pub=PATH      announce the stream PATH; once a node whose name
 *                   contains wait_sub (default "@": a node of another
 *                   host) subscribes to it, publish count=N samples
 *                   (default 10000) at rate=HZ (default 1000; 0: as fast
 *                   as the node takes them), then go on living; count=0:
 *                   until SIGTERM
 *     sub=PATTERN   subscribe; each sample is "k=K h=H" from its publisher:
 *                   K counts from 1, H a hash of K and the publisher's
 *                   name; exit 0 once pubs=M publishers (default 1) each
 *                   sent its sample K = until=N (when until is given)
 *     stats=FILE    the counters (below), rewritten every 200 ms, at exit
 *     hb=, dead=, probe=   node options (l_common.h)
 *
 * The counters, one "key value" per line: node stats (peers, drops,
 * peers_lost, frames_in, frames_out,
 * auth_failures, unauthorized, loops, dups, bad_gateway: the last ones
 * when the library has them), tcp_links (linked now), published; per
 * publisher P seen: "P.count", "P.first", "P.last", "P.gaps" (samples
 * missing between two that came), "P.back" (a K not above the last one: a
 * duplicate or a reordering), "P.bad" (a payload that is not what P sent);
 * and the subscription's own: sub_received, sub_lost, sub_dropped,
 * sub_resets.  Exit: 0; 3 the node did not open; 4 the gateway or the
 * announcement failed (the status on stderr); 77 gateway=1 but the
 * library has no gateway.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet.h"
#ifdef IPCN_NET_HAVE_GATEWAY
#include "ipcnet_hosts.h"
#endif
#include "l_common.h"

#define MAX_PUBS 32

struct pubseen {
    char name[128];
    uint64_t count, first, last, gaps, back, bad;
};

static struct {
    pthread_mutex_t mu;
    struct pubseen pubs[MAX_PUBS];
    unsigned npubs;
    uint64_t published, unknown_pubs;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* FNV-1a of the publisher's name and K: a payload that is not what its
 * publisher sent is seen. */
static uint64_t payload_hash(const char *pub, uint64_t k)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = pub; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    for (int i = 0; i < 8; i++)
        h = (h ^ ((k >> (8 * i)) & 0xff)) * 0x100000001b3ull;
    return h;
}

/* The publisher's own name, as its payload's hash was made with: the
 * subscriber sees "name@host" for a node of another host. */
static void bare_name(const char *src, char *out, size_t cap)
{
    snprintf(out, cap, "%s", src);
    char *at = strchr(out, '@');
    if (at)
        *at = '\0';
}

static void on_sample(ipcn_node *node, const ipcn_msg *msg, void *user)
{
    (void)node, (void)user;
    if (msg->status != IPCN_OK)
        return; /* a provider gone: the counters say what it cost */
    unsigned long long k = 0, h = 0;
    char bare[128];
    bare_name(msg->src_name ? msg->src_name : "", bare, sizeof bare);
    bool good = sscanf((const char *)msg->data, "k=%llu h=%llx", &k, &h) == 2 &&
                h == payload_hash(bare, k);
    pthread_mutex_lock(&g.mu);
    struct pubseen *p = NULL;
    for (unsigned i = 0; i < g.npubs && !p; i++)
        if (!strcmp(g.pubs[i].name, msg->src_name))
            p = &g.pubs[i];
    if (!p && g.npubs < MAX_PUBS) {
        p = &g.pubs[g.npubs++];
        snprintf(p->name, sizeof p->name, "%s", msg->src_name);
    }
    if (!p) {
        g.unknown_pubs++;
    } else if (!good) {
        p->bad++;
    } else {
        if (!p->count)
            p->first = k;
        else if (k <= p->last)
            p->back++;
        else
            p->gaps += k - p->last - 1;
        if (k > p->last)
            p->last = k;
        p->count++;
    }
    pthread_mutex_unlock(&g.mu);
}

static void write_stats(ipcn_node *n, const char *file, ipcn_sub *sub)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    ipcn_node_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    if (ipcn_node_get_stats(n, &st) == IPCN_OK) {
        fprintf(f, "peers %u\ndrops %llu\npeers_lost %llu\nframes_in %llu\n"
                   "frames_out %llu\n", st.peers,
                (unsigned long long)st.drops, (unsigned long long)st.peers_lost,
                (unsigned long long)st.frames_in,
                (unsigned long long)st.frames_out);
#ifdef IPCN_NET_HAVE_GATEWAY
        fprintf(f, "auth_failures %llu\nunauthorized %llu\n",
                (unsigned long long)st.auth_failures,
                (unsigned long long)st.unauthorized);
#endif
#ifdef IPCN_NET_HAVE_ROUTING
        fprintf(f, "loops %llu\ndups %llu\nbad_gateway %llu\n",
                (unsigned long long)st.loops, (unsigned long long)st.dups,
                (unsigned long long)st.bad_gateway);
#endif
    }
#ifdef IPCN_NET_HAVE_GATEWAY
    ipcn_link_info *links = NULL;
    size_t nlinks = 0, tcp = 0;
    if (ipcn_links(n, &links, &nlinks) == IPCN_OK) {
        for (size_t i = 0; i < nlinks; i++)
            if (links[i].kind == IPCN_LINK_TCP)
                tcp++;
        ipcn_links_free(links, nlinks);
        fprintf(f, "tcp_links %zu\n", tcp);
    }
#endif
    pthread_mutex_lock(&g.mu);
    fprintf(f, "published %llu\nunknown_pubs %llu\npubs %u\n",
            (unsigned long long)g.published,
            (unsigned long long)g.unknown_pubs, g.npubs);
    for (unsigned i = 0; i < g.npubs; i++) {
        const struct pubseen *p = &g.pubs[i];
        fprintf(f, "%s.count %llu\n%s.first %llu\n%s.last %llu\n"
                   "%s.gaps %llu\n%s.back %llu\n%s.bad %llu\n",
                p->name, (unsigned long long)p->count, p->name,
                (unsigned long long)p->first, p->name,
                (unsigned long long)p->last, p->name,
                (unsigned long long)p->gaps, p->name,
                (unsigned long long)p->back, p->name,
                (unsigned long long)p->bad);
    }
    pthread_mutex_unlock(&g.mu);
    ipcn_sub_stats ss;
    memset(&ss, 0, sizeof ss);
    ss.size = sizeof ss;
    if (sub && ipcn_sub_get_stats(n, *sub, &ss) == IPCN_OK)
        fprintf(f, "sub_received %llu\nsub_lost %llu\nsub_dropped %llu\n"
                   "sub_resets %llu\n",
                (unsigned long long)ss.received, (unsigned long long)ss.lost,
                (unsigned long long)ss.dropped, (unsigned long long)ss.resets);
    if (fclose(f) == 0)
        rename(tmp, file);
}

/* Has a node whose name contains want subscribed to path? */
static bool subscribed(ipcn_node *n, const char *path, const char *want)
{
    ipcn_subscription_list *l = NULL;
    bool yes = false;
    if (ipcn_subscriptions(n, &l) != IPCN_OK)
        return false;
    for (size_t i = 0; i < l->count && !yes; i++)
        yes = l->items[i].node_id != ipcn_node_id(n) &&
              strstr(l->items[i].node, want) &&
              ipcn_pattern_match(l->items[i].pattern, path) == 1;
    ipcn_subscription_list_free(l);
    return yes;
}

static bool sub_done(unsigned want_pubs, uint64_t until)
{
    if (!until)
        return false;
    unsigned done = 0;
    pthread_mutex_lock(&g.mu);
    for (unsigned i = 0; i < g.npubs; i++)
        done += g.pubs[i].last >= until;
    pthread_mutex_unlock(&g.mu);
    return done >= want_pubs;
}

static int make_gateway(ipcn_node *n)
{
#ifdef IPCN_NET_HAVE_GATEWAY
    ipcn_gateway_opts go;
    ipcn_gateway_opts_init(&go);
    int st = ipcn_node_gateway(n, &go);
    if (st != IPCN_OK) {
        fprintf(stderr, "net_node: gateway: %d %s\n", st, ipcn_status_str(st));
        return 4;
    }
    return 0;
#else
    (void)n;
    fprintf(stderr, "net_node: this library has no gateway (issue 18)\n");
    return 77;
#endif
}

/* Publish sample k of this node on path. */
static void publish_k(ipcn_node *n, const char *path, uint64_t k)
{
    char v[96];
    int len = snprintf(v, sizeof v, "k=%llu h=%llx", (unsigned long long)k,
                       (unsigned long long)payload_hash(ipcn_node_name(n), k));
    if (ipcn_publish(n, path, v, (size_t)len + 1) == IPCN_OK) {
        pthread_mutex_lock(&g.mu);
        g.published = k;
        pthread_mutex_unlock(&g.mu);
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--features")) {
        /* What the tests may ask of it (the library it was built with). */
#ifdef IPCN_NET_HAVE_GATEWAY
        printf("gateway\n");
#endif
#ifdef IPCN_NET_HAVE_ROUTING
        printf("routing\n");
#endif
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: %s name lifetime_s [key=value...]\n", argv[0]);
        return 2;
    }
    l_helper_setup((unsigned)atoi(argv[2]));
    const char *pub = l_opt(argc, argv, "pub", NULL);
    const char *pat = l_opt(argc, argv, "sub", NULL);
    const char *stats = l_opt(argc, argv, "stats", NULL);
    const char *want = l_opt(argc, argv, "wait_sub", "@");
    uint64_t count = (uint64_t)l_opt_long(argc, argv, "count", 10000);
    long rate = l_opt_long(argc, argv, "rate", 1000);
    unsigned want_pubs = (unsigned)l_opt_long(argc, argv, "pubs", 1);
    uint64_t until = (uint64_t)l_opt_long(argc, argv, "until", 0);
    ipcn_node_opts o;
    l_node_opts(&o, argc, argv);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, argv[1], &o);
    if (st != IPCN_OK) {
        fprintf(stderr, "net_node %s: open: %d %s\n", argv[1], st,
                ipcn_status_str(st));
        return 3;
    }
    int rc = 0;
    if (l_opt_long(argc, argv, "gateway", 0))
        rc = make_gateway(n);
    ipcn_sub sub = {0}, *subp = NULL;
    if (!rc && pat &&
        ipcn_subscribe(n, pat, 1u << 16, on_sample, NULL, &sub) == IPCN_OK)
        subp = &sub;
    if (!rc && pub) {
        st = ipcn_announce(n, pub, IPCN_STREAM, "text/plain", NULL, 0);
        if (!IPCN_IS_OK(st)) {
            fprintf(stderr, "net_node: announce %s: %d\n", pub, st);
            rc = 4;
        }
    }
    if (!rc && ipcn_node_start_thread(n) != IPCN_OK)
        rc = 4;
    if (rc) {
        ipcn_node_close(n);
        return rc;
    }
    printf("ready %s\n", ipcn_node_name(n));
    uint64_t k = 0, t0 = 0, last_stats = 0;
    bool publishing = false;
    while (!l_term && !(subp && sub_done(want_pubs, until))) {
        uint64_t now = l_now_ms();
        if (pub && !publishing && subscribed(n, pub, want)) {
            publishing = true;
            t0 = now;
            printf("publishing\n");
        }
        if (publishing && (!count || k < count)) {
            /* Paced on the clock, not on the sleeps: rate samples a second
             * on average, in bursts of up to 1 ms worth. */
            uint64_t due = rate > 0 ? (now - t0) * (uint64_t)rate / 1000 + 1 : k + 64;
            while (k < due && (!count || k < count))
                publish_k(n, pub, ++k);
            if (count && k == count)
                printf("published %llu\n", (unsigned long long)k);
        }
        if (stats && now - last_stats >= 200) {
            write_stats(n, stats, subp);
            last_stats = now;
        }
        l_sleep_ms(publishing ? 1 : 20);
    }
    if (stats)
        write_stats(n, stats, subp);
    ipcn_node_close(n);
    return 0;
}
