/* SPDX-License-Identifier: MIT */
/**
 * @file ipcnet_redundancy.hpp
 * @brief The C++ side of ipcnet_redundancy.h: several providers of one
 *        data or stream path ranked by strength, requests answered by any,
 *        all or a vote of a service's providers, requests that run at most
 *        once at a provider.
 *
 * Part of the C++ binding: ipcnet.hpp includes it (after ipcn::Node, whose
 * calls announce_owned(), owner(), request_ex() and offer_set_opts() it
 * defines), and including it alone includes ipcnet.hpp.  The rules of
 * ipcnet.hpp (errors, ownership, threads) hold here too; the meaning of
 * each call is the C function's (ipcnet_redundancy.h).
 *
 * @code
 *   ipcn::AnnounceOpts o;
 *   o.strength = 10;                         // the strongest live one owns
 *   lidar.announce_owned("robot/lidar", ipcn::Kind::Stream, "pcs", o);
 *
 *   ipcn::RequestOptions r;
 *   r.mode = ipcn::RequestMode::Vote;
 *   r.tolerance = 0.01;
 *   ipcn::Answers a = node.request_ex("robot/pose", {}, "", r);
 *   use(a.winner());                         // a.dissenting(): outvoted
 * @endcode
 *
 * Since: 0.2
 */
#ifndef IPCNET_REDUNDANCY_HPP
#define IPCNET_REDUNDANCY_HPP

#include "ipcnet.hpp"
#include "ipcnet_redundancy.h"

namespace ipcn {

/* ================================================================== */
/* Several providers of one data or stream path                        */
/* ================================================================== */

/** How a provider that does not own its path behaves (ipcn_standby). */
enum class Standby : int {
    Hot = IPCN_STANDBY_HOT,  /**< publishes all the time; subscribers drop
                                  (and count, SubStats::standby) its samples
                                  while another owns the path */
    Warm = IPCN_STANDBY_WARM /**< publishes only once it owns the path:
                                  publish() gives 207 until then */
};

/** Options of Node::announce_owned() (ipcn_announce_opts). */
struct AnnounceOpts {
    std::int32_t strength = 0;      /**< the highest live provider owns */
    Standby standby = Standby::Hot;

    /** @cond internal */
    ipcn_announce_opts c() const noexcept
    {
        ipcn_announce_opts o;
        ipcn_announce_opts_init(&o);
        o.strength = strength;
        o.standby = static_cast<ipcn_standby>(standby);
        return o;
    }
    /** @endcond */
};

/** Who owns a path, as this node sees it (ipcn_owner_info; a copy). */
struct OwnerInfo {
    std::string owner;              /**< the owner's node name ("" when none) */
    std::uint64_t owner_id = 0;
    std::int32_t strength = 0;      /**< its strength */
    bool self = false;              /**< this node owns the path */
    std::uint32_t providers = 0;    /**< live providers ranked, this node's included */
    std::uint64_t changes = 0;      /**< times the owner changed, as seen here */
};

/* ================================================================== */
/* Requests to several providers                                       */
/* ================================================================== */

/** Who answers a request (ipcn_req_mode). */
enum class RequestMode : int {
    Any = IPCN_REQ_ANY,  /**< one provider, the next one if it fails */
    All = IPCN_REQ_ALL,  /**< every provider; every answer is gathered */
    Vote = IPCN_REQ_VOTE /**< every provider; quorum equal answers win */
};

/** Options of Node::request_ex() (ipcn_request_opts). */
struct RequestOptions {
    RequestMode mode = RequestMode::Any;
    int timeout_ms = 5000;
    std::uint32_t quorum = 0;        /**< Vote: equal answers needed; 0: a
                                          majority of those asked */
    double tolerance = 0;            /**< Vote: numbers of CBOR answers
                                          within this count as equal */
    std::uint64_t request_id = 0;    /**< 0: a new request; else a retry of
                                          Answers::request_id() */
    std::uint32_t max_providers = 0; /**< All, Vote: ask at most this many
                                          (0: all, up to IPCN_REQ_MAX_ASKED) */

    /** @cond internal */
    ipcn_request_opts c() const noexcept
    {
        ipcn_request_opts o;
        ipcn_request_opts_init(&o);
        o.mode = static_cast<ipcn_req_mode>(mode);
        o.timeout_ms = timeout_ms;
        o.quorum = quorum;
        o.tolerance = tolerance;
        o.request_id = request_id;
        o.max_providers = max_providers;
        return o;
    }
    /** @endcond */
};

/** One provider's part in a request_ex() (ipcn_answer; a copy). */
struct Answer {
    std::string provider;           /**< its node name */
    std::uint64_t provider_id = 0;
    int status = 0;                 /**< its answer's status; 304 when it did
                                         not answer by the deadline, 303
                                         when it left */
    Message msg;                    /**< its answer (empty when none) */
    bool agrees = false;            /**< Vote: its answer is the winner's */
};

/**
 * The answers of a request_ex(): a copy of the C ipcn_answers, whose
 * messages are held by reference (Message: no copy of the bytes), so it
 * owns everything it shows and may outlive the node.  Copyable.
 */
class Answers {
public:
    /** No answers, with status 200. */
    Answers() noexcept = default;
    /** No answers: the status of a call that gave none (200, 307). */
    explicit Answers(int status) noexcept : status_(status) {}
    /** A copy of a; a stays the caller's (free it with ipcn_answers_free()). */
    explicit Answers(const ipcn_answers &a) : status_(a.status), request_id_(a.request_id),
        agreeing_(a.agreeing), dissenting_(a.dissenting)
    {
        if (a.winner)
            winner_ = Message(ipcn_msg_ref(a.winner));
        items_.reserve(a.count);
        for (std::size_t i = 0; i < a.count; i++) {
            const ipcn_answer &x = a.items[i];
            Answer y;
            y.provider = x.provider ? x.provider : "";
            y.provider_id = x.provider_id;
            y.status = x.status;
            if (x.msg)
                y.msg = Message(ipcn_msg_ref(x.msg));
            y.agrees = x.agrees;
            items_.push_back(std::move(y));
        }
    }

    /** What ipcn_request_ex() returned. */
    int status() const noexcept { return status_; }
    /** The status is 100..199 (100, or 104 for All when some did not answer). */
    bool ok() const noexcept { return is_ok(status_); }
    /** Same as ok(). */
    explicit operator bool() const noexcept { return ok(); }
    /** Pass it as RequestOptions::request_id to retry this request. */
    std::uint64_t request_id() const noexcept { return request_id_; }
    /** Any: the answer; Vote: one of the agreeing ones; else empty. */
    const Message &winner() const noexcept { return winner_; }
    /** Vote: answers equal to the winner. */
    std::uint32_t agreeing() const noexcept { return agreeing_; }
    /** Vote: answers that came and differ (their providers are charged
     *  an IPCN_OFFENCE_DISSENT). */
    std::uint32_t dissenting() const noexcept { return dissenting_; }
    /** Every provider asked, in the order asked. */
    const std::vector<Answer> &items() const noexcept { return items_; }
    /** Providers asked. */
    std::size_t size() const noexcept { return items_.size(); }
    /** The i-th provider asked (unchecked). */
    const Answer &operator[](std::size_t i) const noexcept { return items_[i]; }
    std::vector<Answer>::const_iterator begin() const noexcept { return items_.begin(); }
    std::vector<Answer>::const_iterator end() const noexcept { return items_.end(); }

private:
    int status_ = IPCN_BAD_REQUEST;
    std::uint64_t request_id_ = 0;
    std::uint32_t agreeing_ = 0, dissenting_ = 0;
    Message winner_;
    std::vector<Answer> items_;
};

/* ================================================================== */
/* Requests that run at most once                                      */
/* ================================================================== */

/** Options of a service this node offers (ipcn_offer_opts). */
struct OfferOptions {
    bool at_most_once = false;        /**< a request id it ran is answered
                                           from a cache, not run again */
    std::uint32_t cache_ms = 30000;   /**< how long an answer is kept */
    std::uint32_t cache_entries = 1024; /**< answers kept at most */

    /** @cond internal */
    ipcn_offer_opts c() const noexcept
    {
        ipcn_offer_opts o;
        ipcn_offer_opts_init(&o);
        o.at_most_once = at_most_once;
        o.cache_ms = cache_ms;
        o.cache_entries = cache_entries;
        return o;
    }
    /** @endcond */
};

/* ================================================================== */
/* Node's calls                                                        */
/* ================================================================== */

inline int Node::announce_owned(CStr path, Kind kind, CStr encoding, Bytes meta,
                                const AnnounceOpts &o)
{
    ipcn_announce_opts c = o.c();
    return detail::check(ipcn_announce_owned(n(), path.c_str(), static_cast<ipcn_kind>(kind),
                                             encoding.c_str(), meta.data(), meta.size(), &c),
                         "announce owned", path.view());
}

inline int Node::announce_owned(CStr path, Kind kind, CStr encoding, const AnnounceOpts &o)
{
    return announce_owned(path, kind, encoding, Bytes(), o);
}

inline Result<OwnerInfo> Node::try_owner(CStr path) const
{
    ipcn_owner_info c{};
    c.size = sizeof c;
    int st = ipcn_owner_get(get(), path.c_str(), &c);
    if (st != IPCN_OK)
        return Result<OwnerInfo>(st);
    OwnerInfo o;
    c.owner[sizeof c.owner - 1] = 0;
    o.owner = c.owner;
    o.owner_id = c.owner_id;
    o.strength = c.strength;
    o.self = c.self;
    o.providers = c.providers;
    o.changes = c.changes;
    return Result<OwnerInfo>(st, std::move(o));
}

inline OwnerInfo Node::owner(CStr path) const
{
    n();
    Result<OwnerInfo> r = try_owner(path);
    detail::check(r.status(), "owner", path.view());
    return std::move(r).value();
}

inline Answers Node::try_request_ex(CStr path, Bytes data, CStr encoding,
                                    const RequestOptions &o)
{
    ipcn_request_opts c = o.c();
    ipcn_answers *out = nullptr;
    int st = ipcn_request_ex(get(), path.c_str(), data.data(), data.size(), encoding.c_str(), &c,
                             &out);
    if (!out)
        return Answers(st);
    std::unique_ptr<ipcn_answers, void (*)(ipcn_answers *)> g(out, ipcn_answers_free);
    Answers a(*out);
    return a;
}

inline Answers Node::request_ex(CStr path, Bytes data, CStr encoding, const RequestOptions &o)
{
    n();
    Answers a = try_request_ex(path, data, encoding, o);
    detail::check(a.status(), "request", path.view());
    return a;
}

inline void Node::offer_set_opts(CStr path, const OfferOptions &o)
{
    ipcn_offer_opts c = o.c();
    detail::check(ipcn_offer_set_opts(n(), path.c_str(), &c), "offer options", path.view());
}

} // namespace ipcn

#endif /* IPCNET_REDUNDANCY_HPP */
