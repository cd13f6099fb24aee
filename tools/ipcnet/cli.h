/* SPDX-License-Identifier: MIT */
/*
 * cli.h — what the files of the `ipcnet` command-line tool share.  The tool
 * uses only the public API (ipcnet.h).
 */
#ifndef IPCNET_CLI_H
#define IPCNET_CLI_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipcnet.h"
#include "ipcnet_redundancy.h"
#include "json.h"

#define CLI_MAX_POS 4

/* Exit statuses: 0 success, 1 a failure (its status code is on stderr),
 * 2 the command line was refused (also as "200 Bad Request: ..."). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

typedef struct cli {
    const char *verb;
    /* common options */
    const char *network, *dir, *name;
    const char *ns, *remap;  /* --ns, --remap (ipcn_node_opts.ns, .remap) */
    bool json, raw;
    int wait_ms;             /* cap on waiting for links to the other nodes */
    int timeout_ms;          /* -1: the verb's default */
    /* verb options */
    const char *kind;        /* find --kind */
    double rate;             /* pub --rate (Hz), 0: as fast as possible */
    long long count;         /* -1: unlimited */
    bool echo, dot;
    const char *exec, *png, *encoding, *reply_encoding, *file, *meta;
    const char *rate_mode, *wait_subs, *queue, *delay; /* stream-send/-recv */
    const char *svc_path, *seconds; /* offer-files --path, --seconds */
    bool no_resume;          /* get-file --no-resume */
    bool strict;             /* policy check --strict */
    const char *policy, *as; /* policy explain --policy, --as */
    uint64_t expect_version; /* set --expect-version (0: any) */
    long window;             /* hz --window */
    int exec_timeout_ms;
    const char *group;       /* network create --group (--policy: above) */
    bool traffic;            /* nodes --traffic */
    const char *only_node;   /* nodes --node, quarantine --node */
    bool all;                /* quarantine list --all */
    const char *manifest;    /* shutdown, install, rollback, versions --manifest */
    const char *reason;      /* shutdown --reason */
    const char *compromised; /* shutdown --compromised */
    const char *store;       /* --store (the versions store's root) */
    const char *version_id;  /* install --id */
    bool config;             /* --config: COMPONENT.config */
    /* several providers (cmd_redundancy.c) */
    bool owned;              /* pub, hold: --strength or --warm given */
    int32_t strength;        /* pub, hold --strength */
    bool warm;               /* pub, hold --warm */
    bool vote;               /* call --vote (call --all: `all` above) */
    uint32_t quorum;         /* call --quorum (0: a majority) */
    double tolerance;        /* call --tolerance */
    uint64_t request_id;     /* call --id (0: none) */
    bool at_most_once;       /* offer --at-most-once */
    const char *listen, *peers; /* gateway --listen, --peers */
    bool force;              /* keygen --force */
    const char *pos[CLI_MAX_POS];
    int npos;
    /* state */
    ipcn_node *node;
    char node_name[80];
} cli;

/* ---- common.c ---- */
extern volatile sig_atomic_t cli_stop;  /* SIGINT or SIGTERM came */
extern bool cli_stdout_broken;          /* writing to stdout failed */
extern int cli_stdout_errno;            /* why (EPIPE: the reader left) */

/* Print "<code> <Name>: <message>" on stderr; returns EXIT_FAIL (or
 * EXIT_USAGE for usage errors, see cli_usage_error). */
int cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_usage_error(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* printf to stdout; notes a broken stdout in cli_stdout_broken. */
void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_flush(void);
void out_broken(void);                  /* note a failed write (errno) */
void emit(jw *w);                       /* jw_emit() unless stdout failed */

/* SIGINT/SIGTERM set cli_stop and wake cli_pump(); SIGPIPE is ignored. */
void cli_catch_signals(void);

/* Open the node (name from --name or "ipcnet-cli.<pid>").  Returns 0 or
 * the exit status after printing why. */
int cli_open(cli *c);
void cli_close(cli *c);
/* PATH as the open node puts it on the wire (its namespace and remap
 * rules; README "Names"), for people; PATH itself when it does not
 * resolve.  A static buffer: use it before the next call. */
const char *cli_wire_path(cli *c, const char *path);

/* Wait (dispatching) until every other live node of the network is linked
 * and has told us its resources, or until c->wait_ms.  With want_path,
 * return as soon as that path is known.  Returns 0 (also when a signal
 * set cli_stop). */
int cli_discover(cli *c, const char *want_path);

/* One round of the event loop: poll the node's fd, the signal pipe and
 * extra fds for up to timeout_ms, then dispatch the node if it has work.
 * extra[i].revents is filled in.  Returns the status of the dispatch or
 * 103 when it did not run. */
int cli_pump(cli *c, int timeout_ms, struct pollfd *extra, int nextra);

const char *kind_name(ipcn_kind k);

/* ---- value.c ---- */
bool enc_is_json(const char *enc);
bool enc_is_text(const char *enc);
bool enc_is_cbor(const char *enc);   /* "cbor", "application/cbor" */
bool enc_is_tensor(const char *enc); /* "tensor" */
/* The value to send: VALUE (JSON, sent as CBOR with encoding "cbor"; with
 * --encoding application/json as JSON text; other encodings as its bytes),
 * or --file (checked when --encoding is cbor or tensor).  Returns 0, or the
 * exit status after printing why (200 for invalid JSON or CBOR). */
int value_from_args(cli *c, const char *arg, sbuf *out, const char **enc);
/* A value for a person.  oneline: JSON compact and text on one line. */
void value_text(sbuf *b, const char *enc, const void *data, size_t len,
                bool oneline);
/* "encoding", "size" and "value" (JSON, or a string for text, or null and
 * "xxh3" for binary data) into the current object. */
void value_json(jw *w, const char *enc, const void *data, size_t len);
/* Write the bytes as they are to stdout.  Returns 0 or -1. */
int value_raw(const void *data, size_t len);
/* Read a whole file ("-": stdin).  Returns 0 or -1 (errno). */
int read_file(const char *path, sbuf *out);
/* sensor_text.c: an image or point cloud (ipcnet_sensor.h) as one line of
 * text, or as the "value" of a JSON object; false when it is none. */
bool sensor_text(sbuf *b, const char *enc, const void *data, size_t len);
bool sensor_json(jw *w, const char *enc, const void *data, size_t len);

/* ---- cmd_dir.c, shared with cmd_graph.c ---- */
const char *cli_network_name(cli *c);   /* the network's directory name */
int cli_list_peers(cli *c, ipcn_peer_list **pl);  /* 0 or exit status */
int cli_find(cli *c, const char *pattern, ipcn_kind kind,
             ipcn_resource_list **rl);   /* 0 or exit status */

/* ---- the verbs ---- */
int cmd_nodes(cli *c);
int cmd_find(cli *c);
int cmd_info(cli *c);
int cmd_graph(cli *c);
int cmd_hold(cli *c);
int cmd_set(cli *c);
int cmd_query(cli *c);
int cmd_pub(cli *c);
int cmd_echo(cli *c);
int cmd_hz(cli *c);
int cmd_offer(cli *c);
int cmd_call(cli *c);
int cmd_json2cbor(cli *c);
int cmd_cbor2json(cli *c);
int cmd_stream_send(cli *c);    /* cmd_media.c */
int cmd_stream_recv(cli *c);
extern const char cmd_stream_send_help[], cmd_stream_recv_help[];
int cmd_offer_files(cli *c);   /* cmd_files.c */
int cmd_get_file(cli *c);
int cmd_network(cli *c);       /* cmd_network.c */
extern const char cmd_offer_files_help[], cmd_get_file_help[];
int cmd_policy(cli *c);        /* cmd_policy.c */
extern const char cmd_policy_help[];
/* `nodes --traffic` (cmd_traffic.c), with the peers already listed. */
int cmd_nodes_traffic(cli *c, const ipcn_peer_list *pl);
int cmd_quarantine(cli *c);    /* cmd_quarantine.c */
extern const char cmd_quarantine_help[];
int cmd_shutdown(cli *c);      /* cmd_shutdown.c */
extern const char cmd_shutdown_help[];
int cmd_install(cli *c);       /* cmd_versions.c */
int cmd_rollback(cli *c);
int cmd_versions(cli *c);
extern const char cmd_install_help[], cmd_rollback_help[], cmd_versions_help[];
int cmd_owner(cli *c);         /* cmd_redundancy.c */
extern const char cmd_owner_help[];
/* `call --all | --vote | --id N`: the request to several providers (or a
 * retry), every answer printed.  Returns the exit status. */
int call_modes(cli *c, const char *path, const void *data, size_t len, const char *enc);
int cmd_gateway(cli *c);       /* cmd_gateway.c */
extern const char cmd_gateway_help[];
int cmd_links(cli *c);         /* cmd_hosts.c: several computers */
int cmd_route(cli *c);
extern const char cmd_links_help[], cmd_route_help[];
/* ---- cmd_prov.c ---- */
int cmd_prov(cli *c);
int cmd_trace(cli *c);
extern const char cmd_prov_help[], cmd_trace_help[];
/* The host of a node name "name@host" ("" for a node of this host). */
const char *cli_host_of(const char *name);
/* A TCP link of a node of this host (a gateway) to another host. */
typedef struct cli_hlink {
    char *from, *to, *host, *addr; /* to: "name@host" */
    uint64_t rtt_ns;
} cli_hlink;
/* The TCP links of the nodes of this host in pl, asked of each through
 * @sys/<node>/links (a node that does not answer is left out).  0, or
 * the exit status after saying why (out of memory). */
int cli_host_links(cli *c, const ipcn_peer_list *pl, cli_hlink **out,
                   size_t *count);
void cli_host_links_free(cli_hlink *a, size_t count);
int cmd_keygen(cli *c);        /* cmd_keys.c */
int cmd_trust(cli *c);
extern const char cmd_keygen_help[], cmd_trust_help[];
int cmd_up(cli *c);            /* cmd_up.c: `ipcnet up`, `ipcnet ps` */
int cmd_ps(cli *c);
extern const char cmd_up_help[], cmd_ps_help[];
/* rec_args.c, cmd_record.c, cmd_play.c: recording and replay (rec.h) */
int cmd_record(cli *c);
int cmd_play(cli *c);
extern const char cmd_record_help[], cmd_play_help[];
int cli_rec_run(int (*fn)(cli *), int argc, char **argv, int vi);
bool cli_rec_is_info(int argc, char **argv, int vi);
/* cmd_data.c: a queried value as query prints it (--raw, --json, text);
 * version adds its version and time to the JSON. */
void cli_show_value(cli *c, const ipcn_msg *m, bool version);
int cmd_history(cli *c);       /* cmd_history.c: `ipcnet history` */
extern const char cmd_history_help[];

/* ---- cmd_bridge.c ---- */
/* `ipcnet bridge KIND ...`: exec ipcnet-bridge-KIND (argv[vi] is "bridge"). */
int cmd_bridge_main(int argc, char **argv, int vi);

#endif
