/* SPDX-License-Identifier: MIT */
/*
 * stop_comp.c — a component for the shutdown tests (test_stop.c):
 *
 *   ipcn-test-stop_comp NODE LOG [FLAG...]
 *
 * opens node NODE, says it is ready, and dispatches until it is told to
 * stop.  Each thing that happens to it is appended to LOG as one line
 * "<monotonic ns> NODE <what>" (written with O_APPEND, so several
 * components may share one LOG).  Flags:
 *   ignore-term   SIGTERM is ignored (only SIGKILL ends it)
 * Without a flag saying otherwise, SIGTERM ends it cleanly (exit 0).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipcnet.h"

static const char *node_name, *log_path;
static volatile sig_atomic_t term_seen;

static void log_line(const char *what)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char line[256];
    int k = snprintf(line, sizeof line, "%llu %s %s\n",
                     (unsigned long long)ts.tv_sec * 1000000000ull +
                         (unsigned long long)ts.tv_nsec,
                     node_name, what);
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        (void)!write(fd, line, (size_t)k);
        close(fd);
    }
}

static void on_term(int sig)
{
    (void)sig;
    term_seen = 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ipcn-test-stop_comp NODE LOG [FLAG...]\n");
        return 2;
    }
    node_name = argv[1];
    log_path = argv[2];
    bool ignore_term = false;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "ignore-term")) {
            ignore_term = true;
        } else {
            fprintf(stderr, "stop_comp: unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    struct sigaction sa = {0};
    sa.sa_handler = ignore_term ? SIG_IGN : on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);

    ipcn_node *n;
    int st = ipcn_node_open(&n, node_name, NULL);
    if (st != IPCN_OK) {
        fprintf(stderr, "stop_comp %s: open: %d\n", node_name, st);
        return 1;
    }
    log_line("up");
    while (!term_seen) {
        st = ipcn_node_dispatch(n, 50);
        if (st != IPCN_OK && st != IPCN_NO_DATA)
            break;
    }
    log_line(term_seen ? "sigterm" : "closed");
    ipcn_node_close(n);
    return 0;
}
