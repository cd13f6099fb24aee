// SPDX-License-Identifier: MIT
/*
 * test_shutdown.cpp — Node::on_shutdown() and Node::shutdown_done() (the
 * system's ordered shutdown, ipcnet.h): a handler gets what the asker
 * told, its status is the answer, 102 then shutdown_done() confirms, an
 * exception answers 300, an empty handler leaves the phase answered 103,
 * and the callbacks go with the node.
 */
#include "cpptest.hpp"

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

using ipcn::Node;
using ipcn::ShutdownInfo;
using ipcn::ShutdownPhase;

/* The CBOR {"phase": phase, "reason": reason} (both short texts). */
static std::string body(const std::string &phase, const std::string &reason)
{
    std::string b;
    b += '\xa2';
    b += static_cast<char>(0x60 + 5);
    b += "phase";
    b += static_cast<char>(0x60 + phase.size());
    b += phase;
    b += static_cast<char>(0x60 + 6);
    b += "reason";
    b += static_cast<char>(0x60 + reason.size());
    b += reason;
    return b;
}

static int ask(Node &n, const std::string &phase, const std::string &reason)
{
    std::string b = body(phase, reason);
    return n.try_request("@sys/arm/shutdown", ipcn::Bytes(b.data(), b.size()), "cbor",
                         ct::WAIT_MS)
        .status();
}

TEST(handler)
{
    Node arm("arm"), ops("ops");
    arm.start_thread();
    ops.start_thread();
    ops.wait_peers(1, ct::WAIT_MS);
    arm.wait_peers(1, ct::WAIT_MS);
    std::mutex mu;
    std::string reason, by;
    std::uint32_t system_phase = 0;
    std::atomic<int> calls{0}, ret{IPCN_OK};
    arm.on_shutdown(ShutdownPhase::SafeState, [&](const ShutdownInfo &i) {
        std::lock_guard<std::mutex> lk(mu);
        CHECK(i.phase == ShutdownPhase::SafeState);
        reason = std::string(i.reason);
        by = std::string(i.by);
        system_phase = i.system_phase;
        calls++;
        return ret.load();
    });
    CHECK_EQ(ask(ops, "safe_state", "rest"), IPCN_OK);
    {
        std::lock_guard<std::mutex> lk(mu);
        CHECK_EQ(reason, std::string("rest"));
        CHECK_EQ(by, std::string("ops"));
        CHECK_EQ(system_phase, 1u);
    }
    CHECK_EQ(ask(ops, "stop", ""), IPCN_NO_DATA); /* no handler */
    /* 102, then confirmed from another thread while the asker waits. */
    ret = IPCN_ACCEPTED;
    std::thread t([&] {
        while (arm.try_shutdown_done(ShutdownPhase::SafeState, 1234) != IPCN_OK)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    });
    CHECK_EQ(ask(ops, "safe_state", "later"), 1234);
    t.join();
    CHECK_STATUS(arm.shutdown_done(ShutdownPhase::SafeState), IPCN_NOT_FOUND);
    CHECK_STATUS(arm.shutdown_done(ShutdownPhase::SafeState, IPCN_ACCEPTED),
                 IPCN_BAD_REQUEST);
    CHECK_STATUS(arm.on_shutdown(static_cast<ShutdownPhase>(7), nullptr), IPCN_BAD_REQUEST);
    CHECK_EQ(calls.load(), 2);
    /* An exception answers 300. */
    arm.on_shutdown(ShutdownPhase::Stop, [](const ShutdownInfo &) -> int {
        throw std::runtime_error("no");
    });
    CHECK_EQ(ask(ops, "stop", ""), IPCN_INTERNAL_ERROR);
    /* Replaced, removed: its callback goes; 103 again. */
    std::size_t held = arm.callback_count();
    arm.on_shutdown(ShutdownPhase::Stop, [](const ShutdownInfo &) { return IPCN_OK; });
    CHECK_EQ(arm.callback_count(), held);
    arm.on_shutdown(ShutdownPhase::Stop, nullptr);
    CHECK_EQ(arm.callback_count(), held - 1);
    CHECK_EQ(ask(ops, "stop", ""), IPCN_NO_DATA);
    CHECK(arm.callback_count() > 0);
    arm.close();
    CHECK_EQ(arm.callback_count(), 0u);
    CHECK_EQ(arm.try_shutdown_done(ShutdownPhase::Stop), IPCN_SERVICE_UNAVAILABLE);
}

CPPTEST_MAIN
