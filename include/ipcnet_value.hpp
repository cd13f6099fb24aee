/* SPDX-License-Identifier: MIT */
/**
 * @file ipcnet_value.hpp
 * @brief The C++ classes of IPCNet's values (ipcnet_value.h): CBOR writer,
 *        reader and tree, tensors, and ipcn::Value, a CBOR value as a tree
 *        with maps, arrays, conversions and JSON (Since: 0.2).
 *
 * Part of the C++ binding: ipcnet.hpp includes it (after the classes it
 * builds on: ipcn::Error, ipcn::Bytes, ipcn::Message...), and including it
 * alone includes ipcnet.hpp.  The rules of ipcnet.hpp (errors, ownership,
 * threads) hold here too.
 *
 * Since: 0.1
 */
#ifndef IPCNET_VALUE_HPP
#define IPCNET_VALUE_HPP

#include "ipcnet.hpp"

#include <initializer_list>
#include <limits>

namespace ipcn {

/* ================================================================== */
/* Values: CBOR and tensors (ipcnet_value.h)                           */
/* ================================================================== */

/**
 * A CBOR writer (ipcn_cbor_writer) over a buffer it owns, or over the
 * caller's.  Each put_*() chains; errors are sticky and reported by
 * finish(): check only that.  Neither copyable nor movable (the C writer
 * points into its buffer).  For output of unknown size use cbor_encode(),
 * which measures first.
 */
class CborWriter {
public:
    /** Write into a buffer of capacity bytes owned by the writer.
     *  flags: 0 or IPCN_CBOR_DETERMINISTIC. */
    explicit CborWriter(std::size_t capacity = 1024, std::uint32_t flags = 0) : own_(capacity)
    {
        ipcn_cbor_writer_init(&w_, own_.data(), own_.size(), flags);
    }
    /** Write into the caller's buffer; an empty one only measures. */
    CborWriter(MutableBytes buf, std::uint32_t flags)
    {
        ipcn_cbor_writer_init(&w_, buf.data(), buf.size(), flags);
    }
    CborWriter(const CborWriter &) = delete;
    CborWriter &operator=(const CborWriter &) = delete;

    /** @name One item each (ipcn_cbor_put_*()); they return *this.
     *  @{ */
    /** An unsigned integer. */
    CborWriter &put_uint(std::uint64_t v) { return did(ipcn_cbor_put_uint(&w_, v)); }
    /** A signed integer. */
    CborWriter &put_int(std::int64_t v) { return did(ipcn_cbor_put_int(&w_, v)); }
    /** A byte string (copied). */
    CborWriter &put_bytes(Bytes b) { return did(ipcn_cbor_put_bytes(&w_, b.data(), b.size())); }
    /** A text string: valid UTF-8 or the writer fails with 200. */
    CborWriter &put_text(std::string_view s) { return did(ipcn_cbor_put_text(&w_, s.data(), s.size())); }
    /** A float in the shortest exact width. */
    CborWriter &put_float(double v) { return did(ipcn_cbor_put_float(&w_, v)); }
    /** true or false. */
    CborWriter &put_bool(bool v) { return did(ipcn_cbor_put_bool(&w_, v ? 1 : 0)); }
    /** null. */
    CborWriter &put_null() { return did(ipcn_cbor_put_null(&w_)); }
    /** An array of count items: write them next. */
    CborWriter &begin_array(std::uint64_t count) { return did(ipcn_cbor_put_array(&w_, count)); }
    /** A map of pairs key/value pairs: write key, value, ... next. */
    CborWriter &begin_map(std::uint64_t pairs) { return did(ipcn_cbor_put_map(&w_, pairs)); }
    /** A tag: write the tagged item next. */
    CborWriter &put_tag(std::uint64_t tag) { return did(ipcn_cbor_put_tag(&w_, tag)); }
    /** One complete encoded item, checked then copied. */
    CborWriter &put_encoded(Bytes item) { return did(ipcn_cbor_put_encoded(&w_, item.data(), item.size())); }
    /** A tensor (ipcn_tensor_encode()). */
    CborWriter &put_tensor(const ipcn_tensor &t) { return did(ipcn_tensor_encode(&w_, &t)); }
    /** @} */

    /** The writer's status so far: 100, 306 (overflowed), 200. */
    int status() const noexcept { return w_.status; }
    /**
     * End writing: the encoded bytes (a view of the writer's buffer).
     * Throws Error 306 (buffer too small; what() gives the size needed),
     * 200 (an invalid call, or an unfinished array/map/tag).
     */
    Bytes finish()
    {
        std::size_t len = 0;
        int st = ipcn_cbor_writer_finish(&w_, &len);
        if (st == IPCN_INSUFFICIENT_STORAGE)
            throw Error(st, "cbor: " + std::to_string(len) + " bytes needed");
        detail::check(st, "cbor");
        return Bytes(w_.buf, len);
    }
    /** ipcn_cbor_writer_finish(): *len as it documents. */
    int try_finish(std::size_t *len) noexcept { return ipcn_cbor_writer_finish(&w_, len); }
    /** The C writer. */
    ipcn_cbor_writer *get() noexcept { return &w_; }

private:
    CborWriter &did(int) noexcept { return *this; } /* errors are sticky */
    ipcn_cbor_writer w_;
    std::vector<std::uint8_t> own_;
};

/**
 * Encode one CBOR value of any size: build(w) is called twice, once to
 * measure and once to write into a buffer of the exact size, so it must
 * write the same thing both times.  Throws Error 200 (invalid value).
 */
template <class F>
std::vector<std::uint8_t> cbor_encode(F &&build, std::uint32_t flags = 0)
{
    std::size_t need = 0;
    {
        CborWriter m(MutableBytes(), flags);
        build(m);
        int st = m.try_finish(&need);
        if (st != IPCN_OK && st != IPCN_INSUFFICIENT_STORAGE)
            detail::check(st, "cbor");
    }
    std::vector<std::uint8_t> out(need);
    CborWriter w(MutableBytes(out.data(), out.size()), flags);
    build(w);
    std::size_t len = 0;
    detail::check(w.try_finish(&len), "cbor");
    out.resize(len);
    return out;
}

/**
 * A CBOR reader (ipcn_cbor_reader) over bytes the caller keeps alive; its
 * values point into them.  Copying a reader forks the walk.
 */
class CborReader {
public:
    /** Walk buf; flags: IPCN_CBOR_DETERMINISTIC, IPCN_CBOR_SEQUENCE. */
    explicit CborReader(Bytes buf, std::uint32_t flags = 0)
    {
        ipcn_cbor_reader_init(&r_, buf.data(), buf.size(), flags);
    }
    /** The next item head: true with v set, false at the end (103).
     *  Throws Error 200 (not well-formed). */
    bool next(ipcn_cbor_value &v) { return end(ipcn_cbor_next(&r_, &v)); }
    /** What next() would give, without moving. */
    bool peek(ipcn_cbor_value &v) const { return end(ipcn_cbor_peek(&r_, &v)); }
    /** next(), then skip everything inside the item. */
    bool skip(ipcn_cbor_value *v = nullptr) { return end(ipcn_cbor_skip(&r_, v)); }
    /** Bytes consumed so far. */
    std::size_t offset() const noexcept { return ipcn_cbor_reader_offset(&r_); }
    /** The C reader. */
    ipcn_cbor_reader *get() noexcept { return &r_; }

    /** A text or byte string item as a view (into the buffer). */
    static std::string_view text(const ipcn_cbor_value &v) noexcept
    {
        return {reinterpret_cast<const char *>(v.ptr), v.ptr ? v.len : 0};
    }
    /** An integer item as int64_t; throws Error 200 when it is none or too big. */
    static std::int64_t to_int(const ipcn_cbor_value &v)
    {
        std::int64_t x = 0;
        detail::check(ipcn_cbor_value_int64(&v, &x), "cbor integer");
        return x;
    }

private:
    static bool end(int st)
    {
        if (st == IPCN_NO_DATA)
            return false;
        detail::check(st, "cbor");
        return true;
    }
    ipcn_cbor_reader r_;
};

/**
 * A decoded CBOR tree (ipcn_cbor_tree_decode()), owned and freed with
 * ipcn_cbor_tree_free().  Unless decoded with IPCN_CBOR_COPY_STRINGS, its
 * strings point into the input: keep that alive.  Move-only.
 */
class CborTree {
public:
    /** Decode one item.  Throws Error 200, 307. */
    static CborTree decode(Bytes buf, std::uint32_t flags = 0)
    {
        ipcn_cbor_item *root = nullptr;
        detail::check(ipcn_cbor_tree_decode(buf.data(), buf.size(), flags, &root), "cbor decode");
        return CborTree(root);
    }
    /** The root item (not of a temporary tree: it goes with the tree). */
    const ipcn_cbor_item &root() const & noexcept { return *root_; }
    const ipcn_cbor_item &root() const && = delete;
    /** The value of key in a map item (the root by default); NULL if none. */
    static const ipcn_cbor_item *find(const ipcn_cbor_item &map, const char *key) noexcept
    {
        return ipcn_cbor_map_find(&map, key);
    }
    /** find() in the root (not of a temporary tree). */
    const ipcn_cbor_item *find(const char *key) const & noexcept { return find(*root_, key); }
    const ipcn_cbor_item *find(const char *key) const && = delete;
    /** A text or byte string item as a view. */
    static std::string_view text(const ipcn_cbor_item &v) noexcept
    {
        return {reinterpret_cast<const char *>(v.ptr), v.ptr ? v.len : 0};
    }

private:
    struct Free {
        void operator()(ipcn_cbor_item *p) const noexcept { ipcn_cbor_tree_free(p); }
    };
    explicit CborTree(ipcn_cbor_item *r) noexcept : root_(r) {}
    std::unique_ptr<ipcn_cbor_item, Free> root_;
};

/** The dtype of a C++ element type (float -> IPCN_DTYPE_FLOAT32, ...);
 *  IPCN_DTYPE_INVALID for others. */
template <class T>
constexpr ipcn_dtype dtype_of() noexcept
{
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_same_v<U, bool>)
        return IPCN_DTYPE_BOOL;
    else if constexpr (std::is_same_v<U, float>)
        return IPCN_DTYPE_FLOAT32;
    else if constexpr (std::is_same_v<U, double>)
        return IPCN_DTYPE_FLOAT64;
    else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>)
        return sizeof(U) == 1 ? IPCN_DTYPE_INT8
             : sizeof(U) == 2 ? IPCN_DTYPE_INT16
             : sizeof(U) == 4 ? IPCN_DTYPE_INT32
             : sizeof(U) == 8 ? IPCN_DTYPE_INT64 : IPCN_DTYPE_INVALID;
    else if constexpr (std::is_integral_v<U> && std::is_unsigned_v<U>)
        return sizeof(U) == 1 ? IPCN_DTYPE_UINT8
             : sizeof(U) == 2 ? IPCN_DTYPE_UINT16
             : sizeof(U) == 4 ? IPCN_DTYPE_UINT32
             : sizeof(U) == 8 ? IPCN_DTYPE_UINT64 : IPCN_DTYPE_INVALID;
    else
        return IPCN_DTYPE_INVALID;
}

/**
 * A tensor decoded from a message, without copying: a view of its payload
 * that keeps the message (a reference, not a copy) alive.  Copyable.
 */
class Tensor {
public:
    /** Decode msg's data as one tensor item (encoding "tensor" or "cbor").
     *  Throws Error 200 (not a tensor), 301 (one that cannot be viewed). */
    static Tensor decode(const Message &msg, std::uint32_t flags = 0)
    {
        Result<Tensor> r = try_decode(msg, flags);
        detail::check(r.ok() ? IPCN_OK : r.status(), "tensor decode", msg ? msg.path() : "");
        return std::move(r).value();
    }
    /** decode() of a callback's message: takes a reference of it. */
    static Tensor decode(const MessageView &msg, std::uint32_t flags = 0)
    {
        return decode(msg.ref(), flags);
    }
    /** decode() without throwing. */
    static Result<Tensor> try_decode(const Message &msg, std::uint32_t flags = 0) noexcept
    {
        if (!msg)
            return Result<Tensor>(IPCN_BAD_REQUEST);
        ipcn_tensor t;
        int st = ipcn_tensor_decode(msg.get()->data, msg.get()->len, flags, &t);
        if (st != IPCN_OK)
            return Result<Tensor>(st);
        return Result<Tensor>(st, Tensor(msg, t));
    }

    /** The element type. */
    ipcn_dtype dtype() const noexcept { return t_.dtype; }
    /** "float32", ... */
    const char *dtype_name() const noexcept { return ipcn_dtype_name(t_.dtype); }
    /** The number of dimensions (0: a scalar). */
    std::uint32_t ndim() const noexcept { return t_.ndim; }
    /** The shape, in elements. */
    Span<const std::int64_t> shape() const noexcept { return {t_.shape, t_.ndim}; }
    /** The strides, in elements. */
    Span<const std::int64_t> strides() const noexcept { return {t_.strides, t_.ndim}; }
    /** The number of elements. */
    std::uint64_t numel() const noexcept { return ipcn_tensor_numel(&t_); }
    /** Row-major without gaps. */
    bool contiguous() const noexcept { return ipcn_tensor_is_contiguous(&t_) == 1; }
    /** The elements' address is a multiple of their size (readable in place). */
    bool aligned() const noexcept { return t_.aligned != 0; }
    /** The byte order of the elements. */
    ipcn_byte_order order() const noexcept { return t_.order; }
    /** The payload's bytes (inside the message). */
    Bytes bytes() const noexcept { return Bytes(t_.data, t_.size); }
    /** The C view. */
    const ipcn_tensor &get() const noexcept { return t_; }
    /** The message it views. */
    const Message &message() const noexcept { return msg_; }

    /** The elements in place, as T; throws Error 200 unless the dtype is
     *  dtype_of<T>() and the elements are aligned, contiguous and in the
     *  machine's byte order (else use to_vector()). */
    template <class T>
    const T *data() const
    {
        if (dtype_of<T>() != t_.dtype || !t_.aligned || !contiguous() ||
            (ipcn_dtype_size(t_.dtype) > 1 && t_.order != IPCN_ORDER_NATIVE))
            throw Error(IPCN_BAD_REQUEST, std::string("tensor is not a contiguous, aligned, "
                                                      "native array of ") +
                                              ipcn_dtype_name(dtype_of<T>()));
        return static_cast<const T *>(t_.data);
    }
    /** A contiguous, native-order copy of the elements (ipcn_tensor_copy());
     *  throws Error 200 unless the dtype is dtype_of<T>(). */
    template <class T>
    std::vector<T> to_vector() const
    {
        if (dtype_of<T>() != t_.dtype)
            throw Error(IPCN_BAD_REQUEST, std::string("tensor of ") + dtype_name() +
                                              " read as " + ipcn_dtype_name(dtype_of<T>()));
        std::vector<T> out(static_cast<std::size_t>(numel()));
        detail::check(ipcn_tensor_copy(&t_, out.data(), out.size() * sizeof(T)), "tensor copy");
        return out;
    }

private:
    Tensor(Message m, const ipcn_tensor &t) noexcept : msg_(std::move(m)), t_(t) {}
    Message msg_;
    ipcn_tensor t_;
};

/**
 * The CBOR encoding of a contiguous row-major tensor of native order
 * (ipcn_tensor_encode()): publish it with encoding "tensor".  data holds
 * numel(shape) elements.  Throws Error 200 (invalid shape or dtype).
 */
inline std::vector<std::uint8_t> encode_tensor(ipcn_dtype dtype,
                                               const std::vector<std::int64_t> &shape,
                                               const void *data)
{
    ipcn_tensor t;
    detail::check(ipcn_tensor_init(&t, dtype, static_cast<std::uint32_t>(shape.size()),
                                   shape.data(), data),
                  "tensor");
    return cbor_encode([&](CborWriter &w) { w.put_tensor(t); });
}
/** encode_tensor() with the dtype of T. */
template <class T>
std::vector<std::uint8_t> encode_tensor(const std::vector<std::int64_t> &shape, const T *data)
{
    static_assert(dtype_of<T>() != IPCN_DTYPE_INVALID, "no IPCNet dtype for this type");
    return encode_tensor(dtype_of<T>(), shape, data);
}

/* ================================================================== */
/* Value: a CBOR value as a C++ tree                                    */
/* ================================================================== */

/**
 * A value of any CBOR type, held as a plain tree (copyable, movable): what
 * a program reads out of a message and writes into one without touching
 * the CBOR codec.  Maps, arrays and conversions in the way nlohmann::json
 * has them:
 *
 *     ipcn::Value cmd = {{"threshold", 0.5}, {"ids", {1, 2}}};
 *     cmd["gain"] = 2;                                  // adds a key
 *     node.publish("ctl/cmd", cmd.encode());            // CBOR bytes
 *
 *     ipcn::Value pose = ipcn::Value::decode(msg.data());
 *     double x = pose["position"]["x"].get<double>();   // an int is fine too
 *     double g = pose.value("gain", 1.0);               // 1.0 when absent
 *
 * Construction: from nullptr, bool, any integer, float/double, text
 * (const char *, std::string, std::string_view), a std::vector<T> (an
 * array), or a braced list: a list whose elements are all two-element
 * lists starting with a text is a map ({{"a", 1}, {"b", 2}}), any other
 * list an array ({1, 2, 3}); Value::array() and Value::map() say which
 * when the guess is wrong.  As with nlohmann::json, Value v{5} is the
 * array [5]: write Value v = 5.  Byte strings and tags are explicit:
 * Value::bytes(), Value::tag().
 *
 * Conversions are explicit (get<T>() and as_*()), never implicit: they
 * can fail, and they follow the C getters of ipcnet_value.h — an integer
 * is accepted where a double is asked, a float of integral value where an
 * integer is asked; Error 200 for the wrong type (a fraction for an
 * integer included), 306 for a number that does not fit T, 203 for a
 * missing key or index of a const Value.
 *
 * Integers keep CBOR's whole range (-2^64 .. 2^64-1).  Maps keep their
 * keys in order, may have keys of any type (operator[] looks up text
 * keys), and are searched linearly: fine for the maps of a message.
 * Floats are held as doubles (re-encoded in the shortest exact width).
 * A tag keeps its number and content; undefined and other simple values
 * are kept as Simple.  encode() refuses (Error 200) nesting deeper than
 * IPCN_CBOR_MAX_DEPTH.  Not thread-safe: one Value, one thread at a time.
 *
 * Since: 0.2
 */
class Value {
public:
    /** The kinds of values. */
    enum class Type { Null, Bool, Int, Float, Text, Bytes, Array, Map, Tag, Simple };
    using Pair = std::pair<Value, Value>;

    /** @name Construction
     *  @{ */
    Value() noexcept = default;
    Value(std::nullptr_t) noexcept {}
    Value(bool b) noexcept : type_(Type::Bool), u_(b ? 1 : 0) {}
    template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
    Value(T v) noexcept : type_(Type::Int)
    {
        if constexpr (std::is_signed_v<T>) {
            neg_ = v < 0;
            u_ = neg_ ? static_cast<std::uint64_t>(-(v + 1)) : static_cast<std::uint64_t>(v);
        } else {
            u_ = v;
        }
    }
    Value(double d) noexcept : type_(Type::Float), f_(d) {}
    Value(float d) noexcept : type_(Type::Float), f_(d) {}
    /** Text (UTF-8; encode() refuses invalid UTF-8).  nullptr is null. */
    Value(const char *s) : type_(s ? Type::Text : Type::Null), s_(s ? s : "") {}
    Value(std::string s) noexcept : type_(Type::Text), s_(std::move(s)) {}
    Value(std::string_view s) : type_(Type::Text), s_(s) {}
    /** An array of the elements (not for bytes: use Value::bytes()). */
    template <class T, std::enable_if_t<!std::is_same_v<T, std::uint8_t> &&
                                            std::is_constructible_v<Value, const T &>,
                                        int> = 0>
    Value(const std::vector<T> &v) : type_(Type::Array)
    {
        a_.reserve(v.size());
        for (const T &x : v)
            a_.emplace_back(x);
    }
    /** A braced list: a map when every element is a two-element array
     *  that starts with a text, else an array. */
    Value(std::initializer_list<Value> init)
    {
        bool map = init.size() > 0;
        for (const Value &e : init)
            map = map && e.type_ == Type::Array && e.a_.size() == 2 &&
                  e.a_[0].type_ == Type::Text;
        if (!map) {
            type_ = Type::Array;
            a_.assign(init.begin(), init.end());
            return;
        }
        type_ = Type::Map;
        for (const Value &e : init)
            m_.emplace_back(e.a_[0], e.a_[1]);
    }
    /** An array of these elements (never a map). */
    static Value array(std::initializer_list<Value> init = {})
    {
        Value v;
        v.type_ = Type::Array;
        v.a_.assign(init.begin(), init.end());
        return v;
    }
    /** A map of these key/value pairs (keys of any type). */
    static Value map(std::initializer_list<Pair> init = {})
    {
        Value v;
        v.type_ = Type::Map;
        v.m_.assign(init.begin(), init.end());
        return v;
    }
    /** A byte string (copied). */
    static Value bytes(Bytes b)
    {
        Value v;
        v.type_ = Type::Bytes;
        v.b_.assign(b.begin(), b.end());
        return v;
    }
    /** Tag number tag around content. */
    static Value tag(std::uint64_t tag, Value content)
    {
        Value v;
        v.type_ = Type::Tag;
        v.u_ = tag;
        v.a_.push_back(std::move(content));
        return v;
    }
    /** A simple value other than false, true, null (23 is undefined). */
    static Value simple(unsigned n)
    {
        if (n > 255 || (n >= 20 && n <= 22) || (n >= 24 && n < 32))
            throw Error(IPCN_BAD_REQUEST, "cbor simple value " + std::to_string(n));
        Value v;
        v.type_ = Type::Simple;
        v.u_ = n;
        return v;
    }
    /** @} */

    /** @name Kind
     *  @{ */
    Type type() const noexcept { return type_; }
    bool is_null() const noexcept { return type_ == Type::Null; }
    bool is_bool() const noexcept { return type_ == Type::Bool; }
    bool is_int() const noexcept { return type_ == Type::Int; }
    bool is_float() const noexcept { return type_ == Type::Float; }
    bool is_number() const noexcept { return is_int() || is_float(); }
    bool is_text() const noexcept { return type_ == Type::Text; }
    bool is_bytes() const noexcept { return type_ == Type::Bytes; }
    bool is_array() const noexcept { return type_ == Type::Array; }
    bool is_map() const noexcept { return type_ == Type::Map; }
    bool is_tag() const noexcept { return type_ == Type::Tag; }
    /** Items of an array, pairs of a map, else 0. */
    std::size_t size() const noexcept
    {
        return is_array() ? a_.size() : is_map() ? m_.size() : 0;
    }
    bool empty() const noexcept { return size() == 0; }
    /** @} */

    /** @name Conversions: throw Error 200 (wrong type), 306 (out of range)
     *  @{ */
    /** T: bool, an integer type, float/double, std::string,
     *  std::string_view (a view of this value's text), std::vector<U> (an
     *  array of U), Value. */
    template <class T>
    T get() const
    {
        using U = std::remove_cv_t<T>;
        if constexpr (std::is_same_v<U, Value>) {
            return *this;
        } else if constexpr (std::is_same_v<U, bool>) {
            if (!is_bool())
                wrong("bool");
            return u_ != 0;
        } else if constexpr (std::is_integral_v<U>) {
            bool neg = false;
            std::uint64_t mag = magnitude(neg);
            if constexpr (std::is_signed_v<U>) {
                using M = std::make_unsigned_t<U>;
                std::uint64_t lim = static_cast<std::uint64_t>(std::numeric_limits<U>::max());
                if (neg ? mag > lim + 1 : mag > lim)
                    range();
                return neg ? static_cast<U>(-static_cast<U>(static_cast<M>(mag - 1)) - 1)
                           : static_cast<U>(mag);
            } else {
                if ((neg && mag) || mag > std::numeric_limits<U>::max())
                    range();
                return static_cast<U>(mag);
            }
        } else if constexpr (std::is_floating_point_v<U>) {
            if (is_float())
                return static_cast<U>(f_);
            if (!is_int())
                wrong("number");
            double d = static_cast<double>(u_);
            return static_cast<U>(neg_ ? -d - 1.0 : d);
        } else if constexpr (std::is_same_v<U, std::string>) {
            if (!is_text())
                wrong("text");
            return s_;
        } else if constexpr (std::is_same_v<U, std::string_view>) {
            if (!is_text())
                wrong("text");
            return s_;
        } else {
            static_assert(is_vector<U>::value, "Value::get<T>: no conversion to T");
            if (!is_array())
                wrong("array");
            U out;
            out.reserve(a_.size());
            for (const Value &e : a_)
                out.push_back(e.get<typename U::value_type>());
            return out;
        }
    }
    bool as_bool() const { return get<bool>(); }
    std::int64_t as_int() const { return get<std::int64_t>(); }
    std::uint64_t as_uint() const { return get<std::uint64_t>(); }
    double as_double() const { return get<double>(); }
    /** The text (a reference into the value). */
    const std::string &as_text() const
    {
        if (!is_text())
            wrong("text");
        return s_;
    }
    /** The bytes of a byte string. */
    const std::vector<std::uint8_t> &as_bytes() const
    {
        if (!is_bytes())
            wrong("bytes");
        return b_;
    }
    /** The elements of an array. */
    const std::vector<Value> &elements() const
    {
        if (!is_array())
            wrong("array");
        return a_;
    }
    std::vector<Value> &elements()
    {
        if (!is_array())
            wrong("array");
        return a_;
    }
    /** The key/value pairs of a map, in order. */
    const std::vector<Pair> &items() const
    {
        if (!is_map())
            wrong("map");
        return m_;
    }
    std::vector<Pair> &items()
    {
        if (!is_map())
            wrong("map");
        return m_;
    }
    /** A tag's number; its content. */
    std::uint64_t tag_number() const
    {
        if (!is_tag())
            wrong("tag");
        return u_;
    }
    const Value &tag_content() const
    {
        if (!is_tag())
            wrong("tag");
        return a_[0];
    }
    /** A simple value's number (23: undefined). */
    unsigned simple_number() const
    {
        if (type_ != Type::Simple)
            wrong("simple value");
        return static_cast<unsigned>(u_);
    }
    /** @} */

    /** @name Maps and arrays
     *  @{ */
    /** The value of text key, or nullptr (also when this is no map). */
    const Value *find(std::string_view key) const noexcept
    {
        if (!is_map())
            return nullptr;
        for (const Pair &p : m_)
            if (p.first.is_text() && p.first.s_ == key)
                return &p.second;
        return nullptr;
    }
    Value *find(std::string_view key) noexcept
    {
        return const_cast<Value *>(static_cast<const Value &>(*this).find(key));
    }
    bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
    /** The value of key; throws Error 200 (no map), 203 (no such key). */
    const Value &at(std::string_view key) const
    {
        if (!is_map())
            wrong("map");
        const Value *v = find(key);
        if (!v)
            throw Error(IPCN_NOT_FOUND, "value: no key \"" + std::string(key) + "\"");
        return *v;
    }
    Value &at(std::string_view key)
    {
        return const_cast<Value &>(static_cast<const Value &>(*this).at(key));
    }
    /** Item i; throws Error 200 (no array), 203 (past the end). */
    const Value &at(std::size_t i) const
    {
        if (!is_array())
            wrong("array");
        if (i >= a_.size())
            throw Error(IPCN_NOT_FOUND, "value: no item " + std::to_string(i));
        return a_[i];
    }
    Value &at(std::size_t i) { return const_cast<Value &>(static_cast<const Value &>(*this).at(i)); }
    /** const: at().  Not const: a null becomes a map, and a missing key is
     *  added with a null value (as nlohmann::json); throws 200 for others. */
    const Value &operator[](std::string_view key) const { return at(key); }
    Value &operator[](std::string_view key)
    {
        if (is_null())
            type_ = Type::Map;
        if (Value *v = find(key))
            return *v;
        if (!is_map())
            wrong("map");
        m_.emplace_back(Value(key), Value());
        return m_.back().second;
    }
    /** const: at().  Not const: a null becomes an array, and an index at
     *  the end appends a null; throws 203 past that, 200 for others. */
    const Value &operator[](std::size_t i) const { return at(i); }
    Value &operator[](std::size_t i)
    {
        if (is_null())
            type_ = Type::Array;
        if (is_array() && i == a_.size())
            a_.emplace_back();
        return at(i);
    }
    /** Append to an array (a null becomes one). */
    void push_back(Value v)
    {
        if (is_null())
            type_ = Type::Array;
        if (!is_array())
            wrong("array");
        a_.push_back(std::move(v));
    }
    /** The value of key converted to T, or def when this map has no such
     *  key; throws as get<T>() when the value is of another type, and 200
     *  when this is no map. */
    template <class T>
    T value(std::string_view key, T def) const
    {
        if (!is_map())
            wrong("map");
        const Value *v = find(key);
        return v ? v->get<T>() : def;
    }
    std::string value(std::string_view key, const char *def) const
    {
        return value<std::string>(key, def);
    }
    /** @} */

    /** Same type and same contents (1 and 1.0 differ; NaN is not equal to
     *  itself, as in C++). */
    friend bool operator==(const Value &x, const Value &y)
    {
        return x.type_ == y.type_ && x.neg_ == y.neg_ && x.u_ == y.u_ &&
               (x.type_ != Type::Float || x.f_ == y.f_) && x.s_ == y.s_ && x.b_ == y.b_ &&
               x.a_ == y.a_ && x.m_ == y.m_;
    }
    friend bool operator!=(const Value &x, const Value &y) { return !(x == y); }

    /** @name CBOR and JSON
     *  @{ */
    /** The CBOR encoding (flags: 0 or IPCN_CBOR_DETERMINISTIC).  Throws
     *  Error 200 (invalid UTF-8 in a text, nesting deeper than
     *  IPCN_CBOR_MAX_DEPTH, equal keys in a deterministic map). */
    std::vector<std::uint8_t> encode(std::uint32_t flags = 0) const
    {
        return cbor_encode([this](CborWriter &w) { put(w, *this, 0); }, flags);
    }
    /** Write this value with a writer (as one item). */
    void encode_to(CborWriter &w) const { put(w, *this, 0); }
    /** Decode exactly one CBOR item (strings copied: the value does not
     *  point into buf).  Throws Error 200 (not one well-formed item), 307. */
    static Value decode(Bytes buf, std::uint32_t flags = 0)
    {
        CborTree t = CborTree::decode(buf, flags);
        return from_item(t.root());
    }
    /** Parse a JSON text (ipcn_cbor_from_json(): strict RFC 8259).  Throws
     *  Error 200 ("at byte 7: trailing comma"), 307. */
    static Value from_json(std::string_view json)
    {
        ipcn_json_error e{0, nullptr};
        std::size_t need = 0;
        int st = ipcn_cbor_from_json(json.data(), json.size(), 0, nullptr, 0, &need, &e);
        std::vector<std::uint8_t> buf(need);
        if (st == IPCN_OK)
            st = ipcn_cbor_from_json(json.data(), json.size(), 0, buf.data(), buf.size(),
                                     &need, &e);
        if (st == IPCN_BAD_REQUEST && e.what)
            throw Error(st, "json: at byte " + std::to_string(e.offset + 1) + ": " + e.what);
        detail::check(st, "json");
        return decode(Bytes(buf.data(), need));
    }
    /** The JSON text (ipcn_cbor_to_json(): bytes as "h'..'", tags
     *  dropped, NaN as null...); flags: IPCN_JSON_PRETTY,
     *  IPCN_JSON_TENSOR_HEAD.  Throws as encode(). */
    std::string to_json(std::uint32_t flags = 0) const
    {
        std::vector<std::uint8_t> c = encode();
        std::size_t need = 0;
        detail::check(ipcn_cbor_to_json(c.data(), c.size(), flags, nullptr, 0, &need), "json");
        std::string s(need + 1, '\0');
        detail::check(ipcn_cbor_to_json(c.data(), c.size(), flags, &s[0], s.size(), &need),
                      "json");
        s.resize(need);
        return s;
    }
    /** @} */

private:
    template <class T>
    struct is_vector : std::false_type {};
    template <class T, class A>
    struct is_vector<std::vector<T, A>> : std::true_type {};

    [[noreturn]] void wrong(const char *want) const
    {
        static const char *const names[] = {"null", "bool",  "integer", "float", "text",
                                            "bytes", "array", "map",     "tag",   "simple value"};
        throw Error(IPCN_BAD_REQUEST, std::string("value: ") + names[static_cast<int>(type_)] +
                                          " where " + want + " was expected");
    }
    [[noreturn]] static void range() { throw Error(IPCN_INSUFFICIENT_STORAGE, "value: out of range"); }

    /* An integer, or a float of integral value, as sign and magnitude. */
    std::uint64_t magnitude(bool &neg) const
    {
        if (is_int()) {
            neg = neg_;
            if (!neg_)
                return u_;
            if (u_ == UINT64_MAX) /* -2^64 */
                range();
            return u_ + 1;
        }
        if (!is_float())
            wrong("integer");
        if (f_ != f_)
            wrong("integer");
        if (!(f_ < 18446744073709551616.0 && f_ > -18446744073709551616.0))
            range();
        neg = f_ < 0;
        double a = neg ? -f_ : f_;
        std::uint64_t m = static_cast<std::uint64_t>(a);
        if (static_cast<double>(m) != a)
            wrong("integer");
        return m;
    }

    static void put(CborWriter &w, const Value &v, unsigned depth)
    {
        if (depth > IPCN_CBOR_MAX_DEPTH)
            throw Error(IPCN_BAD_REQUEST, "value: nested deeper than IPCN_CBOR_MAX_DEPTH");
        switch (v.type_) {
        case Type::Null: w.put_null(); return;
        case Type::Bool: w.put_bool(v.u_ != 0); return;
        case Type::Int:
            if (v.neg_)
                ipcn_cbor_put_negint(w.get(), v.u_);
            else
                w.put_uint(v.u_);
            return;
        case Type::Float: w.put_float(v.f_); return;
        case Type::Text: w.put_text(v.s_); return;
        case Type::Bytes: w.put_bytes(v.b_); return;
        case Type::Array:
            w.begin_array(v.a_.size());
            for (const Value &e : v.a_)
                put(w, e, depth + 1);
            return;
        case Type::Map:
            w.begin_map(v.m_.size());
            for (const Pair &p : v.m_) {
                put(w, p.first, depth + 1);
                put(w, p.second, depth + 1);
            }
            return;
        case Type::Tag:
            w.put_tag(v.u_);
            put(w, v.a_[0], depth + 1);
            return;
        case Type::Simple: ipcn_cbor_put_simple(w.get(), static_cast<unsigned>(v.u_)); return;
        }
    }

    /* A tree item (nesting bounded by IPCN_CBOR_MAX_DEPTH). */
    static Value from_item(const ipcn_cbor_item &it)
    {
        Value v;
        switch (it.type) {
        case IPCN_CBOR_UINT:
        case IPCN_CBOR_NEGINT:
            v.type_ = Type::Int;
            v.neg_ = it.type == IPCN_CBOR_NEGINT;
            v.u_ = it.u;
            return v;
        case IPCN_CBOR_BYTES:
            v.type_ = Type::Bytes;
            v.b_.assign(it.ptr, it.ptr + (it.ptr ? it.len : 0));
            return v;
        case IPCN_CBOR_TEXT: return Value(CborTree::text(it));
        case IPCN_CBOR_ARRAY:
            v.type_ = Type::Array;
            v.a_.reserve(static_cast<std::size_t>(it.count));
            for (std::uint64_t i = 0; i < it.count; i++)
                v.a_.push_back(from_item(it.items[i]));
            return v;
        case IPCN_CBOR_MAP:
            v.type_ = Type::Map;
            v.m_.reserve(static_cast<std::size_t>(it.count));
            for (std::uint64_t i = 0; i < it.count; i++)
                v.m_.emplace_back(from_item(it.items[2 * i]), from_item(it.items[2 * i + 1]));
            return v;
        case IPCN_CBOR_TAG: return tag(it.u, from_item(it.items[0]));
        case IPCN_CBOR_BOOL: return Value(it.u != 0);
        case IPCN_CBOR_NULL: return v;
        case IPCN_CBOR_FLOAT: return Value(it.f);
        default: /* undefined, other simple values */
            v.type_ = Type::Simple;
            v.u_ = it.type == IPCN_CBOR_UNDEFINED ? 23 : it.u;
            return v;
        }
    }

    Type type_ = Type::Null;
    bool neg_ = false;     /* Int: the value is -1 - u_ */
    std::uint64_t u_ = 0;  /* Int magnitude, Bool, Tag number, Simple */
    double f_ = 0;
    std::string s_;
    std::vector<std::uint8_t> b_;
    std::vector<Value> a_; /* Array items; Tag: its content */
    std::vector<Pair> m_;
};

} // namespace ipcn

#endif /* IPCNET_VALUE_HPP */
