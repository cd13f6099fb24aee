/* SPDX-License-Identifier: MIT */
/**
 * @file ipcnet_history.hpp
 * @brief The C++ side of ipcnet_history.h: the debug history of data
 *        resources (their last versions, with who set each and when).
 *
 * Part of the C++ binding, beside ipcnet.hpp (which it includes): free
 * functions over an ipcn::Node.  The rules of ipcnet.hpp (errors,
 * ownership, threads) hold here too; the meaning of each call is the C
 * function's (ipcnet_history.h).
 *
 * @code
 *   ipcn::announce_history(node, "arm/gain", 16);
 *   ipcn::History h = ipcn::history(other, "arm/gain", 2000);
 *   for (const ipcn::HistoryEntry &e : h.entries)
 *       std::cout << e.version << " by " << e.setter << "\n";
 *   ipcn::Message old = ipcn::query_version(other, "arm/gain", 3, 2000);
 * @endcode
 *
 * Since: 0.2
 */
#ifndef IPCNET_HISTORY_HPP
#define IPCNET_HISTORY_HPP

#include <optional>
#include <string>
#include <vector>

#include "ipcnet.hpp"
#include "ipcnet_history.h"

namespace ipcn {

/** One kept version of a data resource (ipcn_history_entry, copied). */
struct HistoryEntry {
    std::uint64_t version = 0;
    std::uint64_t wall_ns = 0;  /**< the provider's CLOCK_REALTIME then */
    std::uint64_t mono_ns = 0;  /**< its CLOCK_MONOTONIC then */
    std::string encoding;
    /** The value's bytes; empty optional when listed without values. */
    std::optional<std::vector<std::uint8_t>> data;
    std::size_t size = 0;       /**< the value's size */
    std::string setter;         /**< the node that set it */
    std::uint64_t setter_id = 0;
    std::int32_t uid = -1, pid = -1; /**< -1: not known */
    bool by_set = false;        /**< true: a set; false: the provider's publish */
};

/** The history of one data resource (ipcn_history, copied). */
struct History {
    std::string node, path;
    std::uint32_t depth = 0;
    std::uint64_t max_bytes = 0, bytes = 0, dropped = 0, current = 0;
    std::vector<HistoryEntry> entries; /**< oldest first */
};

/** ipcn_announce_history(): keep (depth > 0) or stop keeping this node's
 *  data resource's history.  Throws Error 200, 203, 204. */
inline void announce_history(Node &node, CStr path, unsigned depth,
                             std::uint64_t max_bytes = 0)
{
    detail::check(ipcn_announce_history(node.get(), path.c_str(), depth, max_bytes),
                  "announce_history", path.view());
}

/** history() without throwing an ipcn::Error: 100 with the history, or
 *  the status of ipcn_history_get() (203, 204, 301, 304...). */
inline Result<History> try_history(Node &node, CStr path, int timeout_ms,
                                   bool values = true)
{
    ipcn_history *h = nullptr;
    int st = ipcn_history_get(node.get(), path.c_str(),
                              values ? 0u : IPCN_HISTORY_NO_VALUES, timeout_ms, &h);
    if (st != IPCN_OK)
        return Result<History>(st);
    std::unique_ptr<ipcn_history, void (*)(ipcn_history *)> own(h, ipcn_history_free);
    History out;
    out.node = h->node;
    out.path = h->path;
    out.depth = h->depth;
    out.max_bytes = h->max_bytes;
    out.bytes = h->bytes;
    out.dropped = h->dropped;
    out.current = h->current;
    out.entries.reserve(h->count);
    for (std::size_t i = 0; i < h->count; i++) {
        const ipcn_history_entry &e = h->entries[i];
        HistoryEntry x;
        x.version = e.version;
        x.wall_ns = e.wall_ns;
        x.mono_ns = e.mono_ns;
        x.encoding = e.encoding;
        if (e.data) {
            const auto *p = static_cast<const std::uint8_t *>(e.data);
            x.data.emplace(p, p + e.len);
        }
        x.size = e.len;
        x.setter = e.setter;
        x.setter_id = e.setter_id;
        x.uid = e.uid;
        x.pid = e.pid;
        x.by_set = e.via == IPCN_HISTORY_SET;
        out.entries.push_back(std::move(x));
    }
    return Result<History>(st, std::move(out));
}

/** ipcn_history_get(): the kept versions of path.  Throws Error (203,
 *  204, 301, 304, ...). */
inline History history(Node &node, CStr path, int timeout_ms, bool values = true)
{
    Result<History> r = try_history(node, path, timeout_ms, values);
    if (!r.ok())
        throw Error(r.status(), "history " + std::string(path.view()));
    return std::move(r).value();
}

/** query_version() without throwing: 100 with the value, or the status
 *  (203 not kept, 204 history off, 301, 304...). */
inline Result<Message> try_query_version(Node &node, CStr path, std::uint64_t version,
                                         int timeout_ms) noexcept
{
    ipcn_msg *out = nullptr;
    int st = ipcn_query_version(node.get(), path.c_str(), version, &out, timeout_ms);
    if (st == IPCN_OK && out)
        return Result<Message>(st, Message(out));
    ipcn_msg_free(out);
    return Result<Message>(st);
}

/** ipcn_query_version(): the value path had at version.  Throws Error. */
inline Message query_version(Node &node, CStr path, std::uint64_t version, int timeout_ms)
{
    Result<Message> r = try_query_version(node, path, version, timeout_ms);
    if (!r.ok())
        throw Error(r.status(), "query_version " + std::string(path.view()));
    return std::move(r).value();
}

} // namespace ipcn

#endif /* IPCNET_HISTORY_HPP */
