/* SPDX-License-Identifier: MIT */
/*
 * main.c — `ipcnet VERB [ARGS] [options]`: the command line, the help
 * texts, and the table of verbs.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum opt_id {
    O_NETWORK, O_DIR, O_NAME, O_JSON, O_WAIT, O_HELP,
    O_RAW, O_TIMEOUT, O_KIND, O_RATE, O_COUNT, O_ECHO, O_EXEC, O_EXEC_TIMEOUT,
    O_DOT, O_PNG, O_ENCODING, O_REPLY_ENCODING, O_FILE, O_META, O_WINDOW,
    O_WAIT_SUBS, O_QUEUE, O_DELAY,
    O_SVC_PATH, O_SECONDS, O_NO_RESUME,
    O_STRICT, O_POLICY, O_AS, O_GROUP,
    O_EXPECT_VERSION,
    O_TRAFFIC, O_NODE, O_ALL,
    O_MANIFEST, O_REASON, O_STORE, O_VERSION_ID, O_CONFIG, O_COMPROMISED,
    O_STRENGTH, O_WARM, O_VOTE, O_QUORUM, O_TOLERANCE, O_AT_MOST_ONCE,
    O_LISTEN, O_PEERS,
    O_FORCE,
    O_NS, O_REMAP,
    O_HIST_VERSION, /* history --version */
};

typedef struct opt {
    const char *name;
    bool arg;
    enum opt_id id;
} opt;

static const opt opts[] = {
    {"--network", true, O_NETWORK},   {"--dir", true, O_DIR},
    {"--name", true, O_NAME},         {"--json", false, O_JSON},
    {"--wait", true, O_WAIT},         {"--help", false, O_HELP},
    {"-h", false, O_HELP},            {"--raw", false, O_RAW},
    {"--timeout", true, O_TIMEOUT},   {"--kind", true, O_KIND},
    {"--rate", true, O_RATE},         {"--count", true, O_COUNT},
    {"--echo", false, O_ECHO},        {"--exec", true, O_EXEC},
    {"--exec-timeout", true, O_EXEC_TIMEOUT},
    {"--dot", false, O_DOT},          {"--png", true, O_PNG},
    {"--encoding", true, O_ENCODING}, {"--reply-encoding", true, O_REPLY_ENCODING},
    {"--file", true, O_FILE},         {"--meta", true, O_META},
    {"--window", true, O_WINDOW},
    {"--wait-subs", true, O_WAIT_SUBS}, {"--queue", true, O_QUEUE}, {"--delay", true, O_DELAY},
    {"--path", true, O_SVC_PATH},     {"--seconds", true, O_SECONDS},
    {"--no-resume", false, O_NO_RESUME},
    {"--strict", false, O_STRICT},    {"--policy", true, O_POLICY},
    {"--as", true, O_AS},
    {"--expect-version", true, O_EXPECT_VERSION},
    {"--group", true, O_GROUP},
    {"--traffic", false, O_TRAFFIC},  {"--node", true, O_NODE},
    {"--all", false, O_ALL},
    {"--manifest", true, O_MANIFEST}, {"--reason", true, O_REASON},
    {"--compromised", true, O_COMPROMISED},
    {"--store", true, O_STORE},
    {"--id", true, O_VERSION_ID},     {"--config", false, O_CONFIG},
    {"--strength", true, O_STRENGTH}, {"--warm", false, O_WARM},
    {"--vote", false, O_VOTE},        {"--quorum", true, O_QUORUM},
    {"--tolerance", true, O_TOLERANCE},
    {"--at-most-once", false, O_AT_MOST_ONCE},
    {"--listen", true, O_LISTEN},     {"--peers", true, O_PEERS},
    {"--force", false, O_FORCE},
    {"--ns", true, O_NS},             {"--remap", true, O_REMAP},
    {"--version", true, O_HIST_VERSION},
};

#define B(x) (1ull << (x))
#define COMMON (B(O_NETWORK) | B(O_DIR) | B(O_NAME) | B(O_JSON) | B(O_WAIT) | B(O_HELP) | \
                B(O_NS) | B(O_REMAP))

typedef struct verb {
    const char *name;
    int (*fn)(cli *);
    uint64_t opts;
    int min_pos, max_pos;
    bool value;           /* the last positional is VALUE, or --file */
    const char *summary;
    const char *help;
} verb;

static const verb verbs[] = {
    {"nodes", cmd_nodes, COMMON | B(O_TRAFFIC) | B(O_NODE) | B(O_TIMEOUT), 0, 0, false,
     "the nodes of the network: name, id, pid, criticality, ready, user, executable, uptime",
     "usage: ipcnet nodes [--traffic] [--node NAME] [options]\n\n"
     "List the other nodes of the network: name, host ('local' for this host's;\n"
     "a node of another computer is named name@host), id, pid, the criticality each said\n"
     "it has (CRIT: optional, important, critical, or '-' when it said none; its\n"
     "$IPCNET_CRITICALITY) and whether it said it is ready (READY: ipcn_node_ready();\n"
     "the serving verbs of this tool say so once they serve), how many resources each\n"
     "announced, how long its process has run (from /proc), the counters of this\n"
     "tool's own link with it (frames and bytes in and out, bad frames refused,\n"
     "samples dropped), and its principal as the kernel told it when the link\n"
     "started: user (name and uid), supplementary groups, executable (its path,\n"
     "and the first 12 hex digits of its SHA-256; --json gives all 64).  The\n"
     "executable of another user's process is '-' unless this tool runs as root.\n\n"
     "  --traffic       instead, what each node's peers send it, as that node sees\n"
     "                  it (asked of its node service @sys/<node>/traffic): per\n"
     "                  peer, path and verb (request, query, set, sample) the\n"
     "                  normal rate (weighted over seconds), the rate of the last\n"
     "                  second, the mean size, the count, and ANOMALY while the\n"
     "                  rate is over the network policy's anomaly bound (detect:\n"
     "                  anomaly: {factor: F, for: T}).  The policy decides who may\n"
     "                  call @sys/ services (read and execute): 202 or 203 if not\n"
     "  --node NAME     only the node NAME\n"
     "  --timeout MS    --traffic: give up on a node after MS ms (default 5000)\n"},
    {"find", cmd_find, COMMON | B(O_KIND), 0, 1, false,
     "resources matching PATTERN (default **) with kind, encoding, provider",
     "usage: ipcnet find [PATTERN] [--kind data|stream|service] [options]\n\n"
     "List the resources whose path matches PATTERN (default '**', all): path,\n"
     "kind, encoding, providing node and its host ('local', or another computer's).  In patterns '*' stands for one path\n"
     "segment and '**' for any number.  No match is not an error.\n\n"
     "  --kind KIND     only data, stream or service resources\n"},
    {"info", cmd_info, COMMON, 1, 1, false,
     "one resource's whole descriptor, metadata included",
     "usage: ipcnet info PATH [options]\n\n"
     "Print the descriptor of the resource at PATH: kind, encoding, provider (name,\n"
     "id, pid), version and metadata (decoded when it is CBOR, else in hex).  A\n"
     "service offered by several nodes prints one descriptor per provider.  A typed\n"
     "resource's type (a data or stream 'schema', a service's 'args' and 'returns')\n"
     "prints as a tree of field types and names, as 'ros2 interface show' does.\n"
     "'ipcnet info FILE.mcap' summarises a recording instead (ipcnet record).\n"},
    {"hold", cmd_hold,
     COMMON | B(O_ENCODING) | B(O_FILE) | B(O_META) | B(O_STRENGTH) | B(O_WARM), 1, 2, true,
     "announce a data resource holding VALUE and serve it until interrupted",
     "usage: ipcnet hold PATH VALUE [options]\n\n"
     "Announce a data resource at PATH whose value is VALUE and answer queries for\n"
     "it until Ctrl-C or SIGTERM, then withdraw it (others may change its value\n"
     "meanwhile with 'ipcnet set').  VALUE is JSON and travels as CBOR (encoding\n"
     "'cbor').  Prints a line when it is ready.\n\n"
     "  --encoding ENC  send VALUE's bytes as they are, with this encoding\n"
     "                  (application/json: the JSON text; cbor: VALUE as CBOR)\n"
     "  --file FILE     the value is FILE's bytes ('-': stdin); encoding\n"
     "                  application/octet-stream unless --encoding\n"
     "  --meta JSON     the descriptor's metadata (sent as a CBOR map); its key\n"
     "                  \"schema\" types the values (ipcnet_schema.h)\n"
     "  --strength N    one of several providers of PATH (an owned path): the\n"
     "                  strongest live one answers; of equal strengths, the node\n"
     "                  whose name sorts first (see 'ipcnet owner')\n"
     "  --warm          with --strength: a warm standby, which holds no value\n"
     "                  until it owns PATH (then VALUE)\n"},
    {"set", cmd_set,
     COMMON | B(O_TIMEOUT) | B(O_ENCODING) | B(O_FILE) | B(O_EXPECT_VERSION), 1, 2, true,
     "set the value of a data resource another node holds (a parameter)",
     "usage: ipcnet set PATH VALUE [--expect-version N] [options]\n\n"
     "Set the value of the data resource at PATH, held by another node, to VALUE\n"
     "and print its new version.  Its provider may check the value and refuse\n"
     "it.  The value is encoded as the resource's encoding: JSON as CBOR for cbor\n"
     "(and when the encoding is unknown), the JSON text for application/json,\n"
     "VALUE's bytes for any other.  The version of a data resource is the\n"
     "sequence number of its value, which every change raises.  A refusal prints\n"
     "its status on stderr and exits 1.\n\n"
     "  --expect-version N  set only if the version is still N (else 207\n"
     "                  Conflict, which names the current version); 0: any\n"
     "  --encoding ENC  send VALUE's bytes as they are, with this encoding\n"
     "  --file FILE     the value is FILE's bytes ('-': stdin)\n"
     "  --timeout MS    give up after MS milliseconds (default 5000)\n"},
    {"query", cmd_query, COMMON | B(O_TIMEOUT) | B(O_RAW), 1, 1, false,
     "print a data resource's current value",
     "usage: ipcnet query PATH [options]\n\n"
     "Ask the provider of the data resource at PATH for its current value and\n"
     "print it.  CBOR and JSON print as JSON, tensors as dtype, shape and the first\n"
     "values, text as itself, other values as a summary (encoding, size, XXH3-64\n"
     "hash).\n\n"
     "  --timeout MS    give up after MS milliseconds (default 2000)\n"
     "  --raw           write the value's bytes to stdout as they are\n"},
    {"pub", cmd_pub,
     COMMON | B(O_RATE) | B(O_COUNT) | B(O_ENCODING) | B(O_FILE) | B(O_META) | B(O_STRENGTH) |
         B(O_WARM), 1, 2, true,
     "announce a stream and publish VALUE to it",
     "usage: ipcnet pub PATH VALUE [--rate HZ] [--count N] [options]\n\n"
     "Announce a stream at PATH and publish VALUE on it, HZ times a second, until\n"
     "N samples are out or Ctrl-C / SIGTERM; then withdraw it.  VALUE is JSON,\n"
     "sent as CBOR (encoding 'cbor').\n\n"
     "  --rate HZ       samples per second (default 1; 0: as fast as possible)\n"
     "  --count N       stop after N samples (default: until interrupted)\n"
     "  --encoding ENC  send VALUE's bytes as they are, with this encoding\n"
     "  --file FILE     the sample is FILE's bytes ('-': stdin)\n"
     "  --meta JSON     the descriptor's metadata (default {\"rate\": HZ}); its\n"
     "                  key \"schema\" types the samples (ipcnet_schema.h)\n"
     "  --strength N    one of several publishers of PATH (an owned path):\n"
     "                  subscribers take the samples of the strongest live one\n"
     "                  and drop (and count) the others'; when it goes, the next\n"
     "                  takes over (see 'ipcnet owner')\n"
     "  --warm          with --strength: a warm standby, which publishes nothing\n"
     "                  until it owns PATH (its samples are skipped meanwhile,\n"
     "                  and not counted in --count)\n"},
    {"echo", cmd_echo, COMMON | B(O_COUNT) | B(O_RAW) | B(O_TIMEOUT), 1, 1, false,
     "subscribe to PATTERN and print samples as they come",
     "usage: ipcnet echo PATTERN [--count N] [options]\n\n"
     "Subscribe to every stream and data resource matching PATTERN, now and\n"
     "later, and print each sample as 'path: value' (one JSON document per sample\n"
     "with --json) until N samples came or Ctrl-C / SIGTERM.  A provider that\n"
     "goes away is reported on stderr.  Before the first sample of a typed\n"
     "resource from each provider, its type prints as a tree of field types and\n"
     "names, each line after '# '.\n\n"
     "  --count N       stop after N samples\n"
     "  --timeout MS    fail with 304 when no sample came for MS milliseconds\n"
     "  --raw           write the samples' bytes to stdout as they are\n"},
    {"hz", cmd_hz, COMMON | B(O_COUNT) | B(O_WINDOW) | B(O_TIMEOUT), 1, 1, false,
     "measured rate, jitter and bandwidth of the streams matching PATTERN",
     "usage: ipcnet hz PATTERN [options]\n\n"
     "Subscribe to PATTERN and print, every second and for each matching path,\n"
     "the measured rate, the shortest and longest interval between samples, the\n"
     "jitter (standard deviation of the intervals), the bandwidth and the samples\n"
     "missed (gaps in the sequence numbers: lost upstream or dropped here), over\n"
     "the last samples received.  Intervals are taken from the\n"
     "samples' publication times (the publisher's clock, the same host's).\n\n"
     "  --window N      samples the figures are computed over (default 1000)\n"
     "  --count N       stop after N reports with new samples\n"
     "  --timeout MS    fail with 304 when no sample came in MS milliseconds\n"},
    {"offer", cmd_offer,
     COMMON | B(O_ECHO) | B(O_EXEC) | B(O_EXEC_TIMEOUT) | B(O_ENCODING) |
         B(O_REPLY_ENCODING) | B(O_COUNT) | B(O_AT_MOST_ONCE), 1, 1, false,
     "offer a service that echoes its argument or runs a command",
     "usage: ipcnet offer PATH (--echo | --exec CMD) [options]\n\n"
     "Offer a service at PATH until Ctrl-C or SIGTERM, printing a line per request.\n"
     "  --echo          answer each request with its own value\n"
     "  --exec CMD      run 'sh -c CMD' per request, the request's bytes on its\n"
     "                  stdin (a CBOR request as JSON text); exit status 0\n"
     "                  answers 100 OK with its stdout (as CBOR when it is JSON,\n"
     "                  else text/plain), any\n"
     "                  other 300 Internal Process Error with its stderr.  The\n"
     "                  environment holds IPCNET_REQUEST_PATH, _FROM, _ENCODING.\n"
     "  --exec-timeout MS  kill CMD after MS ms and answer 304 (default 10000)\n"
     "  --reply-encoding ENC  the encoding of CMD's answers\n"
     "  --encoding ENC  the announced encoding of requests (cbor)\n"
     "  --count N       stop after answering N requests\n"
     "  --at-most-once  a request its requester (a process) retries with the\n"
     "                  same id is answered from a cache, not run again (30 s)\n"},
    {"call", cmd_call,
     COMMON | B(O_TIMEOUT) | B(O_RAW) | B(O_ENCODING) | B(O_FILE) | B(O_ALL) | B(O_VOTE) |
         B(O_QUORUM) | B(O_TOLERANCE) | B(O_VERSION_ID), 1, 2,
     false, "request a service with VALUE and print the answer (or every provider's)",
     "usage: ipcnet call PATH [VALUE] [--timeout MS] [options]\n"
     "       ipcnet call PATH [VALUE] (--all | --vote [--quorum K] [--tolerance X])\n"
     "                   [--id N] [options]\n\n"
     "Request the service at PATH with VALUE (JSON, sent as CBOR; no VALUE:\n"
     "an empty request) and print the answer.  An answer with an error status\n"
     "prints the status and the answer on stderr and exits 1.\n\n"
     "With --all, --vote or --id, print the request's id and status, then each\n"
     "provider asked: its status and its answer.\n"
     "  --all           ask every provider at once: 100, or 104 Partial Data\n"
     "                  (exit 0, a warning) when some did not answer in time\n"
     "  --vote          ask every provider at once: K equal answers win (each\n"
     "                  says whether it agrees); no quorum: 207 Conflict, exit 1\n"
     "  --quorum K      --vote: equal answers needed (default: a majority)\n"
     "  --tolerance X   --vote: CBOR numbers within X count as equal (default 0)\n"
     "  --id N          send the request with id N (as printed: a retry): a\n"
     "                  service offered at most once answers a retry from the\n"
     "                  same requester (process) from its cache; a new ipcnet\n"
     "                  process is another requester\n"
     "  --timeout MS    give up after MS milliseconds (default 5000)\n"
     "  --encoding ENC  send VALUE's bytes as they are, with this encoding\n"
     "  --file FILE     the request is FILE's bytes ('-': stdin)\n"
     "  --raw           write the answer's bytes to stdout as they are\n"},
    {"owner", cmd_owner, COMMON, 1, 1, false,
     "who owns a data or stream path of several providers (the strongest live one)",
     cmd_owner_help},
    {"offer-files", cmd_offer_files, COMMON | B(O_SVC_PATH) | B(O_SECONDS) | B(O_COUNT), 0, 1,
     false, "offer a directory's files as a file service until interrupted",
     cmd_offer_files_help},
    {"get-file", cmd_get_file, COMMON | B(O_TIMEOUT) | B(O_NO_RESUME), 0, 2, false,
     "fetch a file from a file service, checked chunk by chunk, resumable",
     cmd_get_file_help},
    {"network", cmd_network, B(O_DIR) | B(O_JSON) | B(O_HELP) | B(O_GROUP) | B(O_POLICY),
     2, 2, false, "create or show a network shared by the users of a Unix group",
     "usage: ipcnet network create NAME --group G [--dir BASE] [--policy FILE]\n"
     "       ipcnet network show NAME [--dir BASE] [--json]\n\n"
     "create makes BASE/NAME a network that the users of Unix group G share:\n"
     "owned by you, group G, mode 3770 (setgid: what nodes make in it is G's;\n"
     "sticky: no member can remove or replace another's files or the policy;\n"
     "nothing for others, who cannot enter it).  Nodes of G's users accept it\n"
     "when its owner is root or themselves, so run it as root, with a base that\n"
     "every user can enter and only root can write, such as /run/ipcnet (its\n"
     "users then set IPCNET_DIR=/run/ipcnet).  Running it again with the same\n"
     "group is not an error; a directory of another layout is left alone (207).\n"
     "show prints the layout: owner, group, mode, and the policy file.\n\n"
     "  --group G       the Unix group (name or number) that shares the network\n"
     "  --policy FILE   copy FILE to BASE/NAME/policy.yaml (yours, mode 0644)\n"
     "  --dir BASE      the base (default: $IPCNET_DIR, else\n"
     "                  $XDG_RUNTIME_DIR/ipcnet, else /tmp/ipcnet-<uid>)\n"
     "  --json          show: one JSON object\n"},
    {"json2cbor", cmd_json2cbor, B(O_HELP), 0, 0, false,
     "filter: one JSON text on stdin to CBOR on stdout (no network)",
     "usage: ipcnet json2cbor < JSON > CBOR\n\n"
     "Read one JSON text from stdin and write it to stdout as one CBOR item, the\n"
     "way VALUE travels (integers as integers, other numbers as the shortest\n"
     "float that keeps them, map order kept).  Invalid JSON: 200 Bad Request on\n"
     "stderr, exit status 1.\n"},
    {"cbor2json", cmd_cbor2json, B(O_HELP), 0, 0, false,
     "filter: one CBOR item on stdin to JSON on stdout (no network)",
     "usage: ipcnet cbor2json < CBOR > JSON\n\n"
     "Read one CBOR item from stdin and write it to stdout as one line of JSON:\n"
     "byte strings as \"h'..'\" strings, tensors (tag 40) as {dtype, shape, numel,\n"
     "values}, other tags as their content.  Input that is not one well-formed\n"
     "item: 200 Bad Request on stderr, exit status 1.\n"},
    {"graph", cmd_graph, COMMON | B(O_DOT) | B(O_PNG), 0, 0, false,
     "the network as a graph; --dot writes Graphviz, --png FILE draws it",
     "usage: ipcnet graph [--dot | --png FILE] [options]\n\n"
     "Show the network as a graph: its nodes, its resources, and which node\n"
     "publishes, provides or offers what, and which node subscribes to what (each\n"
     "pattern a node subscribed with, and the resources it matches now; --dot\n"
     "draws an edge from each matching resource to the subscriber).  With\n"
     "several computers, the nodes of each host (name@host) are drawn in a box\n"
     "of their own and the TCP links of this host's gateway to other hosts as\n"
     "bold lines with their round trip (asked of each node of this host through\n"
     "@sys/<node>/links, as 'ipcnet links'; --json: \"links\").\n\n"
     "  --dot           write the graph in Graphviz's dot language\n"
     "  --png FILE      draw it into FILE with Graphviz's 'dot'\n"},
    {"stream-send", cmd_stream_send, COMMON | B(O_RATE) | B(O_WAIT_SUBS) | B(O_TIMEOUT), 2, 2,
     false, "publish a video, audio or point-cloud file as a media stream", cmd_stream_send_help},
    {"stream-recv", cmd_stream_recv,
     COMMON | B(O_TIMEOUT) | B(O_QUEUE) | B(O_DELAY) | B(O_COUNT) | B(O_RATE), 2, 2, false,
     "write a media stream to a file, an image stream to a video; report gaps",
     cmd_stream_recv_help},
    {"policy", cmd_policy, COMMON | B(O_STRICT) | B(O_POLICY) | B(O_AS), 0, 3, false,
     "check a policy file; explain who may do what under it", cmd_policy_help},
    {"quarantine", cmd_quarantine, COMMON | B(O_NODE) | B(O_ALL) | B(O_TIMEOUT), 1, 2, false,
     "what each node holds against its peers (quarantine, ban, compromise); lift it",
     cmd_quarantine_help},
    {"shutdown", cmd_shutdown, COMMON | B(O_MANIFEST) | B(O_REASON) | B(O_TIMEOUT) | B(O_COMPROMISED), 0, 0,
     false, "bring the robot down safely: safe states, then producers, consumers, the rest",
     cmd_shutdown_help},
    {"install", cmd_install,
     B(O_JSON) | B(O_HELP) | B(O_NETWORK) | B(O_DIR) | B(O_NAME) | B(O_WAIT) | B(O_TIMEOUT) |
         B(O_MANIFEST) | B(O_STORE) | B(O_VERSION_ID) | B(O_CONFIG) | B(O_NS) | B(O_REMAP), 2, 2, false,
     "install a new version of a component (on trial), with its hashes", cmd_install_help},
    {"rollback", cmd_rollback,
     B(O_JSON) | B(O_HELP) | B(O_NETWORK) | B(O_DIR) | B(O_NAME) | B(O_WAIT) | B(O_TIMEOUT) |
         B(O_MANIFEST) | B(O_STORE) | B(O_CONFIG) | B(O_NS) | B(O_REMAP), 1, 1, false,
     "go back to a component's version that worked", cmd_rollback_help},
    {"versions", cmd_versions, B(O_JSON) | B(O_HELP) | B(O_MANIFEST) | B(O_STORE) | B(O_CONFIG),
     1, 1, false, "a component's versions: good, trial, bad, installed", cmd_versions_help},
    {"links", cmd_links, COMMON | B(O_NODE) | B(O_ALL) | B(O_TIMEOUT), 0, 0, false,
     "the links between hosts (TCP): peer, host, key, address, RTT, bytes, drops",
     cmd_links_help},
    {"route", cmd_route, COMMON, 1, 1, false,
     "the way a request to PATH takes: the routers, then the provider",
     cmd_route_help},
    {"keygen", cmd_keygen, B(O_JSON) | B(O_HELP) | B(O_FORCE), 0, 0, false,
     "this host's public key for links between hosts (made on first use)", cmd_keygen_help},
    {"trust", cmd_trust, B(O_NETWORK) | B(O_NAME) | B(O_JSON) | B(O_HELP), 1, 2, false,
     "the hosts a network trusts: add KEY --name HOST, list, remove", cmd_trust_help},
    {"up", cmd_up, COMMON, 1, 1, false,
     "run a robot: start, watch and restart its manifest's components", cmd_up_help},
    {"ps", cmd_ps, COMMON | B(O_TIMEOUT), 0, 1, false,
     "the components of the running supervisors: state, version, restarts, uptime",
     cmd_ps_help},
    {"gateway", cmd_gateway, COMMON | B(O_LISTEN) | B(O_PEERS), 0, 0, false,
     "link this host to others: listen and dial over TCP (encrypted), and route",
     cmd_gateway_help},
    /* Recording and replay (rec_args.c): parsed there, see main(). */
    {"record", cmd_record, COMMON, 1, CLI_MAX_POS, false,
     "record streams, data and service calls into an MCAP file", cmd_record_help},
    {"play", cmd_play, COMMON, 1, 1, false,
     "publish an MCAP recording again, with its timing", cmd_play_help},
    {"history", cmd_history, COMMON | B(O_TIMEOUT) | B(O_RAW) | B(O_HIST_VERSION), 1, 1,
     false, "a data resource's last versions: who set each and when (debug history)",
     cmd_history_help},
    {"prov", cmd_prov, COMMON | B(O_TIMEOUT), 2, 2, false,
     "the provenance of a stream's next sample: show, verify, export (PROV-JSON)",
     cmd_prov_help},
    {"trace", cmd_trace, COMMON | B(O_TIMEOUT), 1, 1, false,
     "the processes a stream's next sample went through, and where its copies went",
     cmd_trace_help},
};

/* "nodes, find, ..., stream-recv": every verb of the table, in its order. */
static const char *verb_list(char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        int k = snprintf(buf + len, n - len, "%s%s", i ? ", " : "", verbs[i].name);
        if (k < 0 || (size_t)k >= n - len)
            break;
        len += (size_t)k;
    }
    if (len + 9 < n)
        memcpy(buf + len, ", bridge", 9); /* cmd_bridge.c, not in the table */
    return buf;
}

static const char common_help[] =
    "\ncommon options:\n"
    "  --network NAME  the network (default: $IPCNET_NETWORK, else 'default')\n"
    "  --dir DIR       the base directory of networks (default: $IPCNET_DIR, else\n"
    "                  $XDG_RUNTIME_DIR/ipcnet, else /tmp/ipcnet-<uid>)\n"
    "  --name NAME     this tool's node name (default ipcnet-cli.<pid>)\n"
    "  --ns NS         the namespace of the paths given (and of the node's name):\n"
    "                  a path without a leading '/' is NS/path (default:\n"
    "                  $IPCNET_NAMESPACE; '/' for none)\n"
    "  --remap RULES   remap rules FROM=TO,... tried before $IPCNET_REMAP's\n"
    "  --json          one JSON document per result, one per line\n"
    "  --wait MS       wait at most MS ms for links to the other nodes (2000)\n"
    "  -h, --help      this help\n"
    "\nExit status: 0 success; 1 failure, with '<code> <Name>: why' on stderr;\n"
    "2 the command line was refused.\n";

static void usage(FILE *f)
{
    fprintf(f, "usage: ipcnet [common options] VERB [ARGS] [options]\n\n"
               "Look at a network of IPCNet nodes and take part in it.\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "  %-9s  %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "  %-9s  %s\n", "bridge",
            "connect the network to MQTT or to ROS 2 over DDS (ipcnet bridge mqtt|dds --help)");
    fprintf(f, "\nRun 'ipcnet VERB --help' for a verb's arguments and options.\n"
               "Environment: IPCNET_NETWORK, IPCNET_DIR, IPCNET_LOG (library log "
               "level: error, warn, info, debug), IPCNET_POLICY (ipcnet policy),\n"
               "IPCNET_CONFIG_DIR (host keys and trust lists: ipcnet keygen, trust).\n"
               "ipcnet %s, libipcnet %s.\n", IPCNET_CLI_VERSION, ipcn_version());
}

static int num_ll(const char *vname, const char *name, const char *s, long long min,
                  long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return cli_usage_error(vname, "%s takes a whole number from %lld to %lld, not '%s'",
                               name, min, max, s);
    *out = v;
    return 0;
}

/* A positional argument that looks like an option but is a JSON number. */
static bool is_negative_number(const char *s)
{
    return s[0] == '-' && ((s[1] >= '0' && s[1] <= '9') || s[1] == '.');
}

static int parse(cli *c, const verb *v, int argc, char **argv)
{
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || !a[1] || is_negative_number(a)) {
            if (c->npos >= v->max_pos || c->npos >= CLI_MAX_POS)
                return cli_usage_error(v->name, "unexpected argument '%s'", a);
            c->pos[c->npos++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = true;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t n = eq && a[1] == '-' ? (size_t)(eq - a) : strlen(a);
        const opt *o = NULL;
        for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
            if (strlen(opts[k].name) == n && !strncmp(opts[k].name, a, n))
                o = &opts[k];
        if (!o || !(v->opts & B(o->id)))
            return cli_usage_error(v->name, "'%.*s' is not an option of 'ipcnet %s'",
                                   (int)n, a, v->name);
        const char *arg = NULL;
        if (o->arg) {
            if (eq && a[1] == '-')
                arg = eq + 1;
            else if (i + 1 < argc)
                arg = argv[++i];
            else
                return cli_usage_error(v->name, "%s needs an argument", o->name);
        } else if (eq && a[1] == '-') {
            return cli_usage_error(v->name, "%s takes no argument", o->name);
        }
        long long ll;
        int rc = 0;
        switch (o->id) {
        case O_NETWORK: c->network = arg; break;
        case O_DIR: c->dir = arg; break;
        case O_NAME: c->name = arg; break;
        case O_NS: c->ns = arg; break;
        case O_REMAP: c->remap = arg; break;
        case O_JSON: c->json = true; break;
        case O_RAW: c->raw = true; break;
        case O_HELP:
            fputs(v->help, stdout);
            fputs(common_help, stdout);
            return -1;
        case O_WAIT:
            rc = num_ll(v->name, o->name, arg, 0, 600000, &ll);
            c->wait_ms = (int)ll;
            break;
        case O_TIMEOUT:
            rc = num_ll(v->name, o->name, arg, 1, 86400000, &ll);
            c->timeout_ms = (int)ll;
            break;
        case O_EXEC_TIMEOUT:
            rc = num_ll(v->name, o->name, arg, 1, 86400000, &ll);
            c->exec_timeout_ms = (int)ll;
            break;
        case O_COUNT:
            rc = num_ll(v->name, o->name, arg, 0, INT64_MAX, &ll);
            c->count = ll;
            break;
        case O_WINDOW:
            rc = num_ll(v->name, o->name, arg, 2, 10000000, &ll);
            c->window = (long)ll;
            break;
        case O_RATE: {
            /* stream-send: a mode; stream-recv: a video's frame rate */
            if ((v->fn == cmd_stream_send || v->fn == cmd_stream_recv) && (c->rate_mode = arg))
                break;
            char *end;
            errno = 0;
            double d = strtod(arg, &end);
            if (errno || end == arg || *end || !isfinite(d) || d < 0 || d > 1e6)
                return cli_usage_error(v->name, "--rate takes a number of Hz from 0 "
                                       "to 1000000, not '%s'", arg);
            c->rate = d;
            break;
        }
        case O_KIND: c->kind = arg; break;
        case O_ECHO: c->echo = true; break;
        case O_EXEC: c->exec = arg; break;
        case O_DOT: c->dot = true; break;
        case O_PNG: c->png = arg; break;
        case O_ENCODING: c->encoding = arg; break;
        case O_REPLY_ENCODING: c->reply_encoding = arg; break;
        case O_FILE: c->file = arg; break;
        case O_META: c->meta = arg; break;
        case O_WAIT_SUBS: c->wait_subs = arg; break;
        case O_QUEUE: c->queue = arg; break;
        case O_DELAY: c->delay = arg; break;
        case O_SVC_PATH: c->svc_path = arg; break;
        case O_SECONDS: c->seconds = arg; break;
        case O_NO_RESUME: c->no_resume = true; break;
        case O_STRICT: c->strict = true; break;
        case O_POLICY: c->policy = arg; break;
        case O_AS: c->as = arg; break;
        case O_EXPECT_VERSION:
            rc = num_ll(v->name, o->name, arg, 0, INT64_MAX, &ll);
            c->expect_version = (uint64_t)ll;
            break;
        case O_HIST_VERSION: /* history --version V (as expect_version) */
            rc = num_ll(v->name, o->name, arg, 1, INT64_MAX, &ll);
            c->expect_version = (uint64_t)ll;
            break;
        case O_GROUP: c->group = arg; break;
        case O_TRAFFIC: c->traffic = true; break;
        case O_NODE: c->only_node = arg; break;
        case O_ALL: c->all = true; break;
        case O_MANIFEST: c->manifest = arg; break;
        case O_REASON: c->reason = arg; break;
        case O_COMPROMISED: c->compromised = arg; break;
        case O_STORE: c->store = arg; break;
        case O_VERSION_ID: c->version_id = arg; break;
        case O_CONFIG: c->config = true; break;
        case O_STRENGTH:
            rc = num_ll(v->name, o->name, arg, INT32_MIN, INT32_MAX, &ll);
            c->strength = (int32_t)ll;
            c->owned = true;
            break;
        case O_WARM: c->warm = c->owned = true; break;
        case O_VOTE: c->vote = true; break;
        case O_QUORUM:
            rc = num_ll(v->name, o->name, arg, 1, IPCN_REQ_MAX_ASKED, &ll);
            c->quorum = (uint32_t)ll;
            break;
        case O_TOLERANCE: {
            char *end;
            errno = 0;
            double d = strtod(arg, &end);
            if (errno || end == arg || *end || !isfinite(d) || d < 0)
                return cli_usage_error(v->name, "--tolerance takes a number from 0 up, "
                                       "not '%s'", arg);
            c->tolerance = d;
            break;
        }
        case O_AT_MOST_ONCE: c->at_most_once = true; break;
        case O_LISTEN: c->listen = arg; break;
        case O_PEERS: c->peers = arg; break;
        case O_FORCE: c->force = true; break;
        }
        if (rc)
            return rc;
    }
    int need = v->min_pos + (v->value && !c->file ? 1 : 0);
    if (c->npos < need) {
        const char *what = c->npos == 0 && v->min_pos ? (!strcmp(v->name, "echo") ||
                           !strcmp(v->name, "hz") ? "PATTERN" : "PATH") : "VALUE";
        if (v->fn == cmd_network)
            what = c->npos == 0 ? "create or show" : "NAME";
        if (v->fn == cmd_install || v->fn == cmd_rollback || v->fn == cmd_versions)
            what = c->npos == 0 ? "COMPONENT" : "DIR";
        if (v->fn == cmd_up)
            what = "MANIFEST";
        return cli_usage_error(v->name, "missing %s", what);
    }
    if (c->file && c->npos > v->min_pos)
        return cli_usage_error(v->name, "give VALUE or --file, not both");
    if (v->fn == cmd_call && c->version_id) { /* --id N: a request id */
        char *end;
        errno = 0;
        unsigned long long id = strtoull(c->version_id, &end, 0);
        if (errno || end == c->version_id || *end || !id || c->version_id[0] == '-')
            return cli_usage_error(v->name, "--id takes a request id (a whole number, not "
                                   "0), not '%s'", c->version_id);
        c->request_id = id;
    }
    if (v->fn == cmd_call && c->all && c->vote)
        return cli_usage_error(v->name, "give --all or --vote, not both");
    if (v->fn == cmd_call && !c->vote && (c->quorum || c->tolerance > 0))
        return cli_usage_error(v->name, "--quorum and --tolerance go with --vote");
    if (v->fn == cmd_call && c->raw && (c->all || c->vote || c->version_id))
        return cli_usage_error(v->name, "--raw gives one answer: not with --all, --vote, --id");
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        if (argc > 2 && !strcmp(name, "help") && !strcmp(argv[2], "bridge")) {
            char *hargv[] = {argv[0], argv[2], (char *)"--help", NULL};
            return cmd_bridge_main(3, hargv, 1);
        }
        if (argc > 2 && !strcmp(name, "help")) {
            for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
                if (!strcmp(verbs[i].name, argv[2])) {
                    fputs(verbs[i].help, stdout);
                    fputs(common_help, stdout);
                    return 0;
                }
            char list[1024];
            return cli_usage_error(NULL, "no verb '%s'; the verbs are %s", argv[2],
                                   verb_list(list, sizeof list));
        }
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version")) {
        printf("ipcnet %s (libipcnet %s)\n", IPCNET_CLI_VERSION, ipcn_version());
        return 0;
    }
    /* Common options may come before the verb: `ipcnet --network lab nodes`. */
    int vi = 1;
    while (vi < argc && argv[vi][0] == '-' && argv[vi][1]) {
        const opt *o = NULL;
        size_t n = strcspn(argv[vi], "=");
        for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
            if (strlen(opts[k].name) == n && !strncmp(opts[k].name, argv[vi], n) &&
                (COMMON & B(opts[k].id)))
                o = &opts[k];
        if (!o)
            break;
        vi += o->arg && !argv[vi][n] ? 2 : 1;
    }
    if (vi >= argc) {
        for (int i = 1; i < argc; i++)
            if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
                usage(stdout);
                return 0;
            }
        return cli_usage_error(NULL, "no verb given");
    }
    name = argv[vi];
    /* `ipcnet bridge KIND ...`: a separate program (cmd_bridge.c). */
    if (!strcmp(name, "bridge"))
        return cmd_bridge_main(argc, argv, vi);
    const verb *v = NULL;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(verbs[i].name, name))
            v = &verbs[i];
    if (!v) {
        char list[1024];
        return cli_usage_error(NULL, "no verb '%s'; the verbs are %s", name,
                               verb_list(list, sizeof list));
    }
    /* record, play, info FILE.mcap: their own options (rec_args.c). */
    if (v->fn == cmd_record || v->fn == cmd_play ||
        (v->fn == cmd_info && cli_rec_is_info(argc, argv, vi)))
        return cli_rec_run(v->fn, argc, argv, vi);
    cli c = {.verb = v->name, .wait_ms = 2000, .timeout_ms = -1, .count = -1,
             .rate = 1, .exec_timeout_ms = -1};
    /* The options before the verb, then the arguments after it. */
    char **args = calloc((size_t)argc, sizeof *args);
    if (!args)
        return cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
    int nargs = 0;
    for (int i = 1; i < argc; i++)
        if (i != vi)
            args[nargs++] = argv[i];
    int rc = parse(&c, v, nargs, args);
    free(args);
    if (rc)
        return rc < 0 ? 0 : rc;
    rc = v->fn(&c);
    cli_close(&c);
    if (cli_stdout_broken && cli_stdout_errno != EPIPE && rc == 0)
        rc = cli_fail(IPCN_INTERNAL_ERROR, "cannot write the output: %s",
                      strerror(cli_stdout_errno));
    else if (fflush(stdout) != 0 && errno != EPIPE && rc == 0)
        rc = cli_fail(IPCN_INTERNAL_ERROR, "cannot write the output: %s", strerror(errno));
    return rc;
}
