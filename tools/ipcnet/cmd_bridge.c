/* SPDX-License-Identifier: MIT */
/*
 * cmd_bridge.c — `ipcnet bridge KIND [ARGS]`: runs the bridge program
 * ipcnet-bridge-KIND (bridges/KIND, built only when its library is found),
 * with the arguments after KIND and the common options --network, --dir
 * and --name given before the verb (others are refused).  The program is looked for next to this tool first (the build tree,
 * or the directory it is installed in), then on $PATH.  The core tool and
 * library never link the bridges' libraries (libmosquitto ...).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char bridge_help[] =
    "usage: ipcnet bridge mqtt --broker mqtt://HOST[:PORT] [options]\n"
    "       ipcnet bridge dds [--export PATTERN[:TYPE]] [--import TOPIC:TYPE[=PATH]] ...\n\n"
    "Connect this network to another system through a bridge program:\n"
    "  mqtt    an MQTT broker (ipcnet-bridge-mqtt; 'ipcnet bridge mqtt --help')\n"
    "  dds     a DDS domain as ROS 2 sees it (ipcnet-bridge-dds, Cyclone DDS;\n"
    "          'ipcnet bridge dds --help')\n"
    "The bridge is a separate program, built when its library is found\n"
    "(libmosquitto for mqtt, Cyclone DDS for dds); docs/bridges.md.\n";

int cmd_bridge_main(int argc, char **argv, int vi)
{
    if (vi + 1 >= argc || !strcmp(argv[vi + 1], "--help") || !strcmp(argv[vi + 1], "-h")) {
        fputs(bridge_help, vi + 1 >= argc ? stderr : stdout);
        return vi + 1 >= argc ? EXIT_USAGE : EXIT_OK;
    }
    const char *kind = argv[vi + 1];
    if (strspn(kind, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(kind) || !*kind ||
        strlen(kind) > 32)
        return cli_usage_error(NULL, "no bridge '%s' (the bridges: mqtt, dds)", kind);
    char prog[64];
    snprintf(prog, sizeof prog, "ipcnet-bridge-%s", kind);

    /* argv for the bridge: the program, the common options given before
     * the verb that a bridge takes (--network, --dir, --name, also as
     * --opt=VALUE), then what follows KIND.  Other common options mean
     * nothing to a bridge: refused rather than silently dropped. */
    static const char *const passed[] = {"--network", "--dir", "--name"};
    char **args = calloc(2 * (size_t)argc + 1, sizeof *args);
    if (!args)
        return cli_fail(IPCN_INSUFFICIENT_MEMORY, "bridge");
    int n = 0;
    args[n++] = prog;
    for (int i = 1; i < vi; i++) {
        const char *a = argv[i];
        size_t k, nl = strcspn(a, "=");
        for (k = 0; k < sizeof passed / sizeof passed[0]; k++)
            if (strlen(passed[k]) == nl && !strncmp(a, passed[k], nl))
                break;
        if (k == sizeof passed / sizeof passed[0]) {
            free(args);
            return cli_usage_error(NULL, "%s: not an option of 'ipcnet bridge' (before the "
                                   "verb only --network, --dir and --name are passed on)", a);
        }
        args[n++] = (char *)passed[k];
        if (a[nl] == '=')
            args[n++] = argv[i] + nl + 1;
        else if (i + 1 < vi)
            args[n++] = argv[++i];
        else {
            free(args);
            return cli_usage_error(NULL, "%s needs a value", a);
        }
    }
    for (int i = vi + 2; i < argc; i++)
        args[n++] = argv[i];
    args[n] = NULL;

    char self[PATH_MAX], path[PATH_MAX + 64];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) {
        self[len] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            snprintf(path, sizeof path, "%s/%s", self, prog);
            if (access(path, X_OK) == 0)
                execv(path, args);
        }
    }
    execvp(prog, args);
    int e = errno;
    free(args);
    if (e == ENOENT)
        return cli_fail(IPCN_NOT_IMPLEMENTED,
                        "the %s bridge is not installed: %s was not built (its library "
                        "was missing when IPCNet was configured; for mqtt: libmosquitto-dev, "
                        "for dds: cyclonedds-dev and cyclonedds-tools)",
                        kind, prog);
    return cli_fail(IPCN_INTERNAL_ERROR, "cannot run %s: %s", prog, strerror(e));
}
