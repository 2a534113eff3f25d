// Copyright 2026 The weft Authors.
//
// Fuzzes weft::Deserialize<T> over a matrix of types: strings, nested
// vectors, maps and sets (ordered and hashed), optionals, arrays, variants,
// owning pointers, protobuf messages, user structs (one recursive, one that
// validates with Fail()), types whose elements encode to zero bytes, and
// ObjectRefs decoded through a fake runtime's RefResolver.
//
// Input: one byte choosing the type, then the bytes to decode. Checks, for
// every input:
//   - decoding never crashes, reads out of bounds or throws (ASan, and the
//     absence of a try block);
//   - it fails only with DataLoss, or ResourceExhausted when the value would
//     take more memory than the input justifies (serialize.h), or the codes
//     a user's serialize function or the resolver chose;
//   - the heap it holds at any moment stays within twice the memory budget
//     of its input (weft/serialize.h, InputArchive; fuzz/alloc_meter.h);
//   - a value that decodes re-encodes to bytes that decode to the same
//     value, and those re-encode identically (canonical after one trip).
//
// WEFT_FUZZ_WRITE_SEEDS=DIR writes seed inputs (encodings of sample values
// of each type) into DIR and exits; fuzz/corpus/serialize_fuzzer started
// from them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/testdata/serialize_test.pb.h"
#include "fuzz/alloc_meter.h"
#include "weft/internal/object_state.h"
#include "weft/object_ref.h"
#include "weft/serialize.h"

namespace weft::fuzz {
namespace {

// A user type with a member serialize() that rejects a negative weight.
struct Point {
  double x = 0;
  double y = 0;
  std::string label;
  int32_t weight = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, y, label, weight);
    if constexpr (Archive::kIsLoading) {
      if (weight < 0) ar.Fail(absl::InvalidArgumentError("negative weight"));
    }
  }
};

// A recursive user type (free serialize found by ADL): nesting is bounded
// by InputArchive::kMaxDepth.
struct Tree {
  int64_t value = 0;
  std::vector<Tree> children;
  std::optional<std::map<std::string, int32_t>> tags;
};
template <class Archive>
void serialize(Archive& ar, Tree& t) {
  ar(t.value, t.children, t.tags);
}

// A user type that encodes to nothing.
struct Empty {
  template <class Archive>
  void serialize(Archive&) {}
};

enum class Color : uint8_t { kRed, kGreen, kBlue };

// A fake runtime that knows objects 1..kKnownObjects, named "obj<id>".
constexpr uint64_t kKnownObjects = 8;

class FakeRuntime final : public internal::RefResolver {
 public:
  FakeRuntime() {
    for (uint64_t id = 1; id <= kKnownObjects; ++id) {
      objects_.push_back(std::make_shared<internal::ObjectState>(
          id, absl::StrCat("obj", id)));
    }
  }
  absl::StatusOr<std::shared_ptr<internal::ObjectState>> Resolve(
      uint64_t id, std::string_view name) override {
    if (id < 1 || id > kKnownObjects || objects_[id - 1]->name() != name) {
      return absl::NotFoundError(absl::StrCat("no object ", id, " ", std::string(name)));
    }
    return objects_[id - 1];
  }
  std::shared_ptr<internal::ObjectState> object(uint64_t id) const {
    return objects_[id - 1];
  }

 private:
  std::vector<std::shared_ptr<internal::ObjectState>> objects_;
};

// The most heap a decode may hold at once: twice the budget it charges
// (weft/serialize.h, InputArchive), for what it does not charge: protobuf
// messages' own allocations, error messages, allocator rounding.
uint64_t MemoryBound(size_t input_bytes) {
  return 2 * internal::DecodeBudget(input_bytes);
}

FakeRuntime& Runtime() {
  static FakeRuntime* runtime = new FakeRuntime();
  return *runtime;
}

// The codes a decode may fail with, beyond DataLoss and ResourceExhausted.
template <class T>
bool AllowedFailure(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kResourceExhausted:
      return true;
    case absl::StatusCode::kInvalidArgument:  // Point's own check
    case absl::StatusCode::kNotFound:         // the fake resolver
      return true;
    default:
      return false;
  }
}

[[noreturn]] void Finding(const std::string& what) {
  std::fprintf(stderr, "serialize_fuzzer: %s\n", what.c_str());
  std::abort();
}

// Hashed containers: equal values may encode in different orders.
template <class T>
inline constexpr bool kIsHashed = false;
template <class K, class V>
inline constexpr bool kIsHashed<std::unordered_map<K, V>> = true;
template <class K>
inline constexpr bool kIsHashed<std::unordered_set<K>> = true;

// Decodes `bytes` as a T and checks everything the file comment lists.
template <class T>
void Check(std::string_view bytes) {
  absl::StatusOr<T> value = [&] {
    AllocMeter meter;
    absl::StatusOr<T> v =
        internal::DeserializeWithRefs<T>(bytes, &Runtime());
    const uint64_t bound = MemoryBound(bytes.size());
    if (meter.peak_bytes() > bound) {
      Finding(absl::StrCat("decoding ", bytes.size(), " bytes as ",
                           TypeName<T>(), " held ", meter.peak_bytes(),
                           " heap bytes at once, over the bound of ", bound,
                           " (", v.ok() ? std::string("ok") : v.status().ToString(),
                           ")"));
    }
    return v;
  }();
  if (!value.ok()) {
    if (!AllowedFailure<T>(value.status())) {
      Finding(absl::StrCat("unexpected error for ", TypeName<T>(), ": ",
                           value.status().ToString()));
    }
    return;
  }
  const std::string once = Serialize(*value);
  if (once.size() != SerializedSize(*value)) {
    Finding(absl::StrCat(TypeName<T>(), ": SerializedSize ",
                         SerializedSize(*value), " but ", once.size(),
                         " bytes written"));
  }
  absl::StatusOr<T> again = internal::DeserializeWithRefs<T>(once, &Runtime());
  if (!again.ok()) {
    Finding(absl::StrCat(TypeName<T>(), ": its own encoding fails: ",
                         again.status().ToString()));
  }
  const std::string twice = Serialize(*again);
  if (twice != once) {
    // Hashed containers may iterate in another order after a rebuild;
    // their values must still be equal.
    if constexpr (kIsHashed<T>) {
      if (!(*again == *value)) {
        Finding(absl::StrCat(TypeName<T>(), ": a round trip changed it"));
      }
    } else {
      Finding(absl::StrCat(TypeName<T>(), ": re-encoding differs"));
    }
  }
}

// --- The matrix --------------------------------------------------------

using Types = std::tuple<
    std::string,                                            // 0
    std::vector<std::string>,                               // 1
    std::vector<std::vector<int32_t>>,                      // 2
    std::map<std::string, std::vector<double>>,             // 3
    std::unordered_map<int64_t, std::string>,               // 4
    std::set<std::string>,                                  // 5
    std::unordered_set<uint16_t>,                           // 6
    std::optional<std::string>,                             // 7
    std::vector<std::optional<int64_t>>,                    // 8
    std::vector<std::optional<std::array<double, 1000>>>,   // 9
    std::array<std::optional<std::string>, 3>,              // 10
    std::tuple<bool, char, std::u16string, Color>,          // 11
    std::variant<std::monostate, int32_t, std::string,      // 12
                 std::vector<bool>>,
    std::vector<Point>,                                     // 13
    Tree,                                                   // 14
    std::unique_ptr<Tree>,                                  // 15
    std::shared_ptr<std::vector<Point>>,                    // 16
    std::vector<std::monostate>,                            // 17
    std::vector<std::array<std::monostate, 1000>>,          // 18
    std::vector<std::unique_ptr<std::array<int64_t, 64>>>,  // 19
    std::vector<std::vector<std::optional<std::string>>>,   // 20
    testing::Sample,                                        // 21
    std::vector<testing::WithRequired>,                     // 22
    ObjectRef<int>,                                         // 23
    std::vector<ObjectRef<std::string>>,                    // 24
    std::map<int32_t, std::variant<ObjectRef<double>,       // 25
                                   std::string>>,
    std::vector<Empty>,                                     // 26
    std::vector<std::map<std::string, std::set<int8_t>>>,   // 27
    std::pair<std::optional<std::vector<float>>,            // 28
              long double>,
    std::vector<std::variant<std::monostate,                // 29
                             std::array<Empty, 100>>>,
    std::set<std::vector<std::shared_ptr<std::string>>>,    // 30
    std::vector<std::vector<std::vector<char>>>>;           // 31

constexpr size_t kNumTypes = std::tuple_size_v<Types>;

template <size_t... I>
void Dispatch(size_t index, std::string_view bytes,
              std::index_sequence<I...>) {
  (void)((index == I
              ? (Check<std::tuple_element_t<I, Types>>(bytes), true)
              : false) ||
         ...);
}

// --- Seeds ---------------------------------------------------------------

// Sample values of T: its default, and for some types a few more.
template <class T>
std::vector<std::string> Samples() {
  std::vector<std::string> out;
  out.push_back(Serialize(T{}));
  if constexpr (std::is_same_v<T, std::string>) {
    out.push_back(Serialize(std::string("weft")));
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    out.push_back(Serialize(T{"a", "", "bc"}));
  } else if constexpr (std::is_same_v<T, std::vector<std::vector<int32_t>>>) {
    out.push_back(Serialize(T{{1, 2}, {}, {-3}}));
  } else if constexpr (std::is_same_v<
                           T, std::map<std::string, std::vector<double>>>) {
    out.push_back(Serialize(T{{"x", {1.5, 2}}, {"y", {}}}));
  } else if constexpr (std::is_same_v<T,
                                      std::unordered_map<int64_t, std::string>>) {
    out.push_back(Serialize(T{{7, "seven"}}));
  } else if constexpr (std::is_same_v<T, std::set<std::string>>) {
    out.push_back(Serialize(T{"a", "b"}));
  } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
    out.push_back(Serialize(T{"x"}));
  } else if constexpr (std::is_same_v<T, std::vector<std::optional<int64_t>>>) {
    out.push_back(Serialize(T{1, std::nullopt, 3}));
  } else if constexpr (std::is_same_v<
                           T, std::vector<std::optional<
                                  std::array<double, 1000>>>>) {
    out.push_back(Serialize(T(3)));
  } else if constexpr (std::is_same_v<T, std::vector<Point>>) {
    out.push_back(Serialize(T{Point{1, 2, "p", 3}, Point{}}));
  } else if constexpr (std::is_same_v<T, Tree>) {
    Tree t;
    t.value = 1;
    t.children.resize(2);
    t.children[0].children.resize(1);
    t.tags.emplace();
    (*t.tags)["k"] = 5;
    out.push_back(Serialize(t));
  } else if constexpr (std::is_same_v<T, std::vector<std::monostate>>) {
    out.push_back(Serialize(T(5)));
  } else if constexpr (std::is_same_v<T, testing::Sample>) {
    testing::Sample s;
    s.set_name("s");
    s.add_values(1.5);
    s.set_id(9);
    out.push_back(Serialize(s));
  } else if constexpr (std::is_same_v<T, std::vector<testing::WithRequired>>) {
    T v(2);
    v[0].set_must(1);
    v[1].set_must(2);
    out.push_back(Serialize(v));
  } else if constexpr (std::is_same_v<T, ObjectRef<int>>) {
    out.push_back(
        Serialize(internal::RefAccess::Make<int>(Runtime().object(3))));
  } else if constexpr (std::is_same_v<T, std::vector<ObjectRef<std::string>>>) {
    out.push_back(Serialize(
        T{internal::RefAccess::Make<std::string>(Runtime().object(1)),
          ObjectRef<std::string>(),
          internal::RefAccess::Make<std::string>(Runtime().object(8))}));
  } else if constexpr (std::is_same_v<T, std::vector<Empty>>) {
    out.push_back(Serialize(T(4)));
  }
  return out;
}

template <size_t... I>
void WriteSeeds(const std::string& dir, std::index_sequence<I...>) {
  int n = 0;
  auto write = [&](size_t type, const std::vector<std::string>& samples) {
    for (const std::string& bytes : samples) {
      std::ofstream out(absl::StrCat(dir, "/seed-", type, "-", n++),
                        std::ios::binary);
      out.put(static_cast<char>(type));
      out << bytes;
    }
  };
  (write(I, Samples<std::tuple_element_t<I, Types>>()), ...);
  std::printf("wrote %d seeds to %s\n", n, dir.c_str());
}

}  // namespace
}  // namespace weft::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("WEFT_FUZZ_WRITE_SEEDS")) {
    weft::fuzz::WriteSeeds(dir,
                           std::make_index_sequence<weft::fuzz::kNumTypes>{});
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  weft::fuzz::Dispatch(data[0] % weft::fuzz::kNumTypes, bytes,
                       std::make_index_sequence<weft::fuzz::kNumTypes>{});
  return 0;
}
