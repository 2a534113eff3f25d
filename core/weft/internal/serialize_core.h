// Internal to weft/serialize.h; include that header instead.
//
// The codec framework, scalar/protobuf/user-type codecs and the
// compile-time checks. Standard-library codecs are in serialize_std.h.
//
// One Codec<T> per supported type family. Each codec provides:
//   kSelfReason   why T itself cannot be serialized (Reason::kOk if it can)
//   Children      the types T is made of (TypeList<...>), checked recursively
//   kMinWireSize  a lower bound on the encoded size of one T, used to reject
//                 corrupted lengths before allocating
//   Name()        a readable, stable name for TypeName<T>()
//   Save(ar, v)   / Load(ar, v), templated on the archive so that this file
//                 does not need the archive definitions.
// Codecs write nested values through the archive's public operator(), so the
// compile-time checks and the nesting-depth limit apply at every level.

#ifndef WEFT_INTERNAL_SERIALIZE_CORE_H_
#define WEFT_INTERNAL_SERIALIZE_CORE_H_

#include <google/protobuf/message_lite.h>

#include <array>
#include <bit>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace weft {

class OutputArchive;
class InputArchive;

namespace internal {

// Why a type cannot be serialized, for the compile-time diagnostics.
enum class Reason { kOk, kRawPointer, kNotDefaultConstructible, kUnsupported };

template <class... Ts>
struct TypeList {};

// Defined below; the primary template handles user types.
template <class T>
struct Codec;

// Elements that encode to zero bytes (std::monostate, empty user types) are
// not bounded by the input size, so one archive accepts at most this many of
// them in variable-length containers.
inline constexpr uint64_t kMaxEmptyElements = uint64_t{1} << 20;

// The memory a decoded value may take: kDecodeBytesPerInputByte for each
// byte of its encoding plus kDecodeSlackBytes. Decoding charges what each
// container's elements, each string's characters and each owning pointer's
// pointee take before allocating them, and fails with ResourceExhausted
// past the budget, so that no input, however crafted, makes a reader
// allocate more than a bounded multiple of its size. (An element can be far
// larger in memory than on the wire: an empty
// std::optional<std::array<double, 1000>> is 1 byte and 8008 bytes.)
inline constexpr size_t kDecodeBytesPerInputByte = 64;
inline constexpr size_t kDecodeSlackBytes = size_t{16} << 20;

// The memory budget of decoding `input_bytes` bytes (saturating).
constexpr uint64_t DecodeBudget(size_t input_bytes) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  return input_bytes > (kMax - kDecodeSlackBytes) / kDecodeBytesPerInputByte
             ? kMax
             : uint64_t{input_bytes} * kDecodeBytesPerInputByte +
                   kDecodeSlackBytes;
}

// What decoding charges for each element of a node-based container (map,
// set, their hashed kinds) beyond the element itself: the node's links and
// its share of the bucket array.
inline constexpr size_t kNodeOverheadBytes = 32;

template <class T>
concept Plain = std::is_same_v<T, std::remove_cv_t<T>>;

// ---------------------------------------------------------------------------
// Scalars.

// Bytes of a long double that carry its value (x87 extended precision uses
// 10 of its 16 bytes; the rest is padding that must not leak into the output).
inline constexpr size_t kLongDoubleValueBytes =
    std::numeric_limits<long double>::digits == 64 ? 10 : sizeof(long double);

// True if a T (or a contiguous run of them) is encoded exactly as its
// in-memory bytes, so that runs can be copied as one block.
template <class T>
struct IsBulk
    : std::bool_constant<std::is_arithmetic_v<T> && Plain<T> &&
                         !std::is_same_v<T, bool> &&
                         !std::is_same_v<T, long double> &&
                         (sizeof(T) == 1 ||
                          std::endian::native == std::endian::little)> {};
template <class T>
  requires(std::is_enum_v<T> && Plain<T>)
struct IsBulk<T> : IsBulk<std::underlying_type_t<T>> {};
template <class T, size_t N>
struct IsBulk<std::array<T, N>>
    : std::bool_constant<IsBulk<T>::value &&
                         sizeof(std::array<T, N>) == N * sizeof(T)> {};
template <class T, size_t N>
struct IsBulk<T[N]> : IsBulk<T> {};
template <class T>
inline constexpr bool kIsBulk = IsBulk<T>::value;

template <class T>
void EncodeScalar(T v, unsigned char* out) {
  if constexpr (std::is_same_v<T, bool>) {
    out[0] = v ? 1 : 0;
  } else if constexpr (std::is_same_v<T, long double>) {
    std::memset(out, 0, sizeof(T));
    std::memcpy(out, &v, kLongDoubleValueBytes);
  } else {
    std::memcpy(out, &v, sizeof(T));
    if constexpr (std::endian::native == std::endian::big) {
      for (size_t i = 0; i < sizeof(T) / 2; ++i) {
        std::swap(out[i], out[sizeof(T) - 1 - i]);
      }
    }
  }
}

template <class T>
void DecodeScalar(unsigned char* in, T& v) {
  if constexpr (std::endian::native == std::endian::big &&
                !std::is_same_v<T, long double>) {
    for (size_t i = 0; i < sizeof(T) / 2; ++i) {
      std::swap(in[i], in[sizeof(T) - 1 - i]);
    }
  }
  std::memcpy(&v, in, sizeof(T));
}

template <class T>
std::string ArithmeticName() {
  if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_same_v<T, char>) return "char";
  else if constexpr (std::is_same_v<T, wchar_t>) return "wchar_t";
  else if constexpr (std::is_same_v<T, char8_t>) return "char8_t";
  else if constexpr (std::is_same_v<T, char16_t>) return "char16_t";
  else if constexpr (std::is_same_v<T, char32_t>) return "char32_t";
  else if constexpr (std::is_same_v<T, float>) return "float";
  else if constexpr (std::is_same_v<T, double>) return "double";
  else if constexpr (std::is_same_v<T, long double>) return "long double";
  else if constexpr (std::is_signed_v<T>) return absl::StrCat("int", sizeof(T) * 8, "_t");
  else return absl::StrCat("uint", sizeof(T) * 8, "_t");
}

// The compiler's spelling of T, e.g. "geo::Point", for types weft has no
// name table for (user types, enums).
template <class T>
std::string PrettyName() {
  std::string_view f = __PRETTY_FUNCTION__;
  size_t begin = f.find("T = ");
  if (begin == std::string_view::npos) return "<unknown type>";
  begin += 4;
  size_t end = f.find(';', begin);
  if (end == std::string_view::npos) end = f.rfind(']');
  if (end == std::string_view::npos || end < begin) end = f.size();
  return std::string(f.substr(begin, end - begin));
}

// ---------------------------------------------------------------------------
// Helpers with access to the archives' private parts.

struct ArchiveHelpers {
  template <class Ar, class T>
  static void WriteScalar(Ar& ar, T v) {
    unsigned char buf[sizeof(T)];
    EncodeScalar(v, buf);
    ar.WriteBytes(buf, sizeof(T));
  }

  // Reads one scalar; a bool byte other than 0 or 1 is DataLoss.
  template <class Ar, class T>
  static bool ReadScalar(Ar& ar, T& v) {
    unsigned char buf[sizeof(T)];
    const size_t at = ar.offset();
    if (!ar.ReadBytes(buf, sizeof(T))) return false;
    if constexpr (std::is_same_v<T, bool>) {
      if (buf[0] > 1) {
        ar.Fail(absl::DataLossError(absl::StrCat(
            "invalid bool byte ", static_cast<int>(buf[0]), " at offset ", at,
            " (must be 0 or 1)")));
        return false;
      }
      v = buf[0] == 1;
    } else {
      DecodeScalar(buf, v);
    }
    return true;
  }

  // Reads an element count for a C whose elements encode to at least
  // `min_element_bytes` each, and rejects counts the remaining input cannot
  // hold, so that a corrupted length never causes a huge allocation.
  template <class C, class Ar>
  static bool ReadLength(Ar& ar, size_t min_element_bytes, uint64_t& n);

  // Appends n bytes and returns where they start, or nullptr when the
  // archive only counts bytes.
  template <class Ar>
  static char* Extend(Ar& ar, size_t n) {
    return ar.Extend(n);
  }

  // Called after reading a container element that started at `start`;
  // counts it against the archive's budget if it took no bytes.
  template <class Ar>
  static bool ChargeIfEmpty(Ar& ar, size_t start) {
    if (ar.offset() != start) return true;
    if (ar.empty_elements_left_ == 0) {
      ar.Fail(absl::DataLossError(absl::StrCat(
          "more than ", kMaxEmptyElements,
          " zero-byte container elements at offset ", start)));
      return false;
    }
    --ar.empty_elements_left_;
    return true;
  }

  // The archive's RefCollector (writing) or RefResolver (reading), or
  // nullptr; see weft/serialize.h.
  template <class Ar>
  static auto* Refs(Ar& ar) {
    return ar.refs_;
  }

  template <class Ar>
  static bool EnterNested(Ar& ar) {
    return ar.EnterNested();
  }
  template <class Ar>
  static void LeaveNested(Ar& ar) {
    ar.LeaveNested();
  }

  // Charges `n` elements of C, each taking `element_bytes` of memory,
  // against the archive's budget (kDecodeBytesPerInputByte). Returns false,
  // with ResourceExhausted in the archive, if they do not fit.
  template <class C, class Ar>
  static bool Charge(Ar& ar, uint64_t n, size_t element_bytes);
};

template <class C, class Ar>
bool ArchiveHelpers::ReadLength(Ar& ar, size_t min_element_bytes,
                                uint64_t& n) {
  const size_t at = ar.offset();
  if (!ReadScalar(ar, n)) return false;
  const size_t left = ar.remaining();
  const bool fits = min_element_bytes == 0
                        ? n <= left + ar.empty_elements_left_
                        : n <= left / min_element_bytes;
  if (!fits) {
    ar.Fail(absl::DataLossError(absl::StrCat(
        "corrupt length ", n, " for ", Codec<C>::Name(), " at offset ", at,
        ": elements take at least ", min_element_bytes, " bytes each, ", left,
        " bytes left")));
    return false;
  }
  return true;
}

template <class C, class Ar>
bool ArchiveHelpers::Charge(Ar& ar, uint64_t n, size_t element_bytes) {
  if (n == 0 || element_bytes == 0) return true;
  if (n <= ar.memory_left_ / element_bytes) {
    ar.memory_left_ -= n * element_bytes;
    return true;
  }
  ar.Fail(absl::ResourceExhaustedError(absl::StrCat(
      "the ", n, " elements of ", Codec<C>::Name(), " at offset ",
      ar.offset(), " would take more than the ", DecodeBudget(ar.in_.size()),
      " bytes of memory that ", ar.in_.size(), " bytes of input may (",
      kDecodeBytesPerInputByte, " per byte and ", kDecodeSlackBytes, ")")));
  return false;
}

// ---------------------------------------------------------------------------
// User types (the primary template): a member
//   template <class Archive> void serialize(Archive& ar)
// or a free function found by ADL
//   template <class Archive> void serialize(Archive& ar, T& value).

namespace adl {
void serialize() = delete;  // Stops unqualified lookup here; ADL still runs.

template <class T>
concept HasFreeSerialize = requires(T& v, OutputArchive& o, InputArchive& i) {
  serialize(o, v);
  serialize(i, v);
};

template <class Ar, class T>
void CallFreeSerialize(Ar& ar, T& v) {
  serialize(ar, v);
}
}  // namespace adl

template <class T>
concept HasMemberSerialize =
    requires(T& v, OutputArchive& o, InputArchive& i) {
      v.serialize(o);
      v.serialize(i);
    };

template <class T>
struct Codec {
  static constexpr bool kIsUserType =
      std::is_class_v<T> && Plain<T> &&
      (HasMemberSerialize<T> || adl::HasFreeSerialize<T>);
  static constexpr Reason kSelfReason =
      !kIsUserType ? Reason::kUnsupported
      : (std::is_default_constructible_v<T> && !std::is_abstract_v<T>)
          ? Reason::kOk
          : Reason::kNotDefaultConstructible;
  using Children = TypeList<>;
  static constexpr size_t kMinWireSize = 0;
  static std::string Name() { return PrettyName<T>(); }

  // The user's function is shared by reading and writing, so it takes a
  // non-const T; it must not modify the value when writing.
  template <class Ar>
  static void Save(Ar& ar, const T& v) {
    Call(ar, const_cast<T&>(v));
  }
  template <class Ar>
  static void Load(Ar& ar, T& v) {
    // Only user types can be recursive, so only they count towards the
    // nesting-depth limit.
    if (!ArchiveHelpers::EnterNested(ar)) return;
    Call(ar, v);
    ArchiveHelpers::LeaveNested(ar);
  }

 private:
  template <class Ar>
  static void Call(Ar& ar, T& v) {
    if constexpr (HasMemberSerialize<T>) {
      v.serialize(ar);
    } else {
      adl::CallFreeSerialize(ar, v);
    }
  }
};

// Leaf codecs: no children, fixed-size encoding.
struct LeafTraits {
  static constexpr Reason kSelfReason = Reason::kOk;
  using Children = TypeList<>;
};

template <class T>
  requires(std::is_arithmetic_v<T> && Plain<T>)
struct Codec<T> : LeafTraits {
  static constexpr size_t kMinWireSize = sizeof(T);
  static std::string Name() { return ArithmeticName<T>(); }
  template <class Ar>
  static void Save(Ar& ar, const T& v) {
    ArchiveHelpers::WriteScalar(ar, v);
  }
  template <class Ar>
  static void Load(Ar& ar, T& v) {
    ArchiveHelpers::ReadScalar(ar, v);
  }
};

// Enums travel as their underlying type; values are not range-checked.
template <class T>
  requires(std::is_enum_v<T> && Plain<T>)
struct Codec<T> : LeafTraits {
  using U = std::underlying_type_t<T>;
  static constexpr size_t kMinWireSize = sizeof(U);
  static std::string Name() { return PrettyName<T>(); }
  template <class Ar>
  static void Save(Ar& ar, const T& v) {
    ArchiveHelpers::WriteScalar(ar, static_cast<U>(v));
  }
  template <class Ar>
  static void Load(Ar& ar, T& v) {
    U u{};
    if (ArchiveHelpers::ReadScalar(ar, u)) v = static_cast<T>(u);
  }
};

template <class T>
struct Codec<T*> {
  static constexpr Reason kSelfReason = Reason::kRawPointer;
  using Children = TypeList<>;
  static constexpr size_t kMinWireSize = 0;
  static std::string Name() { return PrettyName<T*>(); }
};

template <>
struct Codec<std::monostate> : LeafTraits {
  static constexpr size_t kMinWireSize = 0;
  static std::string Name() { return "std::monostate"; }
  template <class Ar>
  static void Save(Ar&, const std::monostate&) {}
  template <class Ar>
  static void Load(Ar&, std::monostate&) {}
};

// Protobuf messages: u64 length, then the message's wire bytes.
template <class T>
  requires(std::is_class_v<T> && Plain<T> &&
           std::is_base_of_v<google::protobuf::MessageLite, T>)
struct Codec<T> {
  static constexpr Reason kSelfReason =
      (std::is_default_constructible_v<T> && !std::is_abstract_v<T>)
          ? Reason::kOk
          : Reason::kUnsupported;
  using Children = TypeList<>;
  static constexpr size_t kMinWireSize = 8;
  static std::string Name() {
    if constexpr (kSelfReason == Reason::kOk) {
      return T().GetTypeName();
    } else {
      return PrettyName<T>();
    }
  }
  // REQUIRES: the message encodes to less than 2 GiB (a protobuf limit).
  template <class Ar>
  static void Save(Ar& ar, const T& v) {
    const size_t n = v.ByteSizeLong();
    ArchiveHelpers::WriteScalar(ar, uint64_t{n});
    char* p = ArchiveHelpers::Extend(ar, n);
    if (p != nullptr && n > 0) {
      v.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(p));
    }
  }
  template <class Ar>
  static void Load(Ar& ar, T& v) {
    uint64_t n = 0;
    if (!ArchiveHelpers::ReadLength<T>(ar, 1, n)) return;
    const size_t at = ar.offset();
    std::string_view bytes;
    if (!ar.ReadView(static_cast<size_t>(n), bytes)) return;
    if (n > static_cast<uint64_t>(INT_MAX) ||
        !v.ParsePartialFromArray(bytes.data(), static_cast<int>(n))) {
      ar.Fail(absl::DataLossError(absl::StrCat("invalid protobuf payload for ",
                                               Name(), " (", n,
                                               " bytes) at offset ", at)));
      return;
    }
    if (!v.IsInitialized()) {
      ar.Fail(absl::DataLossError(absl::StrCat(
          "protobuf ", Name(), " at offset ", at,
          " is missing required fields: ", v.InitializationErrorString())));
    }
  }
};

// ---------------------------------------------------------------------------
// Compile-time checks.

template <class T>
constexpr Reason ReasonOf();

template <class... Ts>
constexpr Reason FirstFailure(TypeList<Ts...>) {
  Reason r = Reason::kOk;
  ((r = (r == Reason::kOk ? ReasonOf<Ts>() : r)), ...);
  return r;
}

// Why T (or something nested in it) cannot be serialized.
template <class T>
constexpr Reason ReasonOf() {
  if constexpr (Codec<T>::kSelfReason != Reason::kOk) {
    return Codec<T>::kSelfReason;
  } else {
    return FirstFailure(typename Codec<T>::Children{});
  }
}

template <class T>
inline constexpr bool kDependentFalse = false;

template <class T>
void Diagnose();

template <class... Ts>
void DiagnoseChildren(TypeList<Ts...>) {
  (
      [] {
        if constexpr (ReasonOf<Ts>() != Reason::kOk) Diagnose<Ts>();
      }(),
      ...);
}

// Fails compilation with a message about the innermost type of T that
// cannot be serialized; the compiler's "required from" notes name it.
template <class T>
void Diagnose() {
  constexpr Reason self = Codec<T>::kSelfReason;
  if constexpr (self == Reason::kRawPointer) {
    static_assert(kDependentFalse<T>,
                  "weft: raw pointers cannot be serialized (weft cannot know "
                  "who owns the pointee or how many elements it points to). "
                  "Use a value, std::unique_ptr<T>, std::shared_ptr<T>, "
                  "std::optional<T>, std::vector<T>, or std::string for "
                  "text.");
  } else if constexpr (self == Reason::kNotDefaultConstructible) {
    static_assert(kDependentFalse<T>,
                  "weft: this type has a serialize function but cannot be "
                  "deserialized: it needs a public default constructor and "
                  "must not be abstract (deserialization default-constructs "
                  "it, then reads into it).");
  } else if constexpr (self == Reason::kUnsupported) {
    static_assert(kDependentFalse<T>,
                  "weft: this type cannot be serialized. Give it a member "
                  "`template <class Archive> void serialize(Archive& ar) { "
                  "ar(field1, field2); }`, a free serialize(Archive&, T&) "
                  "found by ADL, or use a supported standard type.");
  } else {
    DiagnoseChildren(typename Codec<T>::Children{});
  }
}

}  // namespace internal
}  // namespace weft

#endif  // WEFT_INTERNAL_SERIALIZE_CORE_H_
