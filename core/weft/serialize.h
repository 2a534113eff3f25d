// weft serialization: turns task arguments and results into bytes and back.
//
// Usage:
//
//   std::string bytes = weft::Serialize(std::vector<double>{1, 2, 3});
//   absl::StatusOr<std::vector<double>> v =
//       weft::Deserialize<std::vector<double>>(bytes);
//
// A user type becomes serializable with ONE function used for both
// directions, either a member
//
//   struct Point {
//     double x = 0, y = 0;
//     std::string label;
//     template <class Archive>
//     void serialize(Archive& ar) { ar(x, y, label); }
//   };
//
// or a free function in the type's namespace (found by argument-dependent
// lookup):
//
//   template <class Archive>
//   void serialize(Archive& ar, Point& p) { ar(p.x, p.y, p.label); }
//
// Inside serialize(), `Archive::kIsLoading` tells the directions apart, and
// `ar.Fail(status)` rejects an invalid value while reading. serialize() may
// run more than once per Serialize() call (once to size the output) and must
// not modify the value while writing.
//
// Supported out of the box: arithmetic types, enums, std::string,
// std::vector (including vector<bool>), std::array, C arrays, std::map,
// std::unordered_map, std::set, std::unordered_set, std::pair, std::tuple,
// std::optional, std::variant, std::monostate, std::unique_ptr,
// std::shared_ptr, and protobuf messages (subclasses of
// google::protobuf::MessageLite). Anything else, raw pointers included, is a
// compile-time error with an explanation. See docs/serialization.md for the
// wire format.
//
// Deserialization never reads out of bounds, never allocates more than a
// bounded multiple of the input's size (see InputArchive), and reports
// malformed input as an absl::Status (DataLoss; ResourceExhausted for a
// value that would take more memory than its size allows) rather than by
// crashing or throwing.
//
// Thread safety: archives are not thread-safe; use each from one thread at a
// time. The free functions keep no shared state and may run concurrently
// (on distinct or const-shared values).

#ifndef WEFT_SERIALIZE_H_
#define WEFT_SERIALIZE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "weft/internal/serialize_core.h"
#include "weft/internal/serialize_std.h"

namespace weft {

namespace internal {

class ObjectState;

// Told of each object reference (weft::ObjectRef) a value holds as the value
// is written, so that a runtime can keep those objects alive as long as the
// bytes are. Called only by the pass that writes bytes, never by
// SerializedSize. Implementations need not be thread-safe: an archive is
// used from one thread.
class RefCollector {
 public:
  virtual ~RefCollector() = default;
  virtual void Add(uint64_t id) = 0;
};

// Turns an object reference read from bytes into one this process holds.
class RefResolver {
 public:
  virtual ~RefResolver() = default;
  // Returns the state behind object `id` (named `name`, for its key), a
  // reference this process now holds. Errors: as the runtime reports them
  // (e.g. Unavailable once it shut down).
  virtual absl::StatusOr<std::shared_ptr<ObjectState>> Resolve(
      uint64_t id, std::string_view name) = 0;
};

template <class T>
bool SerializeIntoWithRefs(const T& value, char* out, size_t size,
                           RefCollector* refs);
template <class T>
absl::StatusOr<T> DeserializeWithRefs(std::string_view bytes,
                                      RefResolver* refs);

}  // namespace internal

// True if values of T (cv and reference qualifiers ignored) can be
// serialized and deserialized: a supported standard type whose elements are
// serializable, an arithmetic or enum type, a protobuf message, or a
// default-constructible type with a serialize function.
template <class T>
inline constexpr bool kIsSerializable =
    internal::ReasonOf<std::remove_cvref_t<T>>() == internal::Reason::kOk;

// Returns a readable name for T that does not change between runs, e.g.
// "std::vector<double>", "std::map<std::string, int32_t>" or, for a protobuf
// message, its full name "pkg.Message". Fixed-width names are used for
// integers ("int32_t"). User types and enums get the compiler's spelling
// ("geo::Point"). Works for any T, serializable or not.
template <class T>
std::string TypeName() {
  return internal::Codec<std::remove_cvref_t<T>>::Name();
}

// Writes values by appending their encoding to a caller-owned string, or
// into a caller-owned buffer of fixed size.
//
// Writing cannot fail. The archive keeps a reference to the string or
// buffer, which must outlive it and must not be modified by anyone else
// while it is in use.
// Not thread-safe.
class OutputArchive {
 public:
  // False: serialize() functions can test Archive::kIsLoading.
  static constexpr bool kIsLoading = false;

  // Appends to `out`, after any bytes it already holds.
  explicit OutputArchive(std::string& out) : out_(&out) {}

  // Writes into the caller's buffer data[0, capacity) instead of a string
  // (for example shared memory sized with SerializedSize). Bytes that would
  // land past `capacity` are counted in bytes_written() but not written.
  // REQUIRES: data points to `capacity` writable bytes (or capacity == 0).
  OutputArchive(char* data, size_t capacity)
      : out_(nullptr), buffer_(data), capacity_(capacity) {}

  OutputArchive(const OutputArchive&) = delete;
  OutputArchive& operator=(const OutputArchive&) = delete;

  // Writes each value in order. A type that cannot be serialized (see
  // kIsSerializable) is a compile-time error.
  // REQUIRES: no protobuf message inside encodes to 2 GiB or more (a protobuf
  // limit) and no std::variant inside is valueless_by_exception (it would be
  // written with an index that fails to deserialize).
  template <class... T>
  void operator()(const T&... values) {
    (Write(values), ...);
  }

  // Appends n raw bytes from `data`. The reader must read them back with
  // InputArchive::ReadBytes or ReadView of the same n (no length is written).
  // REQUIRES: data points to n readable bytes (or n == 0).
  void WriteBytes(const void* data, size_t n) {
    if (n == 0) return;
    if (out_ != nullptr) {
      out_->append(static_cast<const char*>(data), n);
    } else if (FitsInBuffer(n)) {
      std::memcpy(buffer_ + bytes_written_, data, n);
    }
    bytes_written_ += n;
  }

  // Number of bytes this archive has appended so far.
  size_t bytes_written() const { return bytes_written_; }

 private:
  friend struct internal::ArchiveHelpers;
  template <class T>
  friend size_t SerializedSize(const T& value);
  template <class T>
  friend bool internal::SerializeIntoWithRefs(const T&, char*, size_t,
                                              internal::RefCollector*);

  // An archive that only counts bytes.
  struct CountOnly {};
  explicit OutputArchive(CountOnly) : out_(nullptr) {}

  template <class T>
  void Write(const T& value) {
    if constexpr (internal::ReasonOf<T>() == internal::Reason::kOk) {
      internal::Codec<T>::Save(*this, value);
    } else {
      internal::Diagnose<T>();
    }
  }

  // Appends n zero bytes for the caller to fill in and returns where they
  // start, or nullptr if this archive only counts (or its buffer is full).
  char* Extend(size_t n) {
    char* at = nullptr;
    if (out_ != nullptr) {
      const size_t size = out_->size();
      out_->resize(size + n);
      at = out_->data() + size;
    } else if (FitsInBuffer(n)) {
      at = buffer_ + bytes_written_;
      std::memset(at, 0, n);
    }
    bytes_written_ += n;
    return at;
  }

  // True if n more bytes fit in the caller's buffer (false without one).
  bool FitsInBuffer(size_t n) const {
    return buffer_ != nullptr && bytes_written_ <= capacity_ &&
           n <= capacity_ - bytes_written_;
  }

  std::string* const out_;      // Not owned; nullptr unless writing a string.
  char* const buffer_ = nullptr;  // Not owned; the caller's buffer, if any.
  const size_t capacity_ = 0;     // Bytes at buffer_.
  size_t bytes_written_ = 0;
  // Not owned; told of object references written (see RefCollector).
  internal::RefCollector* refs_ = nullptr;
};

// Reads values from a byte buffer written by OutputArchive.
//
// Reading never goes out of bounds. The first error (truncated input, a
// corrupted length, an invalid bool/optional/variant tag, a bad protobuf
// payload, nesting deeper than kMaxDepth, a value that would take more
// memory than the input may (ResourceExhausted, below), or a Fail() from a
// user's serialize function) is kept in status(); after it, every read is a
// no-op that leaves its targets valid but unspecified. Nothing is thrown
// except std::bad_alloc.
//
// Memory: the heap a decoded value takes (container elements, characters,
// pointees) may be at most internal::kDecodeBytesPerInputByte (64) bytes
// per input byte plus internal::kDecodeSlackBytes (16 MiB); a reader checks
// before allocating and fails with ResourceExhausted instead. Only values
// whose elements are much larger in memory than on the wire reach it, e.g.
// more than about 2000 empty std::optional<std::array<double, 1000>> in a
// vector (8008 bytes each in memory, 1 byte on the wire).
//
// The archive does not copy the input: the bytes must outlive it.
// Not thread-safe.
class InputArchive {
 public:
  // True: serialize() functions can test Archive::kIsLoading.
  static constexpr bool kIsLoading = true;
  // Deepest nesting of user types (the only types that can be recursive)
  // accepted, against stack exhaustion on hostile input. Writing does not
  // check it: a deeper value serializes but fails to deserialize.
  static constexpr int kMaxDepth = 256;

  // Reads from `in`, which must outlive the archive.
  explicit InputArchive(std::string_view in)
      : in_(in), memory_left_(internal::DecodeBudget(in.size())) {}

  InputArchive(const InputArchive&) = delete;
  InputArchive& operator=(const InputArchive&) = delete;

  // Reads each value in order, overwriting it. On error sets status() and
  // leaves the values valid but unspecified. A type that cannot be
  // serialized is a compile-time error.
  template <class... T>
  void operator()(T&... values) {
    (Read(values), ...);
  }

  // Copies the next n bytes into `data` and returns true. If fewer than n
  // remain, or the archive has already failed, returns false, sets status()
  // (e.g. DataLoss "truncated: needed 8 bytes at offset 12, 3 left") and
  // reads nothing.
  // REQUIRES: data points to n writable bytes (or n == 0).
  bool ReadBytes(void* data, size_t n) {
    std::string_view view;
    if (!ReadView(n, view)) return false;
    if (n > 0) std::memcpy(data, view.data(), n);
    return true;
  }

  // Like ReadBytes, but sets `view` to the next n bytes of the input itself
  // instead of copying them; the view is valid as long as the input is.
  bool ReadView(size_t n, std::string_view& view) {
    if (!status_.ok()) return false;
    if (n > remaining()) {
      Fail(absl::DataLossError(absl::StrCat("truncated: needed ", n,
                                            " bytes at offset ", pos_, ", ",
                                            remaining(), " left")));
      return false;
    }
    view = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  // Records `status` as the archive's error unless an error is already
  // recorded or `status` is OK. For serialize functions that find a value
  // they read invalid, e.g.
  //   if (Archive::kIsLoading && x < 0) ar.Fail(absl::DataLossError("..."));
  void Fail(absl::Status status) {
    if (status_.ok()) status_ = std::move(status);
  }

  // The first error, or OK.
  const absl::Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

  // Bytes not yet read.
  size_t remaining() const { return in_.size() - pos_; }

  // Bytes read so far (the offset of the next read).
  size_t offset() const { return pos_; }

 private:
  friend struct internal::ArchiveHelpers;
  template <class T>
  friend absl::StatusOr<T> internal::DeserializeWithRefs(
      std::string_view, internal::RefResolver*);

  template <class T>
  void Read(T& value) {
    if constexpr (internal::ReasonOf<T>() == internal::Reason::kOk) {
      internal::Codec<T>::Load(*this, value);
    } else {
      internal::Diagnose<T>();
    }
  }

  bool EnterNested() {
    if (depth_ >= kMaxDepth) {
      Fail(absl::DataLossError(absl::StrCat("nesting deeper than ", kMaxDepth,
                                            " levels at offset ", pos_)));
      return false;
    }
    ++depth_;
    return true;
  }
  void LeaveNested() { --depth_; }

  std::string_view in_;
  size_t pos_ = 0;
  int depth_ = 0;
  uint64_t empty_elements_left_ = internal::kMaxEmptyElements;
  // Bytes of memory the value may still take (internal::DecodeBudget).
  uint64_t memory_left_;
  absl::Status status_;
  // Not owned; resolves object references read (see RefResolver).
  internal::RefResolver* refs_ = nullptr;
};

// Returns the number of bytes Serialize(value) produces. Costs one pass over
// the value (constant time for strings and vectors of arithmetic types).
template <class T>
size_t SerializedSize(const T& value) {
  OutputArchive counter{OutputArchive::CountOnly{}};
  counter(value);
  return counter.bytes_written();
}

// Appends the encoding of `value` to `out`, growing `out` at most once.
// Reentrant: may run concurrently with any other weft serialization call,
// including on the same const value.
// A type that cannot be serialized is a compile-time error.
// REQUIRES: as for OutputArchive::operator().
template <class T>
void Serialize(const T& value, std::string& out) {
  out.reserve(out.size() + SerializedSize(value));
  OutputArchive ar(out);
  ar(value);
}

// Returns the encoding of `value`.
template <class T>
std::string Serialize(const T& value) {
  std::string out;
  Serialize(value, out);
  return out;
}

// Writes the encoding of `value` into out[0, size), where `size` is
// SerializedSize(value), and returns true: one pass, no intermediate string
// (e.g. straight into shared memory). Returns false if the encoding did not
// take exactly `size` bytes (a wrong size, or a serialize() function that
// wrote differently in the sizing pass); out's contents are then
// unspecified, and nothing is ever written outside them. Reentrant.
// REQUIRES: out points to `size` writable bytes (or size == 0); as for
// OutputArchive::operator().
template <class T>
bool SerializeInto(const T& value, char* out, size_t size) {
  return internal::SerializeIntoWithRefs(value, out, size, nullptr);
}

// Decodes a T from exactly `bytes` (as written by Serialize<T>).
//
// Returns DataLoss if the bytes are malformed, truncated, or hold more than
// one T (trailing bytes), and ResourceExhausted if the value would take more
// memory than InputArchive allows for an input of this size; the message
// names T and the offset, e.g.
// "deserializing std::vector<double>: truncated: needed 8 bytes at offset
// 12, 3 left". Errors reported by a user's serialize function via Fail()
// keep their code. Never throws except std::bad_alloc. Reentrant.
// A type that cannot be serialized is a compile-time error.
//
// A value holding weft::ObjectRefs decodes only inside a weft runtime, which
// resolves the references (FailedPrecondition otherwise); see ObjectRef.
template <class T>
absl::StatusOr<T> Deserialize(std::string_view bytes) {
  return internal::DeserializeWithRefs<T>(bytes, nullptr);
}

namespace internal {

// As SerializeInto, telling `refs` (if not null) of each object reference
// written.
template <class T>
bool SerializeIntoWithRefs(const T& value, char* out, size_t size,
                           RefCollector* refs) {
  OutputArchive ar(out, size);
  ar.refs_ = refs;
  ar(value);
  return ar.bytes_written() == size;
}

// As Serialize(value, out), telling `refs` (if not null) of each object
// reference written.
template <class T>
void SerializeWithRefs(const T& value, std::string& out, RefCollector* refs) {
  const size_t at = out.size();
  const size_t size = SerializedSize(value);
  out.resize(at + size);
  SerializeIntoWithRefs(value, out.data() + at, size, refs);
}

// As Deserialize, resolving object references through `refs` (null: a
// reference is a FailedPrecondition error).
template <class T>
absl::StatusOr<T> DeserializeWithRefs(std::string_view bytes,
                                      RefResolver* refs) {
  if constexpr (!kIsSerializable<T>) {
    Diagnose<T>();
    return absl::InternalError("unreachable");
  } else {
    T value{};
    InputArchive ar(bytes);
    ar.refs_ = refs;
    ar(value);
    if (!ar.ok()) {
      return absl::Status(ar.status().code(),
                          absl::StrCat("deserializing ", TypeName<T>(), ": ",
                                       ar.status().message()));
    }
    if (ar.remaining() != 0) {
      return absl::DataLossError(absl::StrCat(
          "deserializing ", TypeName<T>(), ": ", ar.remaining(),
          " trailing bytes after offset ", ar.offset(), " of ", bytes.size()));
    }
    return value;
  }
}

}  // namespace internal
}  // namespace weft

#endif  // WEFT_SERIALIZE_H_
