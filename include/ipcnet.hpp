/* SPDX-License-Identifier: MIT */
/**
 * @file ipcnet.hpp
 * @brief The C++ binding of IPCNet: a header-only layer over ipcnet.h,
 *        ipcnet_value.h, ipcnet_redundancy.h (and nothing else;
 *        ipcnet_dlpack.h stays optional).
 *
 * Requires C++17 (also builds as C++20, where byte views convert to
 * std::span).  Link with libipcnet as a C program would
 * (`pkg-config --cflags --libs ipcnet`, or `ipcnet::ipcnet` in CMake).
 *
 * @par Errors: one rule
 *  - A method that returns a value (a Message, a list, a Subscription...)
 *    returns it when the C call gives 100 OK and throws ipcn::Error for any
 *    other status, 103 No Data included (there is no value to return).
 *  - A method that returns nothing, or a status, returns the success code
 *    (100..199) and throws ipcn::Error for 200 and up.
 *  - Calls whose failure is a normal outcome also come as `try_*()`: they
 *    return an ipcn::Result<T> (or, for calls without a value, the plain
 *    status) and never throw ipcn::Error: try_open (207 name taken),
 *    try_query (103, 203, 304...), try_request (the provider's status),
 *    try_set (207 version changed, the provider's refusal),
 *    try_take (103 none in time), try_wait_peers / try_wait_synced (304),
 *    try_publish, try_loan (306 pool exhausted), Responder::try_respond
 *    (303 requester gone), try_owner (203 no owner), try_request_ex
 *    (an ipcn::Answers, whose status() is the call's: 207 no quorum...).
 *  - Checks return their answer and never throw: pattern_match() a bool,
 *    Message::verify() its status (100, 302 overwritten, 103 unknown).
 *  - Destructors and close() never throw.  std::bad_alloc may come from any
 *    call that builds C++ objects.
 *  - Nothing ever propagates through a C callback: an exception that leaves
 *    your callback is caught, reported on stderr (IPCN-CPP-CALLBACK-THREW),
 *    and a service handler's request is answered 300 Internal Process Error.
 *
 * @par Ownership
 *  - ipcn::Node owns an ipcn_node (move-only; the destructor closes it).
 *  - ipcn::Message owns one reference of an ipcn_msg; copying takes another
 *    (ipcn_msg_ref(), no copy of the bytes); the last one frees it.  A
 *    Message stays valid after its node is closed, on any thread.
 *  - ipcn::MessageView is the const message handed to a callback: valid
 *    only until the callback returns; MessageView::ref() keeps it as a
 *    Message without copying.
 *  - Handles made by a Node (Subscription, Request, Responder, Loan) share
 *    the node's lifetime state: when the node is closed first they become
 *    inert (their calls report 303, their destructors do nothing).
 *  - Every callback (std::function) is owned by the node: freed when its
 *    Subscription is destroyed or unsubscribed, when a service is
 *    withdrawn, when an async request is answered or cancelled, when the
 *    event callback is replaced, and at the latest when the node closes.
 *    The library passes callbacks an id, not a pointer, so a callback that
 *    was already dequeued when it was removed is simply skipped.
 *
 * @par Threads
 *  The rules of ipcnet.h apply: every Node method is thread-safe except
 *  close(), the destructor and move-assignment, which must be the last
 *  call on the node; callbacks run only inside dispatch() or on the node's
 *  own thread (start_thread()), never inside the call that registered them;
 *  a callback may call any method except close(), stop_thread() and
 *  dispatch().  Handles (Subscription, Request, Responder, Loan) may be used
 *  and destroyed from any thread, also while the node is being closed on
 *  another: close() waits for their calls in progress (so do not close
 *  while a handle waits forever, e.g. Subscription::take(-1)).
 *
 * @par Example
 * @code
 *   ipcn::Node node("hello-server");
 *   node.offer("demo/hello", "text/plain",
 *              [](const ipcn::MessageView &req, ipcn::Reply &reply) {
 *                  reply.set("hello, " + std::string(req.text()), "text/plain");
 *                  return IPCN_OK;
 *              });
 *   node.start_thread();
 *   // elsewhere:
 *   ipcn::Message answer = client.request("demo/hello", "world", "text/plain", 500);
 * @endcode
 *
 * Since: 0.1
 */
#ifndef IPCNET_HPP
#define IPCNET_HPP

#include "ipcnet.h"
#include "ipcnet_schema.h"
#include "ipcnet_value.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#if __cplusplus >= 202002L && __has_include(<span>)
#include <span>
#define IPCN_HPP_HAS_SPAN 1
#endif

/** The C++ binding of IPCNet. */
namespace ipcn {

class Message;
class Node;
/* Of ipcnet_redundancy.hpp (Node's calls of ipcnet_redundancy.h). */
struct AnnounceOpts;
struct OwnerInfo;
struct RequestOptions;
class Answers;
struct OfferOptions;

/* ================================================================== */
/* Status codes and errors                                             */
/* ================================================================== */

/** The name of a status code ("Not Found"); see ipcn_status_str(). */
inline const char *status_str(int status) noexcept { return ipcn_status_str(status); }

/** True for a success code (100..199), as IPCN_IS_OK(). */
constexpr bool is_ok(int status) noexcept { return static_cast<unsigned>(status) - 100u < 100u; }

/** The library's version string ("0.1.0"). */
inline const char *version() noexcept { return ipcn_version(); }

/** Does path match pattern ('*' one segment, '**' any depth)? */
inline bool pattern_match(const char *pattern, const char *path) noexcept
{
    return ipcn_pattern_match(pattern, path) == 1;
}

/**
 * The exception thrown for a status that is not a success.  what() reads
 * "<code> <Name>: <context>" ("203 Not Found: request arm/move"), as the
 * ipcnet tool prints failures.  Copyable; carries no reference to a node.
 */
class Error : public std::runtime_error {
public:
    /** @param status  the ipcn status code (or an application code >= 1000)
     *  @param context what was being done, appended to the message. */
    explicit Error(int status, const std::string &context = std::string())
        : std::runtime_error(format(status, context)), status_(status)
    {
    }

    /** The status code. */
    int status() const noexcept { return status_; }
    /** ipcn_status_str(status()): "Not Found". */
    const char *status_text() const noexcept { return ipcn_status_str(status_); }

private:
    static std::string format(int status, const std::string &context)
    {
        std::string s = std::to_string(status);
        s += ' ';
        s += ipcn_status_str(status);
        if (!context.empty()) {
            s += ": ";
            s += context;
        }
        return s;
    }
    int status_;
};

namespace detail {
/** Throws Error(st, context) unless st is a success code; returns st. */
inline int check(int st, const char *what, std::string_view arg = {})
{
    if (is_ok(st))
        return st;
    std::string ctx = what;
    if (!arg.empty()) {
        ctx += ' ';
        ctx += arg;
    }
    throw Error(st, ctx);
}
} // namespace detail

/**
 * The outcome of a try_*() call: a status and, when the call produced one,
 * a value.  Like std::expected, but the status is always there, and a
 * failed try_request() may still carry the provider's answer (the text of
 * its 200 or of an application error).
 *  - ok() / operator bool: the status is a success (100..199) AND there is
 *    a value (so 103 No Data is not ok()).
 *  - has_value(): there is a value, whatever the status.
 *  - value(): the value when there is one; throws Error(status()) when not.
 */
template <class T>
class Result {
public:
    /** A result without value. */
    explicit Result(int status) : status_(status) {}
    /** A result with a value. */
    Result(int status, T value) : status_(status), value_(std::move(value)) {}

    /** The status of the call. */
    int status() const noexcept { return status_; }
    /** ipcn_status_str(status()). */
    const char *status_text() const noexcept { return ipcn_status_str(status_); }
    /** A success status and a value. */
    bool ok() const noexcept { return is_ok(status_) && value_.has_value(); }
    /** Same as ok(). */
    explicit operator bool() const noexcept { return ok(); }
    /** Whether a value is present (also with an error status). */
    bool has_value() const noexcept { return value_.has_value(); }

    /** The value; throws Error(status()) when there is none. */
    T &value() &
    {
        if (!value_)
            throw Error(status_);
        return *value_;
    }
    /** The value; throws Error(status()) when there is none. */
    const T &value() const &
    {
        if (!value_)
            throw Error(status_);
        return *value_;
    }
    /** The value, moved out; throws Error(status()) when there is none. */
    T &&value() &&
    {
        if (!value_)
            throw Error(status_);
        return std::move(*value_);
    }
    /** The value if present, else fallback. */
    template <class U>
    T value_or(U &&fallback) const &
    {
        if (value_.has_value())
            return *value_;
        return static_cast<T>(std::forward<U>(fallback));
    }
    /** Unchecked access (has_value() must be true). */
    T &operator*() & noexcept { return *value_; }
    /** Unchecked access (has_value() must be true). */
    const T &operator*() const & noexcept { return *value_; }
    /** Unchecked access (has_value() must be true). */
    T *operator->() noexcept { return &*value_; }
    /** Unchecked access (has_value() must be true). */
    const T *operator->() const noexcept { return &*value_; }

private:
    int status_;
    std::optional<T> value_;
};

/* ================================================================== */
/* Views: bytes, spans, C strings                                      */
/* ================================================================== */

/** A view of count elements at ptr (not owning); std::span for C++17. */
template <class T>
class Span {
public:
    /** An empty view. */
    constexpr Span() noexcept = default;
    /** count elements at ptr. */
    constexpr Span(T *ptr, std::size_t count) noexcept : p_(ptr), n_(count) {}
    /** The first element. */
    constexpr T *data() const noexcept { return p_; }
    /** The number of elements. */
    constexpr std::size_t size() const noexcept { return n_; }
    /** size() == 0. */
    constexpr bool empty() const noexcept { return n_ == 0; }
    /** Iteration. */
    constexpr T *begin() const noexcept { return p_; }
    /** Iteration. */
    constexpr T *end() const noexcept { return p_ + n_; }
    /** Element i (unchecked). */
    constexpr T &operator[](std::size_t i) const noexcept { return p_[i]; }
    /* C++20: std::span<T> converts from it (a contiguous, borrowed range). */
private:
    T *p_ = nullptr;
    std::size_t n_ = 0;
};

namespace detail {
template <class C, class = void>
struct is_byte_range : std::false_type {};
template <class C>
struct is_byte_range<C, std::void_t<decltype(std::data(std::declval<const C &>())),
                                    decltype(std::size(std::declval<const C &>()))>>
    : std::bool_constant<
          sizeof(std::remove_pointer_t<decltype(std::data(std::declval<const C &>()))>) == 1 &&
          std::is_trivially_copyable_v<
              std::remove_pointer_t<decltype(std::data(std::declval<const C &>()))>>> {};
} // namespace detail

/**
 * A read-only view of bytes: what publish(), request(), Reply::set() take
 * and what Message::data() returns.  Converts implicitly from a pointer and
 * length, from a NUL-terminated string (without the NUL), and from any
 * contiguous range of one-byte elements (std::string, std::string_view,
 * std::vector<uint8_t>, std::array<char, N>, std::span<std::byte>...).  It
 * does not own the bytes: keep them alive while it is used.
 */
class Bytes : public Span<const std::uint8_t> {
public:
    constexpr Bytes() noexcept = default;
    /** n bytes at p (p may be NULL when n is 0). */
    Bytes(const void *p, std::size_t n) noexcept
        : Span(static_cast<const std::uint8_t *>(p), n)
    {
    }
    /** A NUL-terminated string, without its NUL; NULL is empty. */
    Bytes(const char *s) noexcept : Bytes(s, s ? std::strlen(s) : 0) {}
    /** Any contiguous range of one-byte elements. */
    template <class C, std::enable_if_t<detail::is_byte_range<C>::value &&
                                            !std::is_pointer_v<C>,
                                        int> = 0>
    Bytes(const C &c) noexcept : Bytes(std::data(c), std::size(c))
    {
    }
    /** The bytes as characters. */
    std::string_view str() const noexcept
    {
        return {reinterpret_cast<const char *>(data()), size()};
    }
    /** A copy of the bytes. */
    std::vector<std::uint8_t> to_vector() const { return {begin(), end()}; }
#ifdef IPCN_HPP_HAS_SPAN
    /** C++20: as a std::span of std::byte. */
    operator std::span<const std::byte>() const noexcept
    {
        return {reinterpret_cast<const std::byte *>(data()), size()};
    }
#endif
};

/** A writable view of bytes (Loan::data(), a writable Message). */
class MutableBytes : public Span<std::uint8_t> {
public:
    constexpr MutableBytes() noexcept = default;
    /** n bytes at p. */
    MutableBytes(void *p, std::size_t n) noexcept : Span(static_cast<std::uint8_t *>(p), n) {}
    /** As a read-only view. */
    operator Bytes() const noexcept { return Bytes(data(), size()); }
#ifdef IPCN_HPP_HAS_SPAN
    /** C++20: as a std::span of std::byte. */
    operator std::span<std::byte>() const noexcept
    {
        return {reinterpret_cast<std::byte *>(data()), size()};
    }
#endif
};

/**
 * A NUL-terminated string parameter (a path, a pattern, an encoding):
 * converts from const char * and std::string without copying, and from
 * std::string_view with one copy (the C API wants NUL-terminated strings).
 * Only for parameters: it may point into a temporary.
 */
class CStr {
public:
    /** A C string (NULL is taken as ""). */
    CStr(const char *s) noexcept : p_(s ? s : "") {}
    /** A std::string, not copied. */
    CStr(const std::string &s) noexcept : p_(s.c_str()) {}
    /** A std::string_view, copied to add the NUL. */
    CStr(std::string_view s) : own_(s), p_(own_.c_str()), owns_(true) {}
    CStr(const CStr &o) : own_(o.own_), p_(o.owns_ ? own_.c_str() : o.p_), owns_(o.owns_) {}
    CStr &operator=(const CStr &) = delete;
    /** The NUL-terminated string. */
    const char *c_str() const noexcept { return p_; }
    /** As a view. */
    std::string_view view() const noexcept { return p_; }

private:
    std::string own_;
    const char *p_;
    bool owns_ = false;
};

/* ================================================================== */
/* Messages                                                            */
/* ================================================================== */

namespace detail {
/** The accessors shared by Message and MessageView. */
template <class D>
class MsgAccess {
public:
    /** The resource the message belongs to. */
    std::string_view path() const noexcept { return sv(m()->path); }
    /** How to decode data() ("" when unknown). */
    std::string_view encoding() const noexcept { return sv(m()->encoding); }
    /** The bytes. */
    Bytes data() const noexcept { return Bytes(m()->data, m()->len); }
    /** The bytes as text (no NUL; data is also NUL-terminated in memory). */
    std::string_view text() const noexcept
    {
        return {static_cast<const char *>(m()->data), m()->len};
    }
    /** The length of data(). */
    std::size_t size() const noexcept { return m()->len; }
    /** Its status: 100 for a value; 303 in a subscription when a provider
     *  withdrew a resource or left (data() is then empty). */
    int status() const noexcept { return m()->status; }
    /** The node that sent it: id and name. */
    std::uint64_t src_id() const noexcept { return m()->src_id; }
    /** The node that sent it, by name. */
    std::string_view src_name() const noexcept { return sv(m()->src_name); }
    /** Per-resource sequence number (samples). */
    std::uint64_t seq() const noexcept { return m()->seq; }
    /** CLOCK_REALTIME when published (samples), in ns. */
    std::uint64_t timestamp_ns() const noexcept { return m()->timestamp_ns; }
    /** IPCN_MSG_* bits. */
    std::uint32_t flags() const noexcept { return m()->flags; }
    /** True when data() maps the publisher's shared memory (read-only). */
    bool shared() const noexcept { return (m()->flags & IPCN_MSG_SHARED) != 0; }
    /** True for a private writable view (Message::writable()). */
    bool is_writable() const noexcept { return (m()->flags & IPCN_MSG_WRITABLE) != 0; }
    /** ipcn_msg_verify(), a check that does not throw: 100 when the bytes
     *  are as published, 302 when a shared-memory sample was overwritten
     *  since, 103 when its publisher took no checksum. */
    int verify() const noexcept { return ipcn_msg_verify(m()); }
    /** A 205 over a rate limit: the milliseconds after which to retry
     *  (ipcn_msg_retry_after_ms()), else -1. */
    int retry_after_ms() const noexcept { return ipcn_msg_retry_after_ms(m()); }
    /** The C message (owned by this object; do not free it). */
    const ipcn_msg *get() const noexcept { return m(); }

    /** A private, writable view of the bytes (ipcn_msg_writable(): copy on
     *  write for shared memory, a copy otherwise).  Throws Error
     *  (307, 300).  Thread-safe. */
    Message writable() const;
    /** Another reference of this message, without a copy (ipcn_msg_ref()). */
    Message ref() const;

private:
    const ipcn_msg *m() const noexcept { return static_cast<const D *>(this)->raw(); }
    static std::string_view sv(const char *s) noexcept
    {
        return s ? std::string_view(s) : std::string_view();
    }
};
} // namespace detail

/**
 * A message owned by the program: a query answer, a reply, a taken sample,
 * or a callback's message kept with MessageView::ref().
 * Copyable: a copy takes another reference of the same bytes
 * (ipcn_msg_ref(), no copy); the last one frees them (ipcn_msg_free()),
 * which for a shared-memory sample gives its slot back to the publisher, so
 * hold few, briefly.  Safe to use, copy and free from any thread, also
 * after its node was closed.  An empty Message (default-constructed or
 * moved-from) has no accessors: check with operator bool / empty().
 */
class Message : public detail::MsgAccess<Message> {
public:
    /** An empty message. */
    Message() noexcept = default;
    /** Take ownership of msg (one reference); NULL gives an empty one. */
    explicit Message(ipcn_msg *msg) noexcept : m_(msg) {}
    ~Message() { ipcn_msg_free(m_); }
    Message(const Message &o) noexcept : m_(o.m_ ? ipcn_msg_ref(o.m_) : nullptr) {}
    Message(Message &&o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    Message &operator=(const Message &o) noexcept
    {
        if (this != &o) {
            ipcn_msg *n = o.m_ ? ipcn_msg_ref(o.m_) : nullptr;
            ipcn_msg_free(m_);
            m_ = n;
        }
        return *this;
    }
    Message &operator=(Message &&o) noexcept
    {
        if (this != &o) {
            ipcn_msg_free(m_);
            m_ = std::exchange(o.m_, nullptr);
        }
        return *this;
    }

    /** True when the message holds something. */
    explicit operator bool() const noexcept { return m_ != nullptr; }
    /** True when the message is empty. */
    bool empty() const noexcept { return m_ == nullptr; }

    /** The writable bytes of a view made by writable(); throws Error(200)
     *  for any other message (whose bytes are read-only). */
    MutableBytes mutable_data() const &
    {
        if (!m_ || !(m_->flags & IPCN_MSG_WRITABLE))
            throw Error(IPCN_BAD_REQUEST, "mutable_data: the message is not writable");
        return MutableBytes(const_cast<void *>(m_->data), m_->len);
    }
    /** Not on a temporary (its bytes go with it). */
    MutableBytes mutable_data() const && = delete;
    /** @name Accessors of a temporary Message
     *  On an rvalue (`node.request(...).text()`), the string accessors
     *  return copies, since a view would dangle at the end of the full
     *  expression; data() of an rvalue does not compile: name the Message.
     *  @{ */
    std::string_view text() const & noexcept { return MsgAccess::text(); }
    std::string text() const && { return std::string(MsgAccess::text()); }
    std::string_view path() const & noexcept { return MsgAccess::path(); }
    std::string path() const && { return std::string(MsgAccess::path()); }
    std::string_view encoding() const & noexcept { return MsgAccess::encoding(); }
    std::string encoding() const && { return std::string(MsgAccess::encoding()); }
    std::string_view src_name() const & noexcept { return MsgAccess::src_name(); }
    std::string src_name() const && { return std::string(MsgAccess::src_name()); }
    Bytes data() const & noexcept { return MsgAccess::data(); }
    Bytes data() const && = delete;
    /** @} */

    /** Give up ownership: the caller frees the result with ipcn_msg_free(). */
    ipcn_msg *release() noexcept { return std::exchange(m_, nullptr); }

    /** @cond internal */
    const ipcn_msg *raw() const noexcept { return m_; }
    /** @endcond */

private:
    ipcn_msg *m_ = nullptr;
};

/**
 * The const message handed to a callback; valid only until the callback
 * returns.  ref() keeps it as a Message (another reference, no copy).
 * A view of a request_async() callback may be empty (no answer came):
 * check with operator bool.
 */
class MessageView : public detail::MsgAccess<MessageView> {
public:
    /** A view of msg (not owned); NULL makes an empty view. */
    explicit MessageView(const ipcn_msg *msg) noexcept : m_(msg) {}
    /** True unless the view is empty. */
    explicit operator bool() const noexcept { return m_ != nullptr; }
    /** @cond internal */
    const ipcn_msg *raw() const noexcept { return m_; }
    /** @endcond */
private:
    const ipcn_msg *m_;
};

namespace detail {
template <class D>
inline Message MsgAccess<D>::ref() const
{
    return Message(ipcn_msg_ref(m()));
}

template <class D>
inline Message MsgAccess<D>::writable() const
{
    ipcn_msg *out = nullptr;
    check(ipcn_msg_writable(m(), &out), "writable", path());
    return Message(out);
}
} // namespace detail

/* ================================================================== */
/* Plain data: resources, peers, subscriptions, events, counters       */
/* ================================================================== */

/** The kind of a resource (ipcn_kind). */
enum class Kind : int {
    Any = IPCN_ANY,        /**< only as a filter of find() */
    Data = IPCN_DATA,      /**< a value the provider holds */
    Stream = IPCN_STREAM,  /**< samples published over time */
    Service = IPCN_SERVICE /**< a routine others request */
};

/** "data", "stream", "service" or "any". */
inline const char *kind_name(Kind k) noexcept
{
    switch (k) {
    case Kind::Data:
        return "data";
    case Kind::Stream:
        return "stream";
    case Kind::Service:
        return "service";
    default:
        return "any";
    }
}

/** A resource known to the network, as find() reports it (a copy). */
struct Resource {
    std::string path;
    Kind kind = Kind::Any;
    std::string encoding;
    std::vector<std::uint8_t> meta; /**< opaque metadata (a CBOR map by convention) */
    std::string provider;           /**< the providing node's name */
    std::uint64_t provider_id = 0;
    std::uint64_t version = 0;      /**< goes up on each re-announce */
};

/** How much the robot needs a node (ipcn_criticality).  Since: 0.2 */
enum class Criticality : std::uint32_t {
    Unset = IPCN_CRIT_UNSET,         /**< not said */
    Optional = IPCN_CRIT_OPTIONAL,   /**< the robot runs without it */
    Important = IPCN_CRIT_IMPORTANT, /**< its loss is an alarm */
    Critical = IPCN_CRIT_CRITICAL    /**< its loss stops the robot safely */
};

/** A linked peer, as peers() reports it (a copy). */
struct Peer {
    std::string name;
    std::uint64_t id = 0;
    std::int32_t pid = 0, uid = 0, gid = 0;
    std::uint64_t linked_ns = 0;
    std::uint32_t resources = 0;
    std::uint64_t frames_in = 0, frames_out = 0, bytes_in = 0, bytes_out = 0;
    std::uint64_t bad_frames = 0;
    std::uint64_t drops = 0;
    /** Its principal, as the kernel told it when the link started
     *  (ipcn_peer_list_get_info()): supplementary groups, the
     *  executable's path (empty when it could not be read: another user's
     *  process) and SHA-256 (when exe_hashed).  Since: 0.2 */
    std::vector<std::uint32_t> groups;
    std::string exe;
    bool exe_hashed = false;
    std::uint8_t exe_sha256[32] = {};
    /** What this node refused it by policy or by its own rules, and what
     *  an audit policy let through (ipcn_peer_info).  Since: 0.2 */
    std::uint64_t denied = 0, audited = 0;
    /** What it said of itself (protocol 7.6): its criticality, and
     *  whether it is ready (Node::ready()).  Since: 0.2 */
    Criticality criticality = Criticality::Unset;
    bool ready = false;
};

/** The verbs of an AccessRule (IPCN_ACCESS_*), ORed.  Since: 0.2 */
constexpr std::uint32_t access_read = IPCN_ACCESS_READ;       /**< find, query, subscribe */
constexpr std::uint32_t access_write = IPCN_ACCESS_WRITE;     /**< set() */
constexpr std::uint32_t access_execute = IPCN_ACCESS_EXECUTE; /**< request */

/** One rule of a provider for one of its resources (ipcn_access_rule):
 *  `{false, ipcn::access_execute, "node:teleop"}`; who is a selector
 *  ("any", "user:NAME", "unix_group:NAME", "group:NAME", "node:GLOB",
 *  "exe:PATH", "sha256:HEX", ANDed when separated by spaces).  Since: 0.2 */
struct AccessRule {
    bool deny = false;        /**< false: allow */
    std::uint32_t verbs = 0;  /**< access_* ORed, at least one */
    std::string who;
};

/** One subscription pattern of a node, as subscriptions() reports it. */
struct SubscriptionInfo {
    std::string node;
    std::uint64_t node_id = 0;
    std::string pattern;
};

/** What one peer sends this node on one path with one verb, as
 *  traffic() reports it (a copy of ipcn_traffic_item).  Since: 0.2 */
struct TrafficItem {
    std::string peer;
    std::uint64_t peer_id = 0;
    std::string path;           /**< "*": the rest */
    ipcn_traffic_verb verb = IPCN_TRAFFIC_REQUEST;
    bool anomalous = false;     /**< in an anomaly episode now */
    double rate_per_s = 0;      /**< its normal rate */
    double rate_now = 0;        /**< the last second's */
    double mean_bytes = 0;
    std::uint64_t count = 0, bytes = 0;
    double idle_s = 0;
    std::uint64_t anomalies = 0;
};

/** What happened (ipcn_event_type). */
enum class EventType : int {
    PeerUp = IPCN_EV_PEER_UP,
    PeerDown = IPCN_EV_PEER_DOWN,
    ResourceUp = IPCN_EV_RESOURCE_UP,
    ResourceDown = IPCN_EV_RESOURCE_DOWN,
    Quarantine = IPCN_EV_QUARANTINE, /**< a peer quarantined, banned or
                                         lifted (docs/reputation.md).
                                         Since: 0.2 */
    Compromise = IPCN_EV_COMPROMISE, /**< evidence of a compromised peer
                                         (docs/compromise.md).  Since: 0.2 */
    PeerReady = IPCN_EV_PEER_READY,  /**< a peer said it is ready
                                         (Node::ready()).  Since: 0.2 */
    CriticalLost = IPCN_EV_CRITICAL_LOST, /**< a critical peer left or died
                                         (after its PeerDown, with the
                                         same status).  Since: 0.2 */
    Owner = IPCN_EV_OWNER            /**< the owner of an owned path changed
                                         (ipcnet_redundancy.hpp): path,
                                         kind, peer the new owner (this
                                         node's name when it took over; ""
                                         with status 303 when none is
                                         left).  Since: 0.2 */
};

/** An event given to the event callback (a copy: keep it as long as you
 *  like). */
struct Event {
    EventType type = EventType::PeerUp;
    std::string peer;           /**< the peer's name */
    std::uint64_t peer_id = 0;
    std::string path;           /**< resource events only, else empty */
    Kind kind = Kind::Any;      /**< resource events only */
    int status = 0;             /**< PeerDown: 100 goodbye, 303, 304, 200;
                                     Compromise: the action taken
                                     (ipcn_compromise_action) */
    /** Compromise only: the evidence (kind, text, criticality, isolated,
     *  ...; its name and detail pointers are null: see peer and detail).
     *  Since: 0.2 */
    ipcn_compromise compromise{};
    std::string detail;         /**< Compromise: the evidence's text */
};

/** Counters of a node (ipcn_node_get_stats()). */
using NodeStats = ipcn_node_stats;
/** Counters of a subscription (ipcn_sub_get_stats()). */
using SubStats = ipcn_sub_stats;
/** Counters of a resource's shared-memory pool. */
using PoolStats = ipcn_pool_stats;
/** What a resource of this node keeps for late subscribers
 *  (ipcn_keep_get_stats()).  Since: 0.2 */
using KeepStats = ipcn_keep_stats;

/** Options of Node::subscribe() (ipcn_subscribe_ex()).  Since: 0.2 */
struct SubscribeOptions {
    std::uint32_t queue_depth = 0; /**< 0: 64 */
    /** Take what providers keep first: a data resource's current value,
     *  a stream's last samples (see "Late subscribers" in ipcnet.h);
     *  false: only what is published from now on (IPCN_SUB_NO_HISTORY). */
    bool history = true;
};

/** Options of a Node; zero or empty fields keep the library's defaults. */
struct NodeOptions {
    std::string network;            /**< "": $IPCNET_NETWORK, else "default" */
    std::string dir;                /**< "": $IPCNET_DIR, else the default */
    std::uint32_t heartbeat_ms = 0;
    std::uint32_t dead_after_ms = 0;
    std::uint32_t max_payload = 0;
    std::uint32_t tx_limit = 0;
    std::uint32_t idle_probe_ms = 0;  /**< the slow probe of an idle link */
    std::uint32_t max_peers = 0;      /**< peers linked at once */
    /** Told to every peer; Unset: $IPCNET_CRITICALITY ("optional",
     *  "important", "critical"; anything else: Error 200), else none.
     *  Since: 0.2 */
    Criticality criticality = Criticality::Unset;
};

/** Shared-memory pool settings of a resource (see ipcn_pool_opts). */
struct PoolOptions {
    std::uint32_t slots = 0;        /**< 0: the library's default */
    std::size_t slot_size = 0;      /**< 0: sized by the first loan */
    ipcn_pool_policy policy = IPCN_POOL_DROP_OLDEST;
    std::size_t shm_threshold = 0;  /**< 0: IPCN_SHM_THRESHOLD; SIZE_MAX: never */
    bool checksum = true;           /**< a checksum per sample, for verify() */
};

/* ================================================================== */
/* Internals: node lifetime and callback registry                      */
/* ================================================================== */

/** @cond internal */
namespace detail {

/* What a node's handles share: the C node while it is open.  `life` is
 * held shared by calls made through handles and exclusively by close(), so
 * that a handle used on another thread never sees a freed node. */
struct Core {
    ipcn_node *node = nullptr;
    std::shared_mutex life;
    std::mutex m;                                   /* guards the ones below */
    std::map<std::string, std::uint64_t> services;  /* path -> callback key */
    std::map<std::string, std::uint64_t> set_checks; /* path -> callback key */
    std::uint64_t shutdown_keys[2] = {0, 0};        /* by ShutdownPhase - 1 */
    std::uint64_t event_key = 0;
    /* Loans not yet ended: close() discards them, since the library does
     * not free a loan still outstanding when its node closes. */
    std::vector<ipcn_loan *> loans;
    void forget_loan(ipcn_loan *l) noexcept
    {
        std::lock_guard<std::mutex> lk(m);
        for (auto &x : loans)
            if (x == l) {
                x = loans.back();
                loans.pop_back();
                return;
            }
    }
};

/* Runs fn(core) with the node kept open; returns 303 when it was closed. */
template <class F>
inline int with_core(const std::weak_ptr<Core> &wc, F &&fn)
{
    std::shared_ptr<Core> c = wc.lock();
    if (!c)
        return IPCN_SERVICE_UNAVAILABLE;
    std::shared_lock<std::shared_mutex> lk(c->life);
    if (!c->node)
        return IPCN_SERVICE_UNAVAILABLE;
    return fn(*c);
}

/* Runs fn(node) with the node kept open; returns 303 when it was closed. */
template <class F>
inline int with_node(const std::weak_ptr<Core> &wc, F &&fn)
{
    std::shared_ptr<Core> c = wc.lock();
    if (!c)
        return IPCN_SERVICE_UNAVAILABLE;
    std::shared_lock<std::shared_mutex> lk(c->life);
    if (!c->node)
        return IPCN_SERVICE_UNAVAILABLE;
    return fn(c->node);
}

struct SlotBase {
    virtual ~SlotBase() = default;
};

/* The callbacks of every node of this program, by key.  The C library gets
 * the key as its user pointer, never the address of a std::function: a
 * callback removed while the library was about to call it is then just not
 * found, and is freed only when no call of it is running (the trampoline
 * holds a shared_ptr while it calls). */
class Registry {
public:
    std::uint64_t add(const void *owner, std::shared_ptr<SlotBase> slot)
    {
        std::lock_guard<std::mutex> lk(m_);
        std::uint64_t k = next_++;
        map_.emplace(k, Entry{owner, std::move(slot)});
        return k;
    }
    template <class S>
    std::shared_ptr<S> get(void *user)
    {
        auto k = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(user));
        std::lock_guard<std::mutex> lk(m_);
        auto it = map_.find(k);
        if (it == map_.end())
            return nullptr;
        return std::static_pointer_cast<S>(it->second.slot);
    }
    void remove(std::uint64_t k) noexcept
    {
        std::shared_ptr<SlotBase> dead; /* destroyed after the unlock */
        {
            std::lock_guard<std::mutex> lk(m_);
            auto it = map_.find(k);
            if (it == map_.end())
                return;
            dead = std::move(it->second.slot);
            map_.erase(it);
        }
    }
    void remove_owner(const void *owner) noexcept
    {
        std::vector<std::shared_ptr<SlotBase>> dead;
        {
            std::lock_guard<std::mutex> lk(m_);
            for (auto it = map_.begin(); it != map_.end();) {
                if (it->second.owner == owner) {
                    try {
                        dead.push_back(std::move(it->second.slot));
                    } catch (...) {
                        /* no memory: destroy under the lock instead; a
                         * callback's captures must not call back here */
                    }
                    it = map_.erase(it);
                } else {
                    ++it;
                }
            }
        }
    }
    std::size_t count(const void *owner = nullptr)
    {
        std::lock_guard<std::mutex> lk(m_);
        if (!owner)
            return map_.size();
        std::size_t n = 0;
        for (auto &e : map_)
            n += e.second.owner == owner;
        return n;
    }

private:
    struct Entry {
        const void *owner;
        std::shared_ptr<SlotBase> slot;
    };
    std::mutex m_;
    std::unordered_map<std::uint64_t, Entry> map_;
    std::uint64_t next_ = 1;
};

/* Never destroyed, so that a node thread still running at exit finds it. */
inline Registry &registry()
{
    static Registry *r = new Registry;
    return *r;
}

inline void *key_ptr(std::uint64_t k) noexcept
{
    return reinterpret_cast<void *>(static_cast<std::uintptr_t>(k));
}

/* An exception left a callback: report it, never rethrow into C. */
inline void report_exception(const char *where, std::string_view path) noexcept
{
    const char *what = "an exception not derived from std::exception";
    try {
        throw;
    } catch (const std::exception &e) {
        what = e.what();
    } catch (...) {
    }
    std::fprintf(stderr, "ipcnet.hpp: IPCN-CPP-CALLBACK-THREW: %s %.*s: %s\n", where,
                 static_cast<int>(path.size()), path.data(), what);
}

} // namespace detail
/** @endcond */

/* ================================================================== */
/* Services: Reply, Responder                                          */
/* ================================================================== */

/**
 * A request being answered later, from any thread (Reply::defer()).
 * Move-only; answer exactly once with respond() or try_respond().  One
 * destroyed without answering answers 300 Internal Process Error, so that
 * the requester does not wait for its timeout.  When the node was closed
 * first, answering reports 303 and the destructor does nothing.
 */
class Responder {
public:
    /** An empty responder (nothing to answer). */
    Responder() noexcept = default;
    ~Responder()
    {
        if (pending_)
            try_respond(IPCN_INTERNAL_ERROR, "the responder was dropped", "text/plain");
    }
    Responder(Responder &&o) noexcept
        : core_(std::move(o.core_)), r_(o.r_), pending_(std::exchange(o.pending_, false))
    {
    }
    Responder &operator=(Responder &&o) noexcept
    {
        if (this != &o) {
            if (pending_)
                try_respond(IPCN_INTERNAL_ERROR, "the responder was dropped", "text/plain");
            core_ = std::move(o.core_);
            r_ = o.r_;
            pending_ = std::exchange(o.pending_, false);
        }
        return *this;
    }
    Responder(const Responder &) = delete;
    Responder &operator=(const Responder &) = delete;

    /** True until answered. */
    bool pending() const noexcept { return pending_; }
    /** The C responder. */
    ipcn_responder get() const noexcept { return r_; }

    /**
     * Answer: status 100 (or an error, or an application code >= 1000)
     * and a body (copied).  Thread-safe.  Returns 100; throws Error 203
     * (already answered), 303 (the requester left, or the node was closed),
     * 200.
     */
    int respond(int status, Bytes data = {}, CStr encoding = "")
    {
        return detail::check(try_respond(status, data, encoding), "respond");
    }
    /** respond() without throwing: returns the status of ipcn_respond(). */
    int try_respond(int status, Bytes data = {}, CStr encoding = "") noexcept
    {
        if (!pending_)
            return IPCN_NOT_FOUND;
        pending_ = false;
        return detail::with_node(core_, [&](ipcn_node *n) {
            return ipcn_respond(n, r_, status, data.data(), data.size(), encoding.c_str());
        });
    }

private:
    friend class Reply;
    Responder(std::weak_ptr<detail::Core> core, ipcn_responder r) noexcept
        : core_(std::move(core)), r_(r), pending_(true)
    {
    }
    std::weak_ptr<detail::Core> core_;
    ipcn_responder r_{};
    bool pending_ = false;
};

/**
 * How a service handler answers (wraps ipcn_reply_ctx); valid only while
 * the handler runs.  Either set() a body and return the status, or defer()
 * and answer later with the Responder (the handler's return value is then
 * ignored).
 */
class Reply {
public:
    /** Set the body of the immediate answer (copied).  Throws Error 200, 307. */
    void set(Bytes data, CStr encoding = "")
    {
        if (deferred_)
            throw Error(IPCN_BAD_REQUEST, "reply set after defer");
        detail::check(ipcn_reply_set(ctx_, data.data(), data.size(), encoding.c_str()),
                      "reply set");
    }
    /** Answer later: the Responder may be moved to any thread.  Once only
     *  (a second call throws Error 200). */
    Responder defer()
    {
        if (deferred_)
            throw Error(IPCN_BAD_REQUEST, "reply deferred twice");
        deferred_ = true;
        return Responder(core_, ipcn_reply_defer(ctx_));
    }
    /** Whether defer() was called. */
    bool deferred() const noexcept { return deferred_; }
    /** The C context. */
    ipcn_reply_ctx *get() const noexcept { return ctx_; }

    /** @cond internal */
    Reply(ipcn_reply_ctx *ctx, std::weak_ptr<detail::Core> core) noexcept
        : ctx_(ctx), core_(std::move(core))
    {
    }
    /** @endcond */
    Reply(const Reply &) = delete;
    Reply &operator=(const Reply &) = delete;

private:
    ipcn_reply_ctx *ctx_;
    std::weak_ptr<detail::Core> core_;
    bool deferred_ = false;
};

/* ================================================================== */
/* Callback types                                                      */
/* ================================================================== */

/** A sample callback: msg.status() is 100 for a sample, 303 when a
 *  provider withdrew a matching resource or left. */
using SampleFn = std::function<void(const MessageView &msg)>;
/** A service handler: return the status to answer (100, an error, or an
 *  application code); ignored after reply.defer(). */
using ServiceFn = std::function<int(const MessageView &req, Reply &reply)>;
/** The callback of request_async(): status as request() would have it;
 *  reply is empty when no answer came. */
using ReplyFn = std::function<void(int status, const MessageView &reply)>;
/** The event callback. */
using EventFn = std::function<void(const Event &ev)>;
/** A set check (Node::on_set()): value is the new value (src_name(): the
 *  setter); return 100 to accept it, or the status to refuse it with (202,
 *  200, an application code). */
using SetFn = std::function<int(const MessageView &value)>;

/** The two parts a node plays in the system's ordered shutdown
 *  (ipcn_shutdown_phase). */
enum class ShutdownPhase : int {
    SafeState = IPCN_SHUTDOWN_SAFE_STATE, /**< bring what it drives to a safe state */
    Stop = IPCN_SHUTDOWN_STOP             /**< finish, release, exit */
};
/** What a shutdown handler is told (ipcn_shutdown_info); the views are
 *  valid during the call. */
struct ShutdownInfo {
    ShutdownPhase phase = ShutdownPhase::SafeState;
    std::uint32_t system_phase = 0; /**< 1 safe state, 2 producers stop,
                                         3 consumers stop, 4 the rest */
    std::uint32_t deadline_ms = 0;  /**< the time the asker gives (0: not told) */
    std::string_view reason;        /**< why ("" when not told) */
    std::string_view by;            /**< the asking node's name */
};
/** A shutdown handler (Node::on_shutdown()): return 100 when done, 102 to
 *  confirm later with Node::shutdown_done(), or an error status (an
 *  exception answers 300). */
using ShutdownFn = std::function<int(const ShutdownInfo &info)>;

/** @cond internal */
namespace detail {
template <class F>
struct FnSlot : SlotBase {
    explicit FnSlot(F f, std::weak_ptr<Core> c) : fn(std::move(f)), core(std::move(c)) {}
    F fn;
    std::weak_ptr<Core> core;
};
using SampleSlot = FnSlot<SampleFn>;
using ServiceSlot = FnSlot<ServiceFn>;
using ReplySlot = FnSlot<ReplyFn>;
using EventSlot = FnSlot<EventFn>;
using SetSlot = FnSlot<SetFn>;
using ShutdownSlot = FnSlot<ShutdownFn>;

inline void sample_tramp(ipcn_node *, const ipcn_msg *msg, void *user) noexcept
{
    auto s = registry().get<SampleSlot>(user);
    if (!s)
        return; /* unsubscribed meanwhile */
    try {
        s->fn(MessageView(msg));
    } catch (...) {
        report_exception("subscription callback for", msg && msg->path ? msg->path : "");
    }
}

inline int service_tramp(ipcn_node *, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                         void *user) noexcept
{
    auto s = registry().get<ServiceSlot>(user);
    if (!s)
        return IPCN_SERVICE_UNAVAILABLE; /* withdrawn meanwhile */
    /* The Reply lives here, outside the try, so that a handler that threw
     * after defer() is known: its Responder answered (300) when it was
     * destroyed during the unwinding, and the request must not be answered
     * twice. */
    std::optional<Reply> reply;
    try {
        reply.emplace(ctx, s->core);
        int st = s->fn(MessageView(req), *reply);
        return reply->deferred() ? IPCN_ACCEPTED : st;
    } catch (...) {
        report_exception("service handler for", req && req->path ? req->path : "");
        if (reply && reply->deferred())
            return IPCN_ACCEPTED;
        static const char why[] = "the service handler threw an exception";
        ipcn_reply_set(ctx, why, sizeof why - 1, "text/plain");
        return IPCN_INTERNAL_ERROR;
    }
}

inline int set_tramp(ipcn_node *, const char *path, const ipcn_msg *value, const char *,
                     void *user) noexcept
{
    auto s = registry().get<SetSlot>(user);
    if (!s)
        return IPCN_SERVICE_UNAVAILABLE; /* replaced meanwhile */
    try {
        return s->fn(MessageView(value));
    } catch (...) {
        report_exception("set check for", path ? path : "");
        return IPCN_INTERNAL_ERROR;
    }
}

inline int shutdown_tramp(ipcn_node *, const ipcn_shutdown_info *info, void *user) noexcept
{
    auto s = registry().get<ShutdownSlot>(user);
    if (!s)
        return IPCN_NO_DATA; /* removed meanwhile: as with no handler */
    try {
        ShutdownInfo i;
        i.phase = static_cast<ShutdownPhase>(info->phase);
        i.system_phase = info->system_phase;
        i.deadline_ms = info->deadline_ms;
        i.reason = info->reason ? info->reason : "";
        i.by = info->by ? info->by : "";
        return s->fn(i);
    } catch (...) {
        report_exception("shutdown handler of phase",
                         info->phase == IPCN_SHUTDOWN_STOP ? "stop" : "safe_state");
        return IPCN_INTERNAL_ERROR;
    }
}

inline void reply_tramp(ipcn_node *, int status, const ipcn_msg *reply, void *user) noexcept
{
    auto s = registry().get<ReplySlot>(user);
    if (!s)
        return; /* cancelled meanwhile */
    /* Runs once: the callback goes once it has been called. */
    registry().remove(static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(user)));
    try {
        s->fn(status, MessageView(reply));
    } catch (...) {
        report_exception("request callback for", reply && reply->path ? reply->path : "");
    }
}

inline void event_tramp(ipcn_node *, const ipcn_event *ev, void *user) noexcept
{
    auto s = registry().get<EventSlot>(user);
    if (!s)
        return; /* replaced meanwhile */
    try {
        Event e;
        e.type = static_cast<EventType>(ev->type);
        e.peer = ev->peer ? ev->peer : "";
        e.peer_id = ev->peer_id;
        e.path = ev->path ? ev->path : "";
        e.kind = static_cast<Kind>(ev->kind);
        e.status = ev->status;
        if (ev->type == IPCN_EV_COMPROMISE && ev->compromise) {
            e.compromise = *ev->compromise;
            e.detail = ev->compromise->detail ? ev->compromise->detail : "";
            e.compromise.name = nullptr;
            e.compromise.detail = nullptr;
        }
        s->fn(e);
    } catch (...) {
        report_exception("event callback for", ev && ev->peer ? ev->peer : "");
    }
}
} // namespace detail
/** @endcond */

/* ================================================================== */
/* Handles: Subscription, Request, Loan                                */
/* ================================================================== */

/**
 * A subscription (RAII): unsubscribes when destroyed.  Move-only.  After
 * the destructor or unsubscribe() returns, its callback does not run again
 * and is freed (a call of it already running on another thread finishes
 * first, then frees it).  May be destroyed from any thread, also inside
 * its own callback, and after its node was closed.
 */
class Subscription {
public:
    /** An empty subscription. */
    Subscription() noexcept = default;
    ~Subscription() { reset(); }
    Subscription(Subscription &&o) noexcept
        : core_(std::move(o.core_)), sub_(o.sub_), key_(std::exchange(o.key_, 0)),
          active_(std::exchange(o.active_, false))
    {
    }
    Subscription &operator=(Subscription &&o) noexcept
    {
        if (this != &o) {
            reset();
            core_ = std::move(o.core_);
            sub_ = o.sub_;
            key_ = std::exchange(o.key_, 0);
            active_ = std::exchange(o.active_, false);
        }
        return *this;
    }
    Subscription(const Subscription &) = delete;
    Subscription &operator=(const Subscription &) = delete;

    /** True until unsubscribed (or moved from). */
    bool active() const noexcept { return active_; }
    /** Same as active(). */
    explicit operator bool() const noexcept { return active_; }
    /** The C subscription. */
    ipcn_sub get() const noexcept { return sub_; }

    /** End the subscription now.  Throws Error 203 when it was already
     *  ended (or its node closed: 303). */
    void unsubscribe()
    {
        if (!active_)
            throw Error(IPCN_NOT_FOUND, "unsubscribe");
        active_ = false;
        int st = detail::with_node(core_, [&](ipcn_node *n) { return ipcn_unsubscribe(n, sub_); });
        drop_callback();
        detail::check(st, "unsubscribe");
    }

    /**
     * Take the oldest queued sample of a subscription made without a
     * callback, waiting up to timeout_ms (-1: forever).  Processes the
     * node's I/O but runs no callbacks while it waits.  Throws Error 103
     * (none came in time), 200 (the subscription has a callback), 203, 303.
     */
    Message take(int timeout_ms)
    {
        Result<Message> r = try_take(timeout_ms);
        if (!r.ok())
            throw Error(r.status() == IPCN_OK ? IPCN_NO_DATA : r.status(), "take");
        return std::move(r).value();
    }
    /** take() without throwing: 100 with a message, 103, 200, 203, 303. */
    Result<Message> try_take(int timeout_ms) noexcept
    {
        if (!active_)
            return Result<Message>(IPCN_NOT_FOUND);
        ipcn_msg *out = nullptr;
        int st = detail::with_node(core_, [&](ipcn_node *n) {
            return ipcn_sub_take(n, sub_, &out, timeout_ms);
        });
        if (st == IPCN_OK && out)
            return Result<Message>(st, Message(out));
        return Result<Message>(st);
    }
    /** Its counters.  Throws Error 203, 303. */
    SubStats stats() const
    {
        SubStats s{};
        s.size = sizeof s;
        detail::check(active_ ? detail::with_node(core_, [&](ipcn_node *n) {
                          return ipcn_sub_get_stats(n, sub_, &s);
                      })
                              : IPCN_NOT_FOUND,
                      "sub stats");
        return s;
    }

private:
    friend class Node;
    Subscription(std::weak_ptr<detail::Core> core, ipcn_sub sub, std::uint64_t key) noexcept
        : core_(std::move(core)), sub_(sub), key_(key), active_(true)
    {
    }
    void reset() noexcept
    {
        if (active_) {
            active_ = false;
            detail::with_node(core_, [&](ipcn_node *n) { return ipcn_unsubscribe(n, sub_); });
        }
        drop_callback();
    }
    void drop_callback() noexcept
    {
        if (key_)
            detail::registry().remove(std::exchange(key_, 0));
    }
    std::weak_ptr<detail::Core> core_;
    ipcn_sub sub_{};
    std::uint64_t key_ = 0;
    bool active_ = false;
};

/**
 * A pending request_async().  Copyable handle; destroying it does NOT
 * cancel the request (the callback still runs once): call cancel().
 */
class Request {
public:
    /** An empty handle. */
    Request() noexcept = default;
    /** The C handle. */
    ipcn_req get() const noexcept { return req_; }
    /**
     * Forget the request: its callback will not run, and is freed.
     * Returns true, or false when it was already answered (or unknown, or
     * its node closed).  Thread-safe.
     */
    bool cancel() noexcept
    {
        if (!key_)
            return false;
        int st = detail::with_node(core_, [&](ipcn_node *n) { return ipcn_request_cancel(n, req_); });
        if (st == IPCN_OK)
            detail::registry().remove(key_);
        return st == IPCN_OK;
    }

private:
    friend class Node;
    Request(std::weak_ptr<detail::Core> core, ipcn_req req, std::uint64_t key) noexcept
        : core_(std::move(core)), req_(req), key_(key)
    {
    }
    std::weak_ptr<detail::Core> core_;
    ipcn_req req_{};
    std::uint64_t key_ = 0;
};

/**
 * A shared-memory slot loaned to this node's publisher (RAII).  Fill
 * data() in place (from any thread), then publish(): the subscribers see
 * the bytes with no copy.  Move-only; discarded (given back unpublished)
 * by the destructor unless published.  After the node was closed, the
 * loan is gone: data() must not be touched, publish() throws 303.
 */
class Loan {
public:
    /** An empty loan. */
    Loan() noexcept = default;
    ~Loan() { discard(); }
    Loan(Loan &&o) noexcept
        : core_(std::move(o.core_)), loan_(std::exchange(o.loan_, nullptr)),
          elems_(std::exchange(o.elems_, MutableBytes()))
    {
    }
    Loan &operator=(Loan &&o) noexcept
    {
        if (this != &o) {
            discard();
            core_ = std::move(o.core_);
            loan_ = std::exchange(o.loan_, nullptr);
            elems_ = std::exchange(o.elems_, MutableBytes());
        }
        return *this;
    }
    Loan(const Loan &) = delete;
    Loan &operator=(const Loan &) = delete;

    /** True until published or discarded. */
    explicit operator bool() const noexcept { return loan_ != nullptr; }
    /** The whole slot, writable (ipcn_loan_data(), ipcn_loan_size()). */
    MutableBytes data() const noexcept
    {
        return loan_ ? MutableBytes(ipcn_loan_data(loan_), ipcn_loan_size(loan_))
                     : MutableBytes();
    }
    /** Where the elements go in a loan_tensor() (numel * dtype size bytes,
     *  row-major, native order, 64-byte aligned); data() for a plain loan. */
    MutableBytes elements() const noexcept { return elems_.data() ? elems_ : data(); }
    /** How many bytes the loan may hold. */
    std::size_t size() const noexcept { return loan_ ? ipcn_loan_size(loan_) : 0; }
    /** The C loan (still owned by this object). */
    ipcn_loan *get() const noexcept { return loan_; }

    /**
     * Publish the first len bytes (0: the length asked for, or the whole
     * tensor of a loan_tensor()), without copying.  The loan ends whatever
     * the result.  Thread-safe.  Throws Error 200 (len over size()), 203
     * (path withdrawn), 303 (node closed; no loan), 307.
     */
    void publish(std::size_t len = 0) { detail::check(try_publish(len), "publish loan"); }
    /** publish() without throwing: the status of ipcn_loan_publish(). */
    int try_publish(std::size_t len = 0) noexcept
    {
        if (!loan_)
            return IPCN_NOT_FOUND;
        ipcn_loan *l = std::exchange(loan_, nullptr);
        elems_ = MutableBytes();
        return detail::with_core(core_, [&](detail::Core &c) {
            c.forget_loan(l);
            return ipcn_loan_publish(c.node, l, len);
        });
    }
    /** Give the slot back unpublished (the destructor does it). */
    void discard() noexcept
    {
        if (!loan_)
            return;
        ipcn_loan *l = std::exchange(loan_, nullptr);
        elems_ = MutableBytes();
        detail::with_core(core_, [&](detail::Core &c) {
            c.forget_loan(l);
            ipcn_loan_discard(c.node, l);
            return IPCN_OK;
        });
    }

private:
    friend class Node;
    Loan(std::weak_ptr<detail::Core> core, ipcn_loan *l, MutableBytes elems) noexcept
        : core_(std::move(core)), loan_(l), elems_(elems)
    {
    }
    std::weak_ptr<detail::Core> core_;
    ipcn_loan *loan_ = nullptr;
    MutableBytes elems_;
};

/* ================================================================== */
/* Node                                                                */
/* ================================================================== */

/**
 * A node of an IPCNet network (RAII over ipcn_node): opened by the
 * constructor, closed by the destructor or close().  Move-only; a moved-from
 * or closed node is empty and its methods throw Error(200).  Thread-safety
 * as ipcnet.h: every method is thread-safe except close(), the destructor
 * and move-assignment.
 */
class Node {
public:
    /** An empty node (no network). */
    Node() noexcept = default;

    /**
     * Join a network as the node called name (ipcn_node_open()).  Throws
     * Error 200 (invalid name or options), 207 (the name is taken), 202
     * (the directory is not usable), 307, 300.
     */
    explicit Node(CStr name, const NodeOptions &opts = NodeOptions())
    {
        detail::check(open(name, opts), "open node", name.view());
    }

    /** Node(name, opts) without throwing Error: 100 with the node, or the
     *  status (207 when the name is taken...). */
    static Result<Node> try_open(CStr name, const NodeOptions &opts = NodeOptions())
    {
        Node n;
        int st = n.open(name, opts);
        if (st != IPCN_OK)
            return Result<Node>(st);
        return Result<Node>(st, std::move(n));
    }

    /** Closes the node (see close()). */
    ~Node() { close(); }
    Node(Node &&o) noexcept : core_(std::move(o.core_)) {}
    /** Closes this node, then takes o's. */
    Node &operator=(Node &&o) noexcept
    {
        if (this != &o) {
            close();
            core_ = std::move(o.core_);
        }
        return *this;
    }
    Node(const Node &) = delete;
    Node &operator=(const Node &) = delete;

    /**
     * Leave the network (ipcn_node_close()): end the calls that wait in the
     * node on other threads (303, ipcn_node_shutdown()), stop the node's
     * thread, withdraw everything, free every callback of the node.  Waits
     * for calls in progress through its handles (those that wait end at
     * once).  Must not be called from a callback of this node.  No-op on an
     * empty node.
     */
    void close() noexcept
    {
        if (!core_)
            return;
        std::shared_ptr<detail::Core> c = std::move(core_);
        if (c->node) {
            ipcn_node_shutdown(c->node); /* a take() through a handle ends */
            ipcn_node_stop_thread(c->node); /* 203 when none runs */
            ipcn_node *n;
            {
                std::unique_lock<std::shared_mutex> lk(c->life);
                n = std::exchange(c->node, nullptr);
            }
            {
                std::lock_guard<std::mutex> lk(c->m);
                for (ipcn_loan *l : c->loans) /* the Loans left are inert now */
                    ipcn_loan_discard(n, l);
                c->loans.clear();
            }
            ipcn_node_close(n);
        }
        detail::registry().remove_owner(c.get());
    }

    /** True while open. */
    bool is_open() const noexcept { return core_ && core_->node; }
    /** Same as is_open(). */
    explicit operator bool() const noexcept { return is_open(); }
    /** The C node, for calls this binding does not wrap (NULL when empty).
     *  Do not close it. */
    ipcn_node *get() const noexcept { return core_ ? core_->node : nullptr; }

    /** Its name (valid until close). */
    std::string_view name() const { return ipcn_node_name(n()); }
    /** Its random 64-bit id. */
    std::uint64_t id() const { return ipcn_node_id(n()); }
    /** The rendezvous directory in use. */
    std::string_view dir() const { return ipcn_node_dir(n()); }
    /** One fd, readable when dispatch() has work (owned by the node). */
    int fd() const { return ipcn_node_fd(n()); }
    /** How long a foreign loop may wait on fd(): 0 or -1. */
    int timeout() const { return ipcn_node_timeout(n()); }
    /** Say that this node has done its start-up and serves
     *  (ipcn_node_ready()): every peer is told (EventType::PeerReady
     *  there, Peer::ready), and so is every peer that links later; again
     *  does nothing.  A supervisor counts a component as started only
     *  once its node said this.  Thread-safe.  Since: 0.2 */
    void ready() { detail::check(ipcn_node_ready(n()), "ready"); }

    /**
     * Wait up to timeout_ms (-1: forever) for work, do it and run the
     * callbacks due.  Returns true when it did something, false when the
     * time ran out idle (103).  Throws Error 200 (called from a callback),
     * 303 (the node's thread dispatches).
     */
    bool dispatch(int timeout_ms = -1)
    {
        return detail::check(ipcn_node_dispatch(n(), timeout_ms), "dispatch") == IPCN_OK;
    }
    /** Run dispatch on a thread of the node's own; callbacks run there.
     *  Throws Error 200 (already started), 300. */
    void start_thread() { detail::check(ipcn_node_start_thread(n()), "start thread"); }
    /** Stop and join that thread; not from a callback.  Throws Error 203
     *  (no thread runs). */
    void stop_thread() { detail::check(ipcn_node_stop_thread(n()), "stop thread"); }

    /** Until count peers are linked and synced.  Throws Error 304. */
    void wait_peers(unsigned count, int timeout_ms)
    {
        detail::check(try_wait_peers(count, timeout_ms), "wait peers");
    }
    /** wait_peers() without throwing: 100 or 304. */
    int try_wait_peers(unsigned count, int timeout_ms) noexcept
    {
        return ipcn_node_wait_peers(get(), count, timeout_ms);
    }
    /** Until every live node of the network is linked and synced.  Throws
     *  Error 304. */
    void wait_synced(int timeout_ms) { detail::check(try_wait_synced(timeout_ms), "wait synced"); }
    /** wait_synced() without throwing: 100 or 304. */
    int try_wait_synced(int timeout_ms) noexcept { return ipcn_node_wait_synced(get(), timeout_ms); }

    /* ---- resources ---- */

    /**
     * Announce a resource (ipcn_announce()).  meta is copied.  Returns 100,
     * or 101 when new.  Throws Error 200, 207 (another node provides this
     * data or stream path), 307.
     */
    int announce(CStr path, Kind kind, CStr encoding = "", Bytes meta = {})
    {
        return detail::check(ipcn_announce(n(), path.c_str(), static_cast<ipcn_kind>(kind),
                                           encoding.c_str(), meta.data(), meta.size()),
                             "announce", path.view());
    }
    /**
     * Announce a typed data or stream resource (ipcn_announce_typed(),
     * ipcnet_schema.h): schema is the type of its values as one CBOR item
     * (the language of offer_typed()), meta the rest of its metadata (a
     * CBOR map without "schema", or empty).  publish() and set() of a value
     * not of the type then throw Error 200, and every node that receives
     * one drops it.  Returns 100, or 101 when new.  Throws Error 200 (an
     * invalid type, an encoding other than CBOR, a kind other than data or
     * stream), 202, 207, 307.  Since: 0.2
     */
    int announce_typed(CStr path, Kind kind, Bytes schema, CStr encoding = "cbor",
                       Bytes meta = {})
    {
        return detail::check(ipcn_announce_typed(n(), path.c_str(), static_cast<ipcn_kind>(kind),
                                                 encoding.c_str(), schema.data(), schema.size(),
                                                 meta.data(), meta.size()),
                             "announce", path.view());
    }
    /** Withdraw a resource of this node (a service's handler is freed).
     *  Throws Error 203 (not announced here), 200. */
    void withdraw(CStr path)
    {
        detail::check(ipcn_withdraw(n(), path.c_str()), "withdraw", path.view());
        std::uint64_t key = 0, check_key = 0;
        {
            std::lock_guard<std::mutex> lk(core_->m);
            auto it = core_->services.find(path.c_str());
            if (it != core_->services.end()) {
                key = it->second;
                core_->services.erase(it);
            }
            auto jt = core_->set_checks.find(path.c_str());
            if (jt != core_->set_checks.end()) {
                check_key = jt->second;
                core_->set_checks.erase(jt);
            }
        }
        if (key)
            detail::registry().remove(key);
        if (check_key)
            detail::registry().remove(check_key);
    }
    /** The resources matching pattern (and kind), this node's included,
     *  sorted by path then provider.  Throws Error 200 (invalid pattern), 307. */
    std::vector<Resource> find(CStr pattern = "**", Kind kind = Kind::Any) const
    {
        ipcn_resource_list *list = nullptr;
        detail::check(ipcn_find(n(), pattern.c_str(), static_cast<ipcn_kind>(kind), &list),
                      "find", pattern.view());
        std::unique_ptr<ipcn_resource_list, void (*)(ipcn_resource_list *)> g(
            list, ipcn_resource_list_free);
        return resources(list);
    }

    /* ---- data and streams ---- */

    /** Publish a value on a stream or data resource of this node (copied
     *  before return).  Throws Error 203, 204, 200 (too large), 307. */
    void publish(CStr path, Bytes data) { detail::check(try_publish(path, data), "publish", path.view()); }
    /** publish() without throwing: the status of ipcn_publish(). */
    int try_publish(CStr path, Bytes data) noexcept
    {
        return ipcn_publish(get(), path.c_str(), data.data(), data.size());
    }

    /** The current value of a data resource.  Throws Error 103 (no value
     *  yet), 203, 204, 202, 303, 304 (timeout). */
    Message query(CStr path, int timeout_ms)
    {
        Result<Message> r = try_query(path, timeout_ms);
        if (!r.ok())
            throw Error(r.status() == IPCN_OK ? IPCN_NO_DATA : r.status(),
                        "query " + std::string(path.view()));
        return std::move(r).value();
    }
    /** query() without throwing: 100 with the value, or the status. */
    Result<Message> try_query(CStr path, int timeout_ms) noexcept
    {
        ipcn_msg *out = nullptr;
        int st = ipcn_query(get(), path.c_str(), &out, timeout_ms);
        if (st == IPCN_OK && out)
            return Result<Message>(st, Message(out));
        ipcn_msg_free(out);
        return Result<Message>(st);
    }

    /**
     * Set the value of a data resource held by another node (or this one):
     * a parameter (see ipcn_set()).  encoding "": the resource's.
     * expect_version 0: whatever the current version; otherwise the
     * resource's version (the seq of its value, as query() gives it) must
     * be this one.  Returns the resource's new version.  Throws Error 207
     * (the version changed: try_set() gives the current one), 203 (no
     * provider), 204 (a stream or service), the provider's refusal (202,
     * 200, an application code), 304 (timeout), 303, 305, 205, 200.
     */
    std::uint64_t set(CStr path, Bytes value, CStr encoding = "",
                      std::uint64_t expect_version = 0, int timeout_ms = -1)
    {
        Result<std::uint64_t> r = try_set(path, value, encoding, expect_version, timeout_ms);
        if (!r.ok())
            throw Error(r.status(), "set " + std::string(path.view()));
        return r.value();
    }
    /** set() without throwing: the status, with the resource's version on
     *  100 (the new one) and on 207 (the current one). */
    Result<std::uint64_t> try_set(CStr path, Bytes value, CStr encoding = "",
                                  std::uint64_t expect_version = 0,
                                  int timeout_ms = -1) noexcept
    {
        std::uint64_t version = 0;
        int st = ipcn_set(get(), path.c_str(), value.data(), value.size(), encoding.c_str(),
                          expect_version, timeout_ms, &version);
        if (st == IPCN_OK || st == IPCN_CONFLICT)
            return Result<std::uint64_t>(st, version);
        return Result<std::uint64_t>(st);
    }

    /**
     * Check the values others set (set()) on a data resource of this
     * node: fn(value) returns 100 to accept, or the status that refuses
     * it (see ipcn_data_on_set(); an exception refuses with 300).  It runs
     * on dispatch() or the node's thread; for a set of this node itself,
     * inside that set().  An empty fn removes the check.  fn lives until
     * replaced, withdraw(path) or close.  Throws Error 203 (not announced
     * here), 204 (not a data resource).
     */
    void on_set(CStr path, SetFn fn)
    {
        n();
        std::uint64_t key = 0;
        if (fn)
            key = detail::registry().add(
                core_.get(), std::make_shared<detail::SetSlot>(std::move(fn), core_));
        int st = ipcn_data_on_set(n(), path.c_str(), key ? detail::set_tramp : nullptr,
                                  key ? detail::key_ptr(key) : nullptr);
        if (!is_ok(st)) {
            if (key)
                detail::registry().remove(key);
            detail::check(st, "on_set", path.view());
        }
        std::uint64_t old = 0;
        {
            std::lock_guard<std::mutex> lk(core_->m);
            if (key)
                old = std::exchange(core_->set_checks[path.c_str()], key);
            else if (auto it = core_->set_checks.find(path.c_str());
                     it != core_->set_checks.end()) {
                old = it->second;
                core_->set_checks.erase(it);
            }
        }
        if (old)
            detail::registry().remove(old);
    }

    /**
     * Subscribe with a callback: fn(msg) runs for each sample of every
     * stream and data resource matching pattern (on dispatch() or the
     * node's thread).  queue_depth 0: 64.  fn is freed with the
     * Subscription (or when the node closes).  Throws Error 200, 307.
     */
    Subscription subscribe(CStr pattern, SampleFn fn, std::uint32_t queue_depth = 0)
    {
        if (!fn)
            throw Error(IPCN_BAD_REQUEST, "subscribe: empty callback");
        std::uint64_t key = detail::registry().add(
            core_.get(), std::make_shared<detail::SampleSlot>(std::move(fn), core_));
        ipcn_sub sub{};
        int st = ipcn_subscribe(n(), pattern.c_str(), queue_depth, detail::sample_tramp,
                                detail::key_ptr(key), &sub);
        if (!is_ok(st)) {
            detail::registry().remove(key);
            detail::check(st, "subscribe", pattern.view());
        }
        return Subscription(core_, sub, key);
    }
    /** Subscribe without callback: collect samples with
     *  Subscription::take().  Throws Error 200, 307. */
    Subscription subscribe(CStr pattern, std::uint32_t queue_depth = 0)
    {
        ipcn_sub sub{};
        detail::check(ipcn_subscribe(n(), pattern.c_str(), queue_depth, nullptr, nullptr, &sub),
                      "subscribe", pattern.view());
        return Subscription(core_, sub, 0);
    }

    /* ---- late subscribers, waiting for a resource (Since: 0.2) ---- */

    /** subscribe() with options: opts.history false takes only what is
     *  published from now on (ipcn_subscribe_ex()).  Throws Error 200,
     *  307. */
    Subscription subscribe(CStr pattern, SampleFn fn, const SubscribeOptions &opts)
    {
        if (!fn)
            throw Error(IPCN_BAD_REQUEST, "subscribe: empty callback");
        std::uint64_t key = detail::registry().add(
            core_.get(), std::make_shared<detail::SampleSlot>(std::move(fn), core_));
        ipcn_sub sub{};
        ipcn_sub_opts o = sub_opts(opts);
        int st = ipcn_subscribe_ex(n(), pattern.c_str(), &o, detail::sample_tramp,
                                   detail::key_ptr(key), &sub);
        if (!is_ok(st)) {
            detail::registry().remove(key);
            detail::check(st, "subscribe", pattern.view());
        }
        return Subscription(core_, sub, key);
    }
    /** The same without callback (Subscription::take()). */
    Subscription subscribe(CStr pattern, const SubscribeOptions &opts)
    {
        ipcn_sub sub{};
        ipcn_sub_opts o = sub_opts(opts);
        detail::check(ipcn_subscribe_ex(n(), pattern.c_str(), &o, nullptr, nullptr, &sub),
                      "subscribe", pattern.view());
        return Subscription(core_, sub, 0);
    }

    /**
     * Announce a data or stream resource and what it keeps for late
     * subscribers (ipcn_announce_keep()): a stream its last keep samples
     * (0..IPCN_KEEP_MAX), a data resource its current value (1, the
     * default of announce()) or not (0).  Returns 100, or 101 when new.
     * Throws Error 200 (a service, keep out of range), 207, 307.
     */
    int announce_keep(CStr path, Kind kind, unsigned keep, CStr encoding = "", Bytes meta = {})
    {
        return detail::check(ipcn_announce_keep(n(), path.c_str(), static_cast<ipcn_kind>(kind),
                                                encoding.c_str(), meta.data(), meta.size(), keep),
                             "announce_keep", path.view());
    }
    /** What a data or stream resource of this node keeps, and has
     *  replayed.  Throws Error 203. */
    KeepStats keep_stats(CStr path) const
    {
        KeepStats s{};
        s.size = sizeof s;
        detail::check(ipcn_keep_get_stats(n(), path.c_str(), &s), "keep_stats", path.view());
        return s;
    }

    /**
     * Wait until this node knows a resource matching pattern (and kind):
     * one there already, or one announced later, by a node that starts
     * later too (ipcn_wait_for()); the matching ones, as find() gives
     * them.  It sleeps in the kernel, runs no callbacks, and works whether
     * the node's thread runs or not (from any thread, a callback too).
     * timeout_ms -1: forever.  Throws Error 304 (none in time), 303 (the
     * node shuts down or closes), 200 (invalid pattern), 307.
     */
    std::vector<Resource> wait_for(CStr pattern, Kind kind = Kind::Any, int timeout_ms = -1)
    {
        Result<std::vector<Resource>> r = try_wait_for(pattern, kind, timeout_ms);
        if (!r.ok())
            throw Error(r.status(), "wait_for " + std::string(pattern.view()));
        return std::move(r).value();
    }
    /** wait_for() without throwing Error: 100 with the resources, or the
     *  status (304 when none came in time, 303, 200, 307). */
    Result<std::vector<Resource>> try_wait_for(CStr pattern, Kind kind = Kind::Any,
                                               int timeout_ms = -1)
    {
        ipcn_resource_list *list = nullptr;
        int st = ipcn_wait_for(get(), pattern.c_str(), static_cast<ipcn_kind>(kind), timeout_ms,
                               &list);
        if (st != IPCN_OK)
            return Result<std::vector<Resource>>(st);
        std::unique_ptr<ipcn_resource_list, void (*)(ipcn_resource_list *)> g(
            list, ipcn_resource_list_free);
        return Result<std::vector<Resource>>(st, resources(list));
    }

    /* ---- services ---- */

    /**
     * Offer a service at path; fn answers each request (see ServiceFn and
     * Reply).  fn lives until withdraw(path) or close.  Throws Error 200,
     * 207 (this node already offers path), 307.
     */
    void offer(CStr path, CStr encoding, ServiceFn fn)
    {
        add_service(path, std::move(fn), [&](void *user) {
            return ipcn_offer(n(), path.c_str(), encoding.c_str(), detail::service_tramp, user);
        });
    }
    /**
     * Offer a service that declares its argument and answer types (CBOR
     * schemas, see ipcn_offer_typed(); empty: undeclared).  Requests whose
     * body is not of the args type get 200 before fn runs.  Throws Error
     * 200 (invalid schema), 207, 307.
     */
    void offer_typed(CStr path, Bytes args_schema, Bytes returns_schema, ServiceFn fn)
    {
        add_service(path, std::move(fn), [&](void *user) {
            return ipcn_offer_typed(n(), path.c_str(), args_schema.data(), args_schema.size(),
                                    returns_schema.data(), returns_schema.size(),
                                    detail::service_tramp, user);
        });
    }

    /**
     * Call a service and wait for its answer.  Returns the answer when the
     * provider's status is a success.  Throws Error with the provider's
     * status (its error, or an application code; what() includes a text
     * body), or 203 (no provider), 204, 304 (timeout), 303, 205, 200.
     */
    Message request(CStr path, Bytes data, CStr encoding, int timeout_ms)
    {
        Result<Message> r = try_request(path, data, encoding, timeout_ms);
        if (r.ok())
            return std::move(r).value();
        std::string ctx = "request " + std::string(path.view());
        if (r.has_value() && r->size() && r->size() <= 512 &&
            (r->encoding().rfind("text/", 0) == 0 || r->encoding().empty()))
            ctx += ": " + std::string(r->text());
        throw Error(r.status() == IPCN_OK ? IPCN_NO_DATA : r.status(), ctx);
    }
    /** request() without throwing: the status, and the provider's answer
     *  whenever one came (also with an error status). */
    Result<Message> try_request(CStr path, Bytes data, CStr encoding, int timeout_ms) noexcept
    {
        ipcn_msg *out = nullptr;
        int st = ipcn_request(get(), path.c_str(), data.data(), data.size(), encoding.c_str(),
                              &out, timeout_ms);
        if (out)
            return Result<Message>(st, Message(out));
        return Result<Message>(st);
    }
    /**
     * Call a service without waiting: fn(status, reply) runs once, later,
     * from dispatch (not if cancelled or the node closes first; fn is
     * freed then).  Throws Error 203, 204, 200, 205, 307 (then fn never
     * runs).
     */
    Request request_async(CStr path, Bytes data, CStr encoding, int timeout_ms, ReplyFn fn)
    {
        if (!fn)
            throw Error(IPCN_BAD_REQUEST, "request_async: empty callback");
        std::uint64_t key = detail::registry().add(
            core_.get(), std::make_shared<detail::ReplySlot>(std::move(fn), core_));
        ipcn_req req{};
        int st = ipcn_request_async(n(), path.c_str(), data.data(), data.size(),
                                    encoding.c_str(), timeout_ms, detail::reply_tramp,
                                    detail::key_ptr(key), &req);
        if (!is_ok(st)) {
            detail::registry().remove(key);
            detail::check(st, "request", path.view());
        }
        return Request(core_, req, key);
    }
    /** Same as req.cancel(). */
    bool cancel(Request &req) noexcept { return req.cancel(); }

    /* ---- several providers (ipcnet_redundancy.hpp defines these) ---- */

    /** Announce a data or stream path of which there may be several
     *  providers, ranked by strength (ipcn_announce_owned()).  Returns 101
     *  when new, 100 when changed.  Throws Error 200, 202, 207 (path is
     *  provided without ownership), 307.  Since: 0.2 */
    int announce_owned(CStr path, Kind kind, CStr encoding, Bytes meta, const AnnounceOpts &o);
    /** announce_owned() without metadata.  Since: 0.2 */
    int announce_owned(CStr path, Kind kind, CStr encoding, const AnnounceOpts &o);
    /** Who owns an owned path, as this node sees it (ipcn_owner_get()).
     *  Throws Error 203 (no live provider announced it owned), 200.
     *  Since: 0.2 */
    OwnerInfo owner(CStr path) const;
    /** owner() without throwing: 100 with the owner, or the status.
     *  Since: 0.2 */
    Result<OwnerInfo> try_owner(CStr path) const;
    /** A request in a mode: any, all or vote (ipcn_request_ex()).  Returns
     *  the answers when the status is 100 or 104 (ALL: some did not
     *  answer); throws Error for any other (207 no quorum, 304, 203, 204,
     *  200, 307...).  Blocks; not from a callback.  Since: 0.2 */
    Answers request_ex(CStr path, Bytes data, CStr encoding, const RequestOptions &o);
    /** request_ex() without throwing Error: the answers, whose status()
     *  is the call's (with no items for 200 and 307).  Since: 0.2 */
    Answers try_request_ex(CStr path, Bytes data, CStr encoding, const RequestOptions &o);
    /** Set the options of a service this node offers and announce it
     *  again (ipcn_offer_set_opts()): at most once.  Throws Error 203 (not
     *  offered here), 204, 200, 307.  Since: 0.2 */
    void offer_set_opts(CStr path, const OfferOptions &o);

    /* ---- peers, events, counters ---- */

    /** The event callback (one per node; an empty fn removes it; the
     *  previous one is freed). */
    void set_event_fn(EventFn fn)
    {
        ipcn_node *node = n();
        std::uint64_t key = 0;
        if (fn)
            key = detail::registry().add(core_.get(),
                                         std::make_shared<detail::EventSlot>(std::move(fn), core_));
        ipcn_node_set_event_fn(node, key ? detail::event_tramp : nullptr,
                               key ? detail::key_ptr(key) : nullptr);
        std::uint64_t old;
        {
            std::lock_guard<std::mutex> lk(core_->m);
            old = std::exchange(core_->event_key, key);
        }
        if (old)
            detail::registry().remove(old);
    }
    /* ---- the system's ordered shutdown ---- */

    /**
     * Take part in the system's ordered shutdown (ipcn_on_shutdown()):
     * fn(info) runs on dispatch() or the node's thread when an allowed
     * principal asks this node for phase; its status is the answer.  An
     * empty fn removes it (the phase is then answered 103).  fn lives
     * until replaced or close.  Throws Error 200, 307.
     */
    void on_shutdown(ShutdownPhase phase, ShutdownFn fn)
    {
        ipcn_node *node = n();
        int idx = static_cast<int>(phase) - 1;
        if (idx < 0 || idx > 1)
            throw Error(IPCN_BAD_REQUEST, "on_shutdown: bad phase");
        std::uint64_t key = 0;
        if (fn)
            key = detail::registry().add(
                core_.get(), std::make_shared<detail::ShutdownSlot>(std::move(fn), core_));
        int st = ipcn_on_shutdown(node, static_cast<ipcn_shutdown_phase>(phase),
                                  key ? detail::shutdown_tramp : nullptr,
                                  key ? detail::key_ptr(key) : nullptr);
        if (!is_ok(st)) {
            if (key)
                detail::registry().remove(key);
            detail::check(st, "on_shutdown");
        }
        std::uint64_t old;
        {
            std::lock_guard<std::mutex> lk(core_->m);
            old = std::exchange(core_->shutdown_keys[idx], key);
        }
        if (old)
            detail::registry().remove(old);
    }
    /**
     * Confirm a phase whose handler returned 102 (ipcn_shutdown_done()):
     * the asker gets status.  Returns 100, 200 (a bad phase or status),
     * 203 (no answer of that phase awaited: the asker left, or it was
     * answered), 303 after close.  Thread-safe.
     */
    int try_shutdown_done(ShutdownPhase phase, int status = IPCN_OK) noexcept
    {
        return detail::with_node(core_, [&](ipcn_node *node) {
            return ipcn_shutdown_done(node, static_cast<ipcn_shutdown_phase>(phase), status);
        });
    }
    /** try_shutdown_done(), throwing Error for anything but 100. */
    void shutdown_done(ShutdownPhase phase, int status = IPCN_OK)
    {
        detail::check(try_shutdown_done(phase, status), "shutdown_done");
    }

    /* ---- who may do what (see "Permissions" in ipcnet.h) ---- */

    /**
     * This node's own rules for path, narrowing the network policy
     * (ipcn_resource_set_access()): replaces the rules set before; may be
     * called before path is announced.  Throws Error 200 (a bad path, a
     * rule without verbs, a selector that does not parse or names an
     * unknown user or group), 205, 307.
     */
    void set_access(CStr path, const std::vector<AccessRule> &rules)
    {
        std::vector<ipcn_access_rule> c;
        c.reserve(rules.size());
        for (const AccessRule &r : rules)
            c.push_back(ipcn_access_rule{r.deny ? 1 : 0, r.verbs, r.who.c_str()});
        detail::check(ipcn_resource_set_access(n(), path.c_str(), c.data(), c.size()),
                      "set access", path.view());
    }
    /** Remove this node's own rules for path (the policy alone decides). */
    void clear_access(CStr path)
    {
        detail::check(ipcn_resource_set_access(n(), path.c_str(), nullptr, 0), "clear access",
                      path.view());
    }
    /**
     * This node's own limits for path (a path or a pattern), per peer, on
     * top of the network policy's (ipcn_resource_set_limits()); lim.size
     * is set here.  Throws Error 200 (a bad path, no limit at all), 205,
     * 307.
     */
    void set_limits(CStr path, ipcn_limits lim)
    {
        lim.size = sizeof lim;
        detail::check(ipcn_resource_set_limits(n(), path.c_str(), &lim), "set limits",
                      path.view());
    }
    /** Remove this node's own limits for path. */
    void clear_limits(CStr path)
    {
        detail::check(ipcn_resource_set_limits(n(), path.c_str(), nullptr), "clear limits",
                      path.view());
    }
    /** A run-time group of this node, empty, that its rules may name as
     *  "group:NAME" (ipcn_group_create()).  Throws Error 200, 207 (a group
     *  of that name exists, here or in the policy), 205, 307. */
    void group_create(CStr name)
    {
        detail::check(ipcn_group_create(n(), name.c_str()), "group create", name.view());
    }
    /** Make the principals matching selector who members of group name
     *  (100 also when already one).  Throws Error 200 (a bad selector, or
     *  one naming a group), 203 (no such group), 205, 307. */
    void group_add(CStr name, CStr who)
    {
        detail::check(ipcn_group_add(n(), name.c_str(), who.c_str()), "group add", name.view());
    }
    /** Take selector who (written as when added) out of group name.
     *  Throws Error 203 (no such group or member), 200, 307. */
    void group_remove(CStr name, CStr who)
    {
        detail::check(ipcn_group_remove(n(), name.c_str(), who.c_str()), "group remove",
                      name.view());
    }
    /** Delete group name of this node.  Throws Error 203, 200, 307. */
    void group_delete(CStr name)
    {
        detail::check(ipcn_group_delete(n(), name.c_str()), "group delete", name.view());
    }

private:
    std::vector<TrafficItem> traffic_of(const char *peer) const
    {
        ipcn_traffic_list *list = nullptr;
        detail::check(ipcn_traffic(n(), peer, &list), "traffic");
        std::unique_ptr<ipcn_traffic_list, void (*)(ipcn_traffic_list *)> g(
            list, ipcn_traffic_list_free);
        std::vector<TrafficItem> out;
        out.reserve(list->count);
        for (std::size_t i = 0; i < list->count; i++) {
            const ipcn_traffic_item &t = *list->items[i];
            TrafficItem x;
            x.peer = t.peer ? t.peer : "";
            x.peer_id = t.peer_id;
            x.path = t.path ? t.path : "";
            x.verb = t.verb;
            x.anomalous = t.anomalous != 0;
            x.rate_per_s = t.rate_per_s;
            x.rate_now = t.rate_now;
            x.mean_bytes = t.mean_bytes;
            x.count = t.count;
            x.bytes = t.bytes;
            x.idle_s = t.idle_s;
            x.anomalies = t.anomalies;
            out.push_back(std::move(x));
        }
        return out;
    }

public:
    /** The linked peers, sorted by name.  Throws Error 307. */
    std::vector<Peer> peers() const
    {
        ipcn_peer_list *list = nullptr;
        detail::check(ipcn_peers(n(), &list), "peers");
        std::unique_ptr<ipcn_peer_list, void (*)(ipcn_peer_list *)> g(list, ipcn_peer_list_free);
        std::vector<Peer> out;
        out.reserve(list->count);
        for (std::size_t i = 0; i < list->count; i++) {
            const ipcn_peer &p = list->items[i];
            Peer x;
            x.name = p.name ? p.name : "";
            x.id = p.id;
            x.pid = p.pid;
            x.uid = p.uid;
            x.gid = p.gid;
            x.linked_ns = p.linked_ns;
            x.resources = p.resources;
            x.frames_in = p.frames_in;
            x.frames_out = p.frames_out;
            x.bytes_in = p.bytes_in;
            x.bytes_out = p.bytes_out;
            x.bad_frames = p.bad_frames;
            x.drops = p.drops;
            ipcn_peer_info w{};
            w.size = sizeof w;
            if (ipcn_peer_list_get_info(list, i, &w) == IPCN_OK) {
                x.groups.assign(w.groups, w.groups + w.ngroups);
                x.exe = w.exe ? w.exe : "";
                x.exe_hashed = w.exe_hashed != 0;
                x.denied = w.denied;
                x.audited = w.audited;
                x.criticality = static_cast<Criticality>(w.criticality);
                x.ready = w.ready != 0;
                if (x.exe_hashed)
                    std::memcpy(x.exe_sha256, w.exe_sha256, sizeof x.exe_sha256);
            }
            out.push_back(std::move(x));
        }
        return out;
    }
    /** Who subscribes to what (this node and its peers), sorted by node
     *  then pattern.  Throws Error 307. */
    std::vector<SubscriptionInfo> subscriptions() const
    {
        ipcn_subscription_list *list = nullptr;
        detail::check(ipcn_subscriptions(n(), &list), "subscriptions");
        std::unique_ptr<ipcn_subscription_list, void (*)(ipcn_subscription_list *)> g(
            list, ipcn_subscription_list_free);
        std::vector<SubscriptionInfo> out;
        out.reserve(list->count);
        for (std::size_t i = 0; i < list->count; i++) {
            const ipcn_subscription &s = list->items[i];
            out.push_back({s.node ? s.node : "", s.node_id, s.pattern ? s.pattern : ""});
        }
        return out;
    }
    /** What the linked peers send this node (ipcn_traffic()), sorted by
     *  peer, path, verb.  Throws Error 307.  Since: 0.2 */
    std::vector<TrafficItem> traffic() const { return traffic_of(nullptr); }
    /** ... of the one peer named.  Throws Error 203 (not linked), 307. */
    std::vector<TrafficItem> traffic(CStr peer) const { return traffic_of(peer.c_str()); }
    /** The node's counters. */
    NodeStats stats() const
    {
        NodeStats s{};
        s.size = sizeof s;
        detail::check(ipcn_node_get_stats(n(), &s), "stats");
        return s;
    }

    /* ---- shared-memory samples ---- */

    /** Set the pool of a stream or data resource of this node (see
     *  ipcn_pool_config()).  Throws Error 203, 204, 200, 307. */
    void pool_config(CStr path, const PoolOptions &o)
    {
        ipcn_pool_opts c;
        ipcn_pool_opts_init(&c);
        if (o.slots)
            c.slots = o.slots;
        if (o.slot_size)
            c.slot_size = o.slot_size;
        c.policy = o.policy;
        if (o.shm_threshold)
            c.shm_threshold = o.shm_threshold;
        c.checksum = o.checksum ? 1 : 0;
        detail::check(ipcn_pool_config(n(), path.c_str(), &c), "pool config", path.view());
    }
    /** The counters of a resource's pool.  Throws Error 203. */
    PoolStats pool_stats(CStr path) const
    {
        PoolStats s{};
        s.size = sizeof s;
        detail::check(ipcn_pool_get_stats(n(), path.c_str(), &s), "pool stats", path.view());
        return s;
    }
    /** Borrow a slot of at least len bytes of path's pool.  Throws Error
     *  203, 204, 200, 306 (no free slot), 307. */
    Loan loan(CStr path, std::size_t len)
    {
        Result<Loan> r = try_loan(path, len);
        detail::check(r.ok() ? IPCN_OK : r.status(), "loan", path.view());
        return std::move(r).value();
    }
    /** loan() without throwing: 100 with the loan, or the status. */
    Result<Loan> try_loan(CStr path, std::size_t len) noexcept
    {
        ipcn_loan *l = nullptr;
        int st = ipcn_loan_new(get(), path.c_str(), len, &l);
        if (st != IPCN_OK || !l)
            return Result<Loan>(st == IPCN_OK ? IPCN_INTERNAL_ERROR : st);
        if (!track(l))
            return Result<Loan>(IPCN_INSUFFICIENT_MEMORY);
        return Result<Loan>(st, Loan(core_, l, MutableBytes()));
    }
    /**
     * Loan a slot for a tensor of dtype and shape, its CBOR header already
     * written: fill Loan::elements() (row-major, native order) and
     * publish(0).  Throws Error as loan(), and 200 for an invalid tensor.
     */
    Loan loan_tensor(CStr path, ipcn_dtype dtype, const std::vector<std::int64_t> &shape)
    {
        /* ipcn_loan_tensor() ignores t.data, but ipcn_tensor_init() wants
         * one when there are elements: any address does, it is not read. */
        static const unsigned char unused = 0;
        ipcn_tensor t;
        detail::check(ipcn_tensor_init(&t, dtype, static_cast<std::uint32_t>(shape.size()),
                                       shape.data(), &unused),
                      "loan tensor", path.view());
        ipcn_loan *l = nullptr;
        void *elems = nullptr;
        detail::check(ipcn_loan_tensor(n(), path.c_str(), &t, &l, &elems), "loan tensor",
                      path.view());
        if (!track(l))
            throw std::bad_alloc();
        return Loan(core_, l,
                    MutableBytes(elems, static_cast<std::size_t>(ipcn_tensor_numel(&t)) *
                                            ipcn_dtype_size(dtype)));
    }

    /** @cond internal */
    /** How many callbacks this node holds (tests: none leak). */
    std::size_t callback_count() const
    {
        return core_ ? detail::registry().count(core_.get()) : 0;
    }
    /** @endcond */

private:
    int open(const CStr &name, const NodeOptions &o)
    {
        ipcn_node_opts c;
        ipcn_node_opts_init(&c);
        if (!o.network.empty())
            c.network = o.network.c_str();
        if (!o.dir.empty())
            c.dir = o.dir.c_str();
        if (o.heartbeat_ms)
            c.heartbeat_ms = o.heartbeat_ms;
        if (o.dead_after_ms)
            c.dead_after_ms = o.dead_after_ms;
        if (o.max_payload)
            c.max_payload = o.max_payload;
        if (o.tx_limit)
            c.tx_limit = o.tx_limit;
        if (o.idle_probe_ms)
            c.idle_probe_ms = o.idle_probe_ms;
        if (o.max_peers)
            c.max_peers = o.max_peers;
        c.criticality = static_cast<std::uint32_t>(o.criticality);
        auto core = std::make_shared<detail::Core>();
        int st = ipcn_node_open(&core->node, name.c_str(), &c);
        if (st == IPCN_OK)
            core_ = std::move(core);
        return st;
    }
    /* Remember a new loan for close(); on failure it is given back. */
    bool track(ipcn_loan *l) noexcept
    {
        try {
            std::lock_guard<std::mutex> lk(core_->m);
            core_->loans.push_back(l);
            return true;
        } catch (...) {
            ipcn_loan_discard(core_->node, l);
            return false;
        }
    }
    ipcn_node *n() const
    {
        if (!core_ || !core_->node)
            throw Error(IPCN_BAD_REQUEST, "the node is not open");
        return core_->node;
    }
    static ipcn_sub_opts sub_opts(const SubscribeOptions &opts) noexcept
    {
        ipcn_sub_opts o;
        ipcn_sub_opts_init(&o);
        o.queue_depth = opts.queue_depth;
        o.flags = opts.history ? 0u : IPCN_SUB_NO_HISTORY;
        return o;
    }
    /* A copy of a C list of resources. */
    static std::vector<Resource> resources(const ipcn_resource_list *list)
    {
        std::vector<Resource> out;
        out.reserve(list->count);
        for (std::size_t i = 0; i < list->count; i++) {
            const ipcn_resource &r = list->items[i];
            Resource x;
            x.path = r.path ? r.path : "";
            x.kind = static_cast<Kind>(r.kind);
            x.encoding = r.encoding ? r.encoding : "";
            if (r.meta && r.meta_len)
                x.meta.assign(static_cast<const std::uint8_t *>(r.meta),
                              static_cast<const std::uint8_t *>(r.meta) + r.meta_len);
            x.provider = r.provider ? r.provider : "";
            x.provider_id = r.provider_id;
            x.version = r.version;
            out.push_back(std::move(x));
        }
        return out;
    }
    template <class Call>
    void add_service(const CStr &path, ServiceFn fn, Call &&call)
    {
        if (!fn)
            throw Error(IPCN_BAD_REQUEST, "offer: empty handler");
        n();
        std::uint64_t key = detail::registry().add(
            core_.get(), std::make_shared<detail::ServiceSlot>(std::move(fn), core_));
        int st = call(detail::key_ptr(key));
        if (!is_ok(st)) {
            detail::registry().remove(key);
            detail::check(st, "offer", path.view());
        }
        std::uint64_t old = 0;
        {
            std::lock_guard<std::mutex> lk(core_->m);
            auto &slot = core_->services[path.c_str()];
            old = std::exchange(slot, key);
        }
        if (old) /* a path withdrawn with the C API, then offered again */
            detail::registry().remove(old);
    }

    std::shared_ptr<detail::Core> core_;
};

} // namespace ipcn

#ifdef IPCN_HPP_HAS_SPAN
/* The views do not own their bytes: a std::span may outlive them. */
template <class T>
inline constexpr bool std::ranges::enable_borrowed_range<ipcn::Span<T>> = true;
template <>
inline constexpr bool std::ranges::enable_borrowed_range<ipcn::Bytes> = true;
template <>
inline constexpr bool std::ranges::enable_borrowed_range<ipcn::MutableBytes> = true;
#endif

/* The value classes (CBOR, tensors) build on the classes above. */
#include "ipcnet_value.hpp"
/* Several providers of a path, request modes, at most once: the types of
 * Node's calls of ipcnet_redundancy.h. */
#include "ipcnet_redundancy.hpp"

#endif /* IPCNET_HPP */
