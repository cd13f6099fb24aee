/* SPDX-License-Identifier: MIT */
/*
 * cpptest.hpp — the small harness of the C++ binding's tests.
 *
 *   TEST(name) { ... CHECK(...); CHECK_EQ(a, b); CHECK_STATUS(expr, 203); }
 *   PEER(name) { ... return exit_status; }   // a helper process role
 *
 * main() (CPPTEST_MAIN) runs each TEST in a forked child of its own, with a
 * private network (IPCNET_NETWORK) in a private IPCNET_DIR and a deadline
 * (SIGALRM), and reports "ok"/"FAIL"/"skip" per test; it exits 1 if any
 * test failed, 77 if all were skipped.  `prog NAME...` runs only those
 * tests.  A test starts helper processes with PeerProcess: the same
 * program, re-executed as `prog --peer ROLE ARGS...`, which runs the PEER
 * of that name.  Helpers die with the test (PR_SET_PDEATHSIG), are killed
 * by ~PeerProcess, and never live longer than PEER_LIFETIME_S.
 */
#ifndef IPCN_CPPTEST_HPP
#define IPCN_CPPTEST_HPP

#include <ipcnet.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <ftw.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ct {

constexpr int TEST_DEADLINE_S = 120;
constexpr int PEER_LIFETIME_S = 60;
constexpr int WAIT_MS = 5000; /* the bound of every wait for something to come */

struct Failure {
    std::string what;
};
struct Skip {
    std::string why;
};

struct Case {
    const char *name;
    void (*fn)();
};
struct Role {
    const char *name;
    int (*fn)(int argc, char **argv);
};
inline std::vector<Case> &cases()
{
    static std::vector<Case> v;
    return v;
}
inline std::vector<Role> &roles()
{
    static std::vector<Role> v;
    return v;
}
struct Reg {
    Reg(const char *n, void (*f)()) { cases().push_back({n, f}); }
};
struct PeerReg {
    PeerReg(const char *n, int (*f)(int, char **)) { roles().push_back({n, f}); }
};

template <class T>
std::string show(const T &v)
{
    if constexpr (std::is_same_v<T, std::string_view> || std::is_same_v<T, std::string> ||
                  std::is_convertible_v<T, const char *>)
        return "\"" + std::string(v) + "\"";
    else if constexpr (std::is_enum_v<T>)
        return std::to_string(static_cast<long long>(v));
    else {
        std::ostringstream o;
        o << v;
        return o.str();
    }
}

[[noreturn]] inline void fail(const char *file, int line, const std::string &msg)
{
    throw Failure{std::string(file) + ":" + std::to_string(line) + ": " + msg};
}

/* Dispatch (or sleep, when the node's thread dispatches) until pred() or
 * timeout_ms; returns pred(). */
inline bool wait_until(ipcn::Node &n, const std::function<bool()> &pred, int timeout_ms = WAIT_MS)
{
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= end)
            return pred();
        if (ipcn_node_dispatch(n.get(), 20) == IPCN_SERVICE_UNAVAILABLE)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

/* Let the node work for about ms. */
inline void pump(ipcn::Node &n, int ms)
{
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end)
        if (ipcn_node_dispatch(n.get(), 10) == IPCN_SERVICE_UNAVAILABLE)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

inline const char *&self_path()
{
    static const char *p = "/proc/self/exe";
    return p;
}

/* A helper process: this program re-executed as `--peer ROLE ARGS...`. */
class PeerProcess {
public:
    PeerProcess(const std::string &role, const std::vector<std::string> &args = {})
    {
        std::vector<std::string> a{self_path(), "--peer", role};
        a.insert(a.end(), args.begin(), args.end());
        std::vector<char *> argv;
        for (auto &s : a)
            argv.push_back(const_cast<char *>(s.c_str()));
        argv.push_back(nullptr);
        std::fflush(nullptr);
        pid_ = fork();
        if (pid_ == 0) {
            execv("/proc/self/exe", argv.data());
            std::perror("execv");
            _exit(127);
        }
        if (pid_ < 0)
            throw Failure{"fork failed"};
    }
    ~PeerProcess() { kill(); }
    PeerProcess(const PeerProcess &) = delete;
    PeerProcess &operator=(const PeerProcess &) = delete;

    pid_t pid() const { return pid_; }
    /* Wait up to timeout_ms for it to exit: its exit status, 128 + signal,
     * or -1 on timeout. */
    int wait(int timeout_ms)
    {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (pid_ > 0) {
            int ws;
            pid_t r = waitpid(pid_, &ws, WNOHANG);
            if (r == pid_) {
                pid_ = 0;
                return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
            }
            if (r < 0 || std::chrono::steady_clock::now() >= end)
                return -1;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return -1;
    }
    void signal(int sig)
    {
        if (pid_ > 0)
            ::kill(pid_, sig);
    }
    /* SIGSTOP it and wait until it is stopped; true when it is. */
    bool stop()
    {
        int ws = 0;
        return pid_ > 0 && ::kill(pid_, SIGSTOP) == 0 && waitpid(pid_, &ws, WUNTRACED) == pid_ &&
               WIFSTOPPED(ws);
    }
    void kill()
    {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
            pid_ = 0;
        }
    }

private:
    pid_t pid_ = -1;
};

inline int rm_entry(const char *p, const struct stat *, int, struct FTW *) { return remove(p); }

inline int run_peer(int argc, char **argv)
{
    /* argv: prog --peer ROLE ARGS... */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm(PEER_LIFETIME_S);
    for (auto &r : roles())
        if (!std::strcmp(r.name, argv[2])) {
            try {
                return r.fn(argc - 3, argv + 3);
            } catch (const std::exception &e) {
                std::fprintf(stderr, "peer %s: %s\n", argv[2], e.what());
                return 99;
            }
        }
    std::fprintf(stderr, "no peer role %s\n", argv[2]);
    return 98;
}

inline int run_one(const Case &c, int index)
{
    std::string net = "t" + std::to_string(index);
    setenv("IPCNET_NETWORK", net.c_str(), 1);
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(TEST_DEADLINE_S);
        int rc = 0;
        try {
            c.fn();
        } catch (const Failure &f) {
            std::fprintf(stderr, "  %s\n", f.what.c_str());
            rc = 1;
        } catch (const Skip &s) {
            std::fprintf(stderr, "  skipped: %s\n", s.why.c_str());
            rc = 77;
        } catch (const std::exception &e) {
            std::fprintf(stderr, "  unexpected exception: %s\n", e.what());
            rc = 1;
        }
        std::fflush(nullptr);
        std::exit(rc); /* exit, not _exit: destructors and LeakSanitizer run */
    }
    int ws = 0;
    waitpid(pid, &ws, 0);
    if (WIFSIGNALED(ws)) {
        std::fprintf(stderr, "  killed by signal %d%s\n", WTERMSIG(ws),
                     WTERMSIG(ws) == SIGALRM ? " (deadline)" : "");
        return 1;
    }
    return WEXITSTATUS(ws);
}

inline int main(int argc, char **argv)
{
    if (argc >= 3 && !std::strcmp(argv[1], "--peer"))
        return run_peer(argc, argv);
    setvbuf(stdout, nullptr, _IOLBF, 0);

    const char *tmp = getenv("TMPDIR");
    std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/ipcn-cpptest-XXXXXX";
    std::vector<char> buf(dir.begin(), dir.end());
    buf.push_back(0);
    if (!mkdtemp(buf.data())) {
        std::perror("mkdtemp");
        return 1;
    }
    setenv("IPCNET_DIR", buf.data(), 1);

    int passed = 0, failed = 0, skipped = 0, index = 0;
    for (auto &c : cases()) {
        index++;
        if (argc > 1) {
            bool wanted = false;
            for (int i = 1; i < argc; i++)
                wanted |= !std::strcmp(argv[i], c.name);
            if (!wanted)
                continue;
        }
        int rc = run_one(c, index);
        if (rc == 0) {
            passed++;
            std::printf("ok   - %s\n", c.name);
        } else if (rc == 77) {
            skipped++;
            std::printf("skip - %s\n", c.name);
        } else {
            failed++;
            std::printf("FAIL - %s\n", c.name);
        }
    }
    nftw(buf.data(), rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    if (failed)
        return 1;
    return passed == 0 && skipped > 0 ? 77 : 0;
}

} // namespace ct

#define CT_CAT2(a, b) a##b
#define CT_CAT(a, b) CT_CAT2(a, b)

#define TEST(name)                                   \
    static void name();                              \
    static ct::Reg CT_CAT(ct_reg_, name)(#name, name); \
    static void name()

#define PEER(name)                                                  \
    static int peer_##name(int argc, char **argv);                   \
    static ct::PeerReg CT_CAT(ct_preg_, name)(#name, peer_##name);    \
    static int peer_##name([[maybe_unused]] int argc, [[maybe_unused]] char **argv)

#define CHECK(cond)                                                \
    do {                                                           \
        if (!(cond))                                               \
            ct::fail(__FILE__, __LINE__, "CHECK(" #cond ") failed"); \
    } while (0)

#define CHECK_EQ(a, b)                                                                   \
    do {                                                                                 \
        const auto ct_a_ = (a); /* copies: a reference could outlive a temporary */     \
        const auto ct_b_ = (b);                                                          \
        if (!(ct_a_ == ct_b_))                                                           \
            ct::fail(__FILE__, __LINE__,                                                 \
                     "CHECK_EQ(" #a ", " #b "): " + ct::show(ct_a_) + " != " + ct::show(ct_b_)); \
    } while (0)

/* expr must throw ipcn::Error with this status; the error is in `err`
 * for the statements of the optional block that follows (use
 * CHECK_STATUS(expr, st) alone, or CHECK_THROWS_THEN). */
#define CHECK_STATUS(expr, st)                                                          \
    do {                                                                                \
        bool ct_threw_ = false;                                                         \
        try {                                                                           \
            (void)(expr);                                                               \
        } catch (const ipcn::Error &ct_e_) {                                            \
            ct_threw_ = true;                                                           \
            if (ct_e_.status() != (st))                                                 \
                ct::fail(__FILE__, __LINE__,                                            \
                         #expr " threw " + std::string(ct_e_.what()) + ", expected " +  \
                             std::to_string(st));                                       \
        }                                                                               \
        if (!ct_threw_)                                                                 \
            ct::fail(__FILE__, __LINE__, #expr " did not throw " + std::to_string(st));  \
    } while (0)

/* The what() of the ipcn::Error that expr throws (fails if it does not). */
#define ERROR_OF(expr)                                              \
    ([&]() -> ipcn::Error {                                         \
        try {                                                       \
            (void)(expr);                                           \
        } catch (const ipcn::Error &ct_e_) {                        \
            return ct_e_;                                           \
        }                                                           \
        ct::fail(__FILE__, __LINE__, #expr " did not throw");       \
    }())

#define CPPTEST_MAIN \
    int main(int argc, char **argv) { return ct::main(argc, argv); }

#endif
