// Internal to weft/serialize.h; include that header instead.
//
// Codecs for standard-library types. See serialize_core.h for the codec
// interface.

#ifndef WEFT_INTERNAL_SERIALIZE_STD_H_
#define WEFT_INTERNAL_SERIALIZE_STD_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "weft/internal/serialize_core.h"

namespace weft {
namespace internal {

// ---------------------------------------------------------------------------
// Strings: u64 character count, then the characters.

template <class C, class Tr, class A>
struct Codec<std::basic_string<C, Tr, A>> {
  using S = std::basic_string<C, Tr, A>;
  static constexpr Reason kSelfReason =
      std::is_arithmetic_v<C> ? Reason::kOk : Reason::kUnsupported;
  using Children = TypeList<>;
  static constexpr size_t kMinWireSize = 8;
  static std::string Name() {
    if constexpr (std::is_same_v<S, std::string>) {
      return "std::string";
    } else {
      return absl::StrCat("std::basic_string<", ArithmeticName<C>(), ">");
    }
  }
  template <class Ar>
  static void Save(Ar& ar, const S& s) {
    ArchiveHelpers::WriteScalar(ar, uint64_t{s.size()});
    if constexpr (kIsBulk<C>) {
      ar.WriteBytes(s.data(), s.size() * sizeof(C));
    } else {
      for (C c : s) ArchiveHelpers::WriteScalar(ar, c);
    }
  }
  template <class Ar>
  static void Load(Ar& ar, S& s) {
    uint64_t n = 0;
    if (!ArchiveHelpers::ReadLength<S>(ar, sizeof(C), n) ||
        !ArchiveHelpers::Charge<S>(ar, n, sizeof(C))) {
      return;
    }
    s.resize(static_cast<size_t>(n));
    if constexpr (kIsBulk<C>) {
      ar.ReadBytes(s.data(), s.size() * sizeof(C));
    } else {
      for (C& c : s) {
        if (!ArchiveHelpers::ReadScalar(ar, c)) return;
      }
    }
  }
};

// ---------------------------------------------------------------------------
// Sequences.

template <class E, class A>
struct Codec<std::vector<E, A>> {
  using V = std::vector<E, A>;
  static constexpr Reason kSelfReason = Reason::kOk;
  using Children = TypeList<E>;
  static constexpr size_t kMinWireSize = 8;
  static std::string Name() {
    return absl::StrCat("std::vector<", Codec<E>::Name(), ">");
  }
  template <class Ar>
  static void Save(Ar& ar, const V& v) {
    ArchiveHelpers::WriteScalar(ar, uint64_t{v.size()});
    if constexpr (std::is_same_v<E, bool>) {
      // One byte per element, like a scalar bool.
      char* p = ArchiveHelpers::Extend(ar, v.size());
      if (p != nullptr) {
        for (bool b : v) *p++ = b ? 1 : 0;
      }
    } else if constexpr (kIsBulk<E>) {
      ar.WriteBytes(v.data(), v.size() * sizeof(E));
    } else {
      for (const E& e : v) ar(e);
    }
  }
  template <class Ar>
  static void Load(Ar& ar, V& v) {
    uint64_t n = 0;
    if (!ArchiveHelpers::ReadLength<V>(ar, Codec<E>::kMinWireSize, n)) return;
    v.clear();
    // vector<bool> packs 64 to a word.
    if (!(std::is_same_v<E, bool>
              ? ArchiveHelpers::Charge<V>(ar, (n + 63) / 64, 8)
              : ArchiveHelpers::Charge<V>(ar, n, sizeof(E)))) {
      return;
    }
    if constexpr (std::is_same_v<E, bool>) {
      const size_t at = ar.offset();
      std::string_view bytes;
      if (!ar.ReadView(static_cast<size_t>(n), bytes)) return;
      v.reserve(bytes.size());
      for (size_t i = 0; i < bytes.size(); ++i) {
        const unsigned char b = static_cast<unsigned char>(bytes[i]);
        if (b > 1) {
          ar.Fail(absl::DataLossError(absl::StrCat(
              "invalid bool byte ", static_cast<int>(b), " at offset ", at + i,
              " (must be 0 or 1)")));
          return;
        }
        v.push_back(b == 1);
      }
    } else if constexpr (kIsBulk<E>) {
      v.resize(static_cast<size_t>(n));
      ar.ReadBytes(v.data(), v.size() * sizeof(E));
    } else {
      v.reserve(static_cast<size_t>(n));  // within the charged budget
      for (uint64_t i = 0; i < n; ++i) {
        const size_t at = ar.offset();
        ar(v.emplace_back());
        if (!ar.ok() || !ArchiveHelpers::ChargeIfEmpty(ar, at)) return;
      }
    }
  }
};

// Fixed-size arrays: no length on the wire.
template <class E, size_t N, class Arr>
struct FixedArrayCodec {
  static constexpr Reason kSelfReason = Reason::kOk;
  using Children = TypeList<E>;
  static constexpr size_t kMinWireSize = N * Codec<E>::kMinWireSize;
  template <class Ar>
  static void Save(Ar& ar, const Arr& a) {
    if constexpr (kIsBulk<E>) {
      ar.WriteBytes(&a[0], N * sizeof(E));
    } else {
      for (const E& e : a) ar(e);
    }
  }
  template <class Ar>
  static void Load(Ar& ar, Arr& a) {
    if constexpr (kIsBulk<E>) {
      ar.ReadBytes(&a[0], N * sizeof(E));
    } else {
      for (E& e : a) {
        ar(e);
        if (!ar.ok()) return;
      }
    }
  }
};

template <class E, size_t N>
  requires(N > 0)
struct Codec<std::array<E, N>> : FixedArrayCodec<E, N, std::array<E, N>> {
  static std::string Name() {
    return absl::StrCat("std::array<", Codec<E>::Name(), ", ", N, ">");
  }
};

template <class E>
struct Codec<std::array<E, 0>> : LeafTraits {
  static constexpr size_t kMinWireSize = 0;
  static std::string Name() {
    return absl::StrCat("std::array<", Codec<E>::Name(), ", 0>");
  }
  template <class Ar>
  static void Save(Ar&, const std::array<E, 0>&) {}
  template <class Ar>
  static void Load(Ar&, std::array<E, 0>&) {}
};

template <class E, size_t N>
struct Codec<E[N]> : FixedArrayCodec<E, N, E[N]> {
  static std::string Name() {
    return absl::StrCat(Codec<E>::Name(), "[", N, "]");
  }
};

// ---------------------------------------------------------------------------
// Associative containers: u64 count, then the elements in iteration order.
// A duplicate key on read is DataLoss (the writer never produces one).

template <class M, class K, class V>
struct MapCodec {
  static constexpr Reason kSelfReason = Reason::kOk;
  using Children = TypeList<K, V>;
  static constexpr size_t kMinWireSize = 8;
  template <class Ar>
  static void Save(Ar& ar, const M& m) {
    ArchiveHelpers::WriteScalar(ar, uint64_t{m.size()});
    for (const auto& [key, value] : m) ar(key, value);
  }
  template <class Ar>
  static void Load(Ar& ar, M& m) {
    uint64_t n = 0;
    if (!ArchiveHelpers::ReadLength<M>(
            ar, Codec<K>::kMinWireSize + Codec<V>::kMinWireSize, n)) {
      return;
    }
    m.clear();
    if (!ArchiveHelpers::Charge<M>(
            ar, n, sizeof(typename M::value_type) + kNodeOverheadBytes)) {
      return;
    }
    if constexpr (requires { m.reserve(size_t{}); }) {
      m.reserve(static_cast<size_t>(n));
    }
    for (uint64_t i = 0; i < n; ++i) {
      const size_t at = ar.offset();
      K key{};
      V value{};
      ar(key, value);
      if (!ar.ok() || !ArchiveHelpers::ChargeIfEmpty(ar, at)) return;
      const size_t before = m.size();
      m.emplace_hint(m.end(), std::move(key), std::move(value));
      if (m.size() == before) {
        ar.Fail(absl::DataLossError(absl::StrCat(
            "duplicate key in ", Codec<M>::Name(), " at offset ", at)));
        return;
      }
    }
  }
};

template <class S, class K>
struct SetCodec {
  static constexpr Reason kSelfReason = Reason::kOk;
  using Children = TypeList<K>;
  static constexpr size_t kMinWireSize = 8;
  template <class Ar>
  static void Save(Ar& ar, const S& s) {
    ArchiveHelpers::WriteScalar(ar, uint64_t{s.size()});
    for (const K& key : s) ar(key);
  }
  template <class Ar>
  static void Load(Ar& ar, S& s) {
    uint64_t n = 0;
    if (!ArchiveHelpers::ReadLength<S>(ar, Codec<K>::kMinWireSize, n)) return;
    s.clear();
    if (!ArchiveHelpers::Charge<S>(ar, n, sizeof(K) + kNodeOverheadBytes)) {
      return;
    }
    if constexpr (requires { s.reserve(size_t{}); }) {
      s.reserve(static_cast<size_t>(n));
    }
    for (uint64_t i = 0; i < n; ++i) {
      const size_t at = ar.offset();
      K key{};
      ar(key);
      if (!ar.ok() || !ArchiveHelpers::ChargeIfEmpty(ar, at)) return;
      const size_t before = s.size();
      s.emplace_hint(s.end(), std::move(key));
      if (s.size() == before) {
        ar.Fail(absl::DataLossError(absl::StrCat(
            "duplicate key in ", Codec<S>::Name(), " at offset ", at)));
        return;
      }
    }
  }
};

template <class K, class V, class C, class A>
struct Codec<std::map<K, V, C, A>>
    : MapCodec<std::map<K, V, C, A>, K, V> {
  static std::string Name() {
    return absl::StrCat("std::map<", Codec<K>::Name(), ", ", Codec<V>::Name(),
                        ">");
  }
};

template <class K, class V, class H, class E, class A>
struct Codec<std::unordered_map<K, V, H, E, A>>
    : MapCodec<std::unordered_map<K, V, H, E, A>, K, V> {
  static std::string Name() {
    return absl::StrCat("std::unordered_map<", Codec<K>::Name(), ", ",
                        Codec<V>::Name(), ">");
  }
};

template <class K, class C, class A>
struct Codec<std::set<K, C, A>> : SetCodec<std::set<K, C, A>, K> {
  static std::string Name() {
    return absl::StrCat("std::set<", Codec<K>::Name(), ">");
  }
};

template <class K, class H, class E, class A>
struct Codec<std::unordered_set<K, H, E, A>>
    : SetCodec<std::unordered_set<K, H, E, A>, K> {
  static std::string Name() {
    return absl::StrCat("std::unordered_set<", Codec<K>::Name(), ">");
  }
};

// ---------------------------------------------------------------------------
// Products and sums.

template <class... Ts>
std::string JoinNames() {
  std::string out;
  ((out += (out.empty() ? "" : ", ") + Codec<Ts>::Name()), ...);
  return out;
}

template <class A, class B>
struct Codec<std::pair<A, B>> {
  static constexpr Reason kSelfReason = Reason::kOk;
  using Children = TypeList<A, B>;
  static constexpr size_t kMinWireSize =
      Codec<A>::kMinWireSize + Codec<B>::kMinWireSize;
  static std::string Name() {
    return absl::StrCat("std::pair<", JoinNames<A, B>(), ">");
  }
  template <class Ar>
  static void Save(Ar& ar, const std::pair<A, B>& p) {
    ar(p.first, p.second);
  }
  template <class Ar>
  static void Load(Ar& ar, std::pair<A, B>& p) {
    ar(p.first, p.second);
  }
};

template <class... Ts>
struct Codec<std::tuple<Ts...>> {
  static constexpr Reason kSelfReason = Reason::kOk;
  using Children = TypeList<Ts...>;
  static constexpr size_t kMinWireSize = (size_t{0} + ... +
                                          Codec<Ts>::kMinWireSize);
  static std::string Name() {
    return absl::StrCat("std::tuple<", JoinNames<Ts...>(), ">");
  }
  template <class Ar>
  static void Save(Ar& ar, const std::tuple<Ts...>& t) {
    std::apply([&ar](const Ts&... e) { ar(e...); }, t);
  }
  template <class Ar>
  static void Load(Ar& ar, std::tuple<Ts...>& t) {
    std::apply([&ar](Ts&... e) { ar(e...); }, t);
  }
};

// u8 presence flag (0 or 1), then the value if present.
template <class T>
struct Codec<std::optional<T>> {
  static constexpr Reason kSelfReason = Reason::kOk;
  using Children = TypeList<T>;
  static constexpr size_t kMinWireSize = 1;
  static std::string Name() {
    return absl::StrCat("std::optional<", Codec<T>::Name(), ">");
  }
  template <class Ar>
  static void Save(Ar& ar, const std::optional<T>& o) {
    ArchiveHelpers::WriteScalar(ar, o.has_value());
    if (o.has_value()) ar(*o);
  }
  template <class Ar>
  static void Load(Ar& ar, std::optional<T>& o) {
    bool present = false;
    if (!ArchiveHelpers::ReadScalar(ar, present)) return;
    if (present) {
      ar(o.emplace());
    } else {
      o.reset();
    }
  }
};

// u32 alternative index, then the alternative.
template <class... Ts>
struct Codec<std::variant<Ts...>> {
  using V = std::variant<Ts...>;
  static constexpr Reason kSelfReason = Reason::kOk;
  using Children = TypeList<Ts...>;
  static constexpr size_t kMinWireSize = 4;
  static std::string Name() {
    return absl::StrCat("std::variant<", JoinNames<Ts...>(), ">");
  }
  // REQUIRES: !v.valueless_by_exception() (such a value is written with an
  // invalid index and fails to deserialize).
  template <class Ar>
  static void Save(Ar& ar, const V& v) {
    const uint32_t index = v.valueless_by_exception()
                               ? std::numeric_limits<uint32_t>::max()
                               : static_cast<uint32_t>(v.index());
    ArchiveHelpers::WriteScalar(ar, index);
    SaveAlternative(ar, v, std::index_sequence_for<Ts...>{});
  }
  template <class Ar>
  static void Load(Ar& ar, V& v) {
    const size_t at = ar.offset();
    uint32_t index = 0;
    if (!ArchiveHelpers::ReadScalar(ar, index)) return;
    if (index >= sizeof...(Ts)) {
      ar.Fail(absl::DataLossError(absl::StrCat(
          "bad variant index ", index, " for ", Name(), " at offset ", at,
          " (", sizeof...(Ts), " alternatives)")));
      return;
    }
    LoadAlternative(ar, v, index, std::index_sequence_for<Ts...>{});
  }

 private:
  template <class Ar, size_t... I>
  static void SaveAlternative(Ar& ar, const V& v, std::index_sequence<I...>) {
    (void)((v.index() == I ? (ar(std::get<I>(v)), true) : false) || ...);
  }
  template <class Ar, size_t... I>
  static void LoadAlternative(Ar& ar, V& v, size_t index,
                              std::index_sequence<I...>) {
    (void)((index == I ? (ar(v.template emplace<I>()), true) : false) || ...);
  }
};

// ---------------------------------------------------------------------------
// Owning pointers: u8 null flag (0 = null, 1 = present), then the pointee.
// Only the static type is written: a pointer to a derived object is sliced,
// and shared_ptr sharing is not preserved (each pointer gets its own copy).

// P is std::unique_ptr<T> or std::shared_ptr<T>.
template <class T, class P>
struct PointerCodec {
  using U = std::remove_const_t<T>;
  static constexpr bool kShared = std::is_same_v<P, std::shared_ptr<T>>;
  static constexpr Reason kSelfReason =
      std::is_array_v<T> || std::is_volatile_v<T> ? Reason::kUnsupported
                                                  : Reason::kOk;
  using Children = TypeList<U>;
  static constexpr size_t kMinWireSize = 1;
  static std::string Name() {
    return absl::StrCat(kShared ? "std::shared_ptr<" : "std::unique_ptr<",
                        Codec<U>::Name(), ">");
  }
  template <class Ar>
  static void Save(Ar& ar, const P& p) {
    ArchiveHelpers::WriteScalar(ar, p != nullptr);
    if (p != nullptr) ar(static_cast<const U&>(*p));
  }
  template <class Ar>
  static void Load(Ar& ar, P& p) {
    bool present = false;
    if (!ArchiveHelpers::ReadScalar(ar, present)) return;
    if (!present) {
      p.reset();
      return;
    }
    // The pointee, and a shared_ptr's control block.
    if (!ArchiveHelpers::Charge<P>(
            ar, 1, sizeof(U) + (kShared ? kNodeOverheadBytes : 0))) {
      return;
    }
    auto value = [] {
      if constexpr (kShared) {
        return std::make_shared<U>();
      } else {
        return std::make_unique<U>();
      }
    }();
    ar(*value);
    p = std::move(value);
  }
};

template <class T>
struct Codec<std::unique_ptr<T>> : PointerCodec<T, std::unique_ptr<T>> {};

template <class T>
struct Codec<std::shared_ptr<T>> : PointerCodec<T, std::shared_ptr<T>> {};

}  // namespace internal
}  // namespace weft

#endif  // WEFT_INTERNAL_SERIALIZE_STD_H_
