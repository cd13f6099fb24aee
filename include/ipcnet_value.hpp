/* SPDX-License-Identifier: MIT */
/**
 * @file ipcnet_value.hpp
 * @brief The C++ classes of IPCNet's values (ipcnet_value.h): CBOR writer,
 *        reader and tree, tensors.
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

} // namespace ipcn

#endif /* IPCNET_VALUE_HPP */
