/* SPDX-License-Identifier: MIT */
/*
 * demo.c — `make demo`: two chatbots, one in C and one in Python, banter
 * while a viewer written in C++ (chatview.cpp) shows it.
 *
 *   ipcnet-demo [rounds]
 *
 * Starts three separate processes found next to this program:
 *   ipcnet-chatview <rounds>                 node chat.view
 *   ipcnet-chatbot left right <rounds> view  node chat.left, C (starts talking)
 *   python3 ipcnet-chatbot.py right left <rounds> view
 *                                            node chat.right, Python
 * They find each other through the network directory, with no broker and
 * no configuration.  The Python bot (examples/chatbot.py) uses the ipcnet
 * package, found from this program's directory: <bindir>/../python in the
 * build tree (the demo is not installed).  When
 * the binding was not built (no Python headers; the sanitizer build),
 * chat.right is the C bot too, with a note — unless
 * IPCNET_DEMO_REQUIRE_PYTHON is set, which makes that a failure.
 * The network lives in a private temporary directory (removed at the end)
 * unless IPCNET_DIR is set.  Exits 0 only if all three exit 0; children
 * still running after DEADLINE_S seconds are killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEADLINE_S 20
#define NPROCS 3

/* A signal interrupts waitpid() below.  The handler re-arms the alarm, so
 * that one that comes just before waitpid() is not missed for long. */
static volatile sig_atomic_t got_signal;
static void on_signal(int sig)
{
    got_signal = sig;
    alarm(1);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
    return remove(path);
}

/* Run path with args (argv[0] is path). */
static pid_t spawn(const char *path, char *const args[])
{
    char *argv[8] = {(char *)path};
    for (int i = 0; args[i] && i < 6; i++)
        argv[i + 1] = args[i];
    pid_t pid = fork();
    if (pid == 0) {
        execv(path, argv);
        fprintf(stderr, "ipcnet-demo: cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    if (pid < 0)
        fprintf(stderr, "ipcnet-demo: fork: %s\n", strerror(errno));
    return pid;
}

static __attribute__((unused)) bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The Python chatbot's script and the directory holding the ipcnet
 * package, next to bindir; false when the binding is not there. */
static bool find_python_bot(const char *bindir, char *script, size_t ssize, char *pkgdir,
                            size_t psize)
{
#ifdef IPCNET_PYTHON
    snprintf(script, ssize, "%s/ipcnet-chatbot.py", bindir);
    if (!is_file(script))
        return false;
    char init[4096];
    snprintf(pkgdir, psize, "%s/../python", bindir);
    int n = snprintf(init, sizeof init, "%s/ipcnet/__init__.py", pkgdir);
    if (n > 0 && (size_t)n < sizeof init && is_file(init))
        return true;
#endif
    (void)bindir, (void)script, (void)ssize, (void)pkgdir, (void)psize;
    return false;
}

int main(int argc, char **argv)
{
    const char *rounds = argc > 1 ? argv[1] : "4";
    if (argc > 2 || atoi(rounds) < 1) {
        fprintf(stderr, "usage: %s [rounds]\n", argv[0]);
        return 2;
    }

    /* The helpers are installed next to us. */
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        fprintf(stderr, "ipcnet-demo: /proc/self/exe: %s\n", strerror(errno));
        return 1;
    }
    self[n] = 0;
    const char *bindir = dirname(self);

    /* A private network, so that nothing else running interferes. */
    char tmpdir[4096] = "";
    const char *dir = getenv("IPCNET_DIR");
    if (!dir || !*dir) {
        const char *tmp = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/ipcnet-demo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(tmpdir)) {
            fprintf(stderr, "ipcnet-demo: mkdtemp %s: %s\n", tmpdir, strerror(errno));
            return 1;
        }
        setenv("IPCNET_DIR", tmpdir, 1);
        dir = tmpdir;
    }
    /* chat.right in Python when the binding is there. */
    char script[4096], pkgdir[4096];
    bool python = find_python_bot(bindir, script, sizeof script, pkgdir, sizeof pkgdir);
    if (!python && getenv("IPCNET_DEMO_REQUIRE_PYTHON")) {
        fprintf(stderr, "ipcnet-demo: the Python chatbot or the ipcnet package is missing "
                        "next to %s\n", bindir);
        return 1;
    }
    if (python) {
        const char *old = getenv("PYTHONPATH");
        char path[8192];
        snprintf(path, sizeof path, "%s%s%s", pkgdir, old && *old ? ":" : "", old ? old : "");
        setenv("PYTHONPATH", path, 1);
        printf("IPCNet demo: a C chatbot (chat.left) and a Python chatbot (chat.right) "
               "banter, a C++ viewer listens (network in %s)\n\n", dir);
    } else {
        fprintf(stderr, "ipcnet-demo: note: the Python binding is not built here: "
                        "chat.right is the C chatbot too\n");
        printf("IPCNet demo: two chatbots banter, a C++ viewer listens (network in %s)\n\n", dir);
    }
    fflush(stdout); /* before fork, so the children do not inherit it */

    /* Kill the children on Ctrl-C, SIGTERM or the deadline (SIGALRM). */
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: waitpid returns */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    alarm(DEADLINE_S);

    static const char *const names[NPROCS] = {"chat.view", "chat.left", "chat.right"};
    pid_t pid[NPROCS];
    char view[4096], bot[4096];
    snprintf(view, sizeof view, "%s/ipcnet-chatview", bindir);
    snprintf(bot, sizeof bot, "%s/ipcnet-chatbot", bindir);
    pid[0] = spawn(view, (char *[]){(char *)rounds, NULL});
    pid[1] = spawn(bot, (char *[]){"left", "right", (char *)rounds, "view", NULL});
#ifdef IPCNET_PYTHON
    if (python)
        pid[2] = spawn(IPCNET_PYTHON,
                       (char *[]){script, "right", "left", (char *)rounds, "view", NULL});
    else
#endif
        pid[2] = spawn(bot, (char *[]){"right", "left", (char *)rounds, "view", NULL});

    int failed = 0, live = 0;
    for (int i = 0; i < NPROCS; i++) {
        if (pid[i] > 0)
            live++;
        else
            failed = 1;
    }
    bool killed = false;
    while (live > 0) {
        if (got_signal && !killed) {
            if (got_signal == SIGALRM)
                fprintf(stderr, "ipcnet-demo: still running after %d s\n", DEADLINE_S);
            for (int i = 0; i < NPROCS; i++)
                if (pid[i] > 0)
                    kill(pid[i], SIGKILL);
            killed = true;
            failed = 1;
        }
        int ws;
        pid_t p = waitpid(-1, &ws, 0);
        if (p < 0 && errno == EINTR)
            continue;
        if (p < 0)
            break;
        for (int i = 0; i < NPROCS; i++) {
            if (pid[i] != p)
                continue;
            pid[i] = 0;
            live--;
            if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
                continue;
            failed = 1;
            if (WIFEXITED(ws))
                fprintf(stderr, "ipcnet-demo: %s exited with %d\n", names[i],
                        WEXITSTATUS(ws));
            else
                fprintf(stderr, "ipcnet-demo: %s was killed by signal %d\n",
                        names[i], WTERMSIG(ws));
        }
    }
    alarm(0);

    if (tmpdir[0])
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (failed) {
        fprintf(stderr, "ipcnet-demo: FAILED\n");
        return 1;
    }
    printf("\nipcnet-demo: all three processes exited 0\n");
    return 0;
}
