/* SPDX-License-Identifier: MIT */
/*
 * keys.h — the files of a host's links to other hosts (keys.c): the
 * config directory, the host key (host.key, host.pub), each network's
 * trust list (<config>/<network>/trusted) and gateway.conf
 * (<config>/<network>/gateway.conf).  docs/protocol.md, "Handshake and
 * keys".
 *
 * Every reader is bounded: a file over IPCN__KEYS_FILE_MAX bytes, a line
 * over IPCN__KEYS_LINE_MAX bytes or a NUL byte is refused (200).  The
 * parsers take text, not files, so that they can be fuzzed
 * (tests/fuzz/fuzz_trust.c, fuzz_gwconf.c).  No lock: pure functions and
 * files.
 */
#ifndef IPCN_KEYS_H
#define IPCN_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcnet_hosts.h"

#define IPCN__KEYS_FILE_MAX (1u << 20)
#define IPCN__KEYS_LINE_MAX 4096u

/* A key as text: 44 characters of standard base64 with '=' that decode
 * to 32 bytes, canonically (the unused bits zero).  100 or 200. */
int ipcn__key_from_text(const char *s, size_t n, uint8_t key[32]);
/* And back: IPCN_KEY_TEXT_LEN characters and a NUL. */
void ipcn__key_to_text(const uint8_t key[32], char out[IPCN_KEY_TEXT_LEN + 1]);

/* As ipcn_config_dir(). */
int ipcn__config_dir(char *buf, size_t cap);
/* The network's name as ipcn_node_open() picks it (NULL: $IPCNET_NETWORK,
 * else "default"), checked: the name, or NULL when it is not valid. */
const char *ipcn__keys_network(const char *network);

/* The host's key pair from dir/host.key; with create, a new one (and
 * dir/host.pub) when there is none.  100; 101 when it was created now;
 * 203 none and not create; 202 when the file is readable by others than
 * its owner, or not ours; 200 malformed; 300 a file error. */
int ipcn__host_key(const char *dir, bool create, uint8_t priv[32],
                   uint8_t pub[32]);
/* The same, created when missing: 100 also when it was created. */
int ipcn__host_key_load(const char *dir, uint8_t priv[32], uint8_t pub[32]);

/* A network's trust list: "NAME KEY" lines, '#' comments, blank lines.
 * NAME is a node name of at most IPCN_HOST_NAME_MAX characters; no name
 * and no key twice. */
typedef struct ipcn__trust_list {
    ipcn_trusted *hosts;   /* count of them, in file order */
    uint8_t (*keys)[32];   /* the same keys, decoded */
    size_t count;
} ipcn__trust_list;
/* 100; 200 for malformed text (the line is logged, and its number put in
 * *bad_line when not NULL); 307.  *t is replaced (free it after). */
int ipcn__trust_parse_text(const char *text, size_t len, const char *what,
                           ipcn__trust_list *t, size_t *bad_line);
int ipcn__trust_parse(const char *text, size_t len, ipcn__trust_list *t);
/* 100; 203 when there is no file; 200 (too large, malformed); 300; 307. */
int ipcn__trust_load(const char *path, ipcn__trust_list *t);
void ipcn__trust_free(ipcn__trust_list *t);
/* The name the list gives key, or NULL. */
const char *ipcn__trust_name(const ipcn__trust_list *t, const uint8_t key[32]);

/* gateway.conf: "key = value" lines, '#' comments, blank lines; the keys
 * listen (an address, "" none), peers (addresses separated by commas),
 * discovery (on or off), cipher (auto or chachapoly); each at most once,
 * no other. */
typedef struct ipcn__gwconf {
    char *listen, *peers;  /* NULL: not said */
    int discovery;         /* 1 on, 0 off, -1 not said */
    unsigned cipher;       /* the suites a cipher word names; 0 not said */
} ipcn__gwconf;
/* The Noise suites (IPCN_NOISE_* mask) a cipher word names: "auto" both,
 * "chachapoly" ChaChaPoly alone; 0 for any other word. */
unsigned ipcn__cipher_word(const char *v, size_t n);
/* 100; 200 malformed (logged, *bad_line as above); 307.  *c is replaced. */
int ipcn__gwconf_parse_text(const char *text, size_t len, const char *what,
                            ipcn__gwconf *c, size_t *bad_line);
int ipcn__gwconf_parse(const char *text, size_t len, ipcn__gwconf *c);
/* 100; 203 when there is no file; 200; 300; 307. */
int ipcn__gwconf_load(const char *path, ipcn__gwconf *c);
void ipcn__gwconf_free(ipcn__gwconf *c);

/* <dir>/<network>/<file> into buf: 100, or 200 when it does not fit. */
int ipcn__keys_path(char *buf, size_t cap, const char *dir,
                    const char *network, const char *file);

#endif
