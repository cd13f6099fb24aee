/* SPDX-License-Identifier: MIT */
/*
 * cmd_keys.c — `ipcnet keygen [--force]` and `ipcnet trust add KEY --name
 * HOST | list | remove NAME|KEY`: this host's key and the hosts a network
 * trusts (ipcnet_hosts.h), with no node.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ipcnet_hosts.h"

const char cmd_keygen_help[] =
    "usage: ipcnet keygen [--force]\n\n"
    "Print this host's public key (base64, 44 characters), making the host's\n"
    "X25519 key pair first when there is none: host.key (the private key, mode\n"
    "0600; refused when others may read it) and host.pub in the config\n"
    "directory: $IPCNET_CONFIG_DIR, else /etc/ipcnet for root, else\n"
    "$XDG_CONFIG_HOME/ipcnet or ~/.config/ipcnet.  Give the key to the other\n"
    "hosts ('ipcnet trust add KEY --name THIS-HOST' there).  Stderr says\n"
    "whether the key was made now and where it is.\n\n"
    "  --force         make a new key pair even if there is one (the old one\n"
    "                  is lost: every host that trusts it must be told the new)\n"
    "  --json          {\"key\": ..., \"created\": ..., \"dir\": ...}\n";

const char cmd_trust_help[] =
    "usage: ipcnet trust add KEY --name HOST [--network NET]\n"
    "       ipcnet trust list [--network NET] [--json]\n"
    "       ipcnet trust remove NAME|KEY [--network NET]\n\n"
    "The hosts a network trusts: the gateways of the network link only to hosts\n"
    "whose key is in its list, and know each by the name given here (a peer whose\n"
    "key is not there gets 309 and is closed).  The list is\n"
    "<config>/<network>/trusted, one 'NAME KEY' line per host ('#' comments).\n\n"
    "add KEY --name HOST  trust the host with public key KEY (from its 'ipcnet\n"
    "                  keygen') as HOST (a node name of at most 63 characters);\n"
    "                  207 when the name or the key is there with another\n"
    "list              the trusted hosts: name and key, in file order\n"
    "remove NAME|KEY   stop trusting a host (203 when it is not there)\n\n"
    "  --network NET   the network (default: $IPCNET_NETWORK, else 'default')\n"
    "  --json          list: one JSON object per host\n";

/* The config directory, for messages; "" when unknown. */
static const char *config_dir(char *buf, size_t n)
{
    if (ipcn_config_dir(buf, n) != IPCN_OK)
        snprintf(buf, n, "%s", "");
    return buf;
}

int cmd_keygen(cli *c)
{
    char dir[4096], pub[IPCN_KEY_TEXT_LEN + 1];
    if (ipcn_config_dir(dir, sizeof dir) != IPCN_OK)
        return cli_fail(IPCN_BAD_REQUEST, "no config directory: set IPCNET_CONFIG_DIR "
                        "or HOME");
    if (c->force) {
        static const char *const files[] = {"host.key", "host.pub"};
        for (size_t i = 0; i < 2; i++) {
            char path[4200];
            snprintf(path, sizeof path, "%s/%s", dir, files[i]);
            if (unlink(path) < 0 && errno != ENOENT)
                return cli_fail(IPCN_INTERNAL_ERROR, "%s: %s", path, strerror(errno));
        }
    }
    int st = ipcn_host_key(dir, 1, pub);
    if (st != IPCN_OK && st != IPCN_CREATED) {
        const char *why = st == IPCN_FORBIDDEN ? ": others than its owner may read it, or "
                                                 "it is not ours (chmod 600)"
                          : st == IPCN_BAD_REQUEST ? ": not a key file"
                                                   : "";
        return cli_fail(st, "%s/host.key%s", dir, why);
    }
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "key", pub);
        jw_bool(&j, "created", st == IPCN_CREATED);
        jw_str(&j, "dir", dir);
        jw_end_obj(&j);
        emit(&j);
    } else {
        out("%s\n", pub);
        fprintf(stderr, "%s %s/host.key\n", st == IPCN_CREATED ? "made" : "already in", dir);
    }
    return cli_stdout_broken ? EXIT_FAIL : EXIT_OK;
}

static int trust_add(cli *c, const char *key)
{
    if (!c->name)
        return cli_usage_error(c->verb, "add needs --name HOST");
    if (strlen(key) != IPCN_KEY_TEXT_LEN)
        return cli_usage_error(c->verb, "'%s' is not a public key (44 characters of "
                               "base64, as 'ipcnet keygen' prints it)", key);
    char dir[4096];
    int st = ipcn_trust_add(NULL, c->network, key, c->name);
    switch (st) {
    case IPCN_CREATED:
        fprintf(stderr, "%s trusted as %s\n", key, c->name);
        return EXIT_OK;
    case IPCN_OK:
        fprintf(stderr, "%s was trusted as %s already\n", key, c->name);
        return EXIT_OK;
    case IPCN_CONFLICT:
        return cli_fail(st, "the name %s or the key is there already with another "
                        "partner ('ipcnet trust list')", c->name);
    case IPCN_BAD_REQUEST:
        return cli_fail(st, "a bad host name or key, or a malformed list in %s "
                        "(the library's log names the line)", config_dir(dir, sizeof dir));
    default:
        return cli_fail(st, "cannot write the trust list in %s", config_dir(dir, sizeof dir));
    }
}

static int trust_list(cli *c)
{
    ipcn_trusted *l = NULL;
    size_t n = 0;
    char dir[4096];
    int st = ipcn_trust_list(NULL, c->network, &l, &n);
    if (st != IPCN_OK)
        return cli_fail(st, "cannot read the trust list in %s%s", config_dir(dir, sizeof dir),
                        st == IPCN_BAD_REQUEST ? " (malformed: the log names the line)" : "");
    size_t w = 4;
    for (size_t i = 0; i < n; i++)
        if (strlen(l[i].name) > w)
            w = strlen(l[i].name);
    if (!c->json && n)
        out("%-*s  %s\n", (int)w, "HOST", "KEY");
    for (size_t i = 0; i < n; i++) {
        if (c->json) {
            jw j = {0};
            jw_obj(&j, NULL);
            jw_str(&j, "name", l[i].name);
            jw_str(&j, "key", l[i].key);
            jw_end_obj(&j);
            emit(&j);
        } else {
            out("%-*s  %s\n", (int)w, l[i].name, l[i].key);
        }
    }
    ipcn_trust_list_free(l);
    return cli_stdout_broken ? EXIT_FAIL : EXIT_OK;
}

int cmd_trust(cli *c)
{
    const char *sub = c->pos[0], *arg = c->npos > 1 ? c->pos[1] : NULL;
    if (!strcmp(sub, "add")) {
        if (!arg)
            return cli_usage_error(c->verb, "add needs KEY");
        return trust_add(c, arg);
    }
    if (c->name)
        return cli_usage_error(c->verb, "--name goes with add only");
    if (!strcmp(sub, "list")) {
        if (arg)
            return cli_usage_error(c->verb, "list takes no argument");
        return trust_list(c);
    }
    if (!strcmp(sub, "remove")) {
        if (!arg)
            return cli_usage_error(c->verb, "remove needs NAME or KEY");
        int st = ipcn_trust_remove(NULL, c->network, arg);
        if (st == IPCN_OK) {
            fprintf(stderr, "%s is no longer trusted\n", arg);
            return EXIT_OK;
        }
        char dir[4096];
        return cli_fail(st, st == IPCN_NOT_FOUND ? "no host %s in the trust list"
                                                 : "cannot change the trust list (%s)",
                        st == IPCN_NOT_FOUND ? arg : config_dir(dir, sizeof dir));
    }
    return cli_usage_error(c->verb, "no subcommand '%s': add, list or remove", sub);
}
