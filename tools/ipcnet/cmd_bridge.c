/* SPDX-License-Identifier: MIT */
/*
 * tools/ipcnet/cmd_bridge.c - `ipcnet bridge KIND [options]`: run the
 * bridge program ipcnet-bridge-KIND (bridges/KIND/), which links its own
 * engine (Cyclone DDS for dds, ...) so that neither the library nor this
 * tool does.  Looked for next to this executable first, then in PATH.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char bridge_help[] =
    "usage: ipcnet bridge KIND [options]\n"
    "Run a bridge to another engine; each is a program of its own\n"
    "(ipcnet-bridge-KIND), built only when its library is found:\n"
    "  dds   a DDS domain in ROS 2's form (Cyclone DDS): see\n"
    "        `ipcnet bridge dds --help` and docs/bridges.md\n";

static const char *why_missing(const char *kind)
{
    if (!strcmp(kind, "dds"))
        return "it is built only when Cyclone DDS is found at build time "
               "(Debian: cyclonedds-dev cyclonedds-tools; configure says "
               "\"DDS bridge: not built: <reason>\" otherwise)";
    return "it is built only when its library is found at build time";
}

int cli_bridge(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(bridge_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *kind = argv[1];
    size_t n = strlen(kind);
    if (n == 0 || n > 32 || strspn(kind, "abcdefghijklmnopqrstuvwxyz0123456789") != n) {
        fprintf(stderr, "ipcnet bridge: no bridge '%s'\n%s", kind, bridge_help);
        return EXIT_USAGE;
    }
    char prog[64];
    snprintf(prog, sizeof prog, "ipcnet-bridge-%s", kind);
    argv[1] = prog;
    char self[PATH_MAX], path[PATH_MAX + 64];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) {
        self[len] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            snprintf(path, sizeof path, "%s/%s", self, prog);
            if (access(path, X_OK) == 0) {
                execv(path, argv + 1);
                fprintf(stderr, "ipcnet bridge %s: %s: %s\n", kind, path, strerror(errno));
                return EXIT_FAIL;
            }
        }
    }
    execvp(prog, argv + 1);
    if (errno == ENOENT)
        fprintf(stderr, "ipcnet bridge %s: %s is not installed: %s\n", kind, prog,
                why_missing(kind));
    else
        fprintf(stderr, "ipcnet bridge %s: %s: %s\n", kind, prog, strerror(errno));
    return EXIT_FAIL;
}
