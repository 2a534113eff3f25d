#include "weft/serialize.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "core/testdata/no_default.h"
#include "core/testdata/serialize_test.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo {

// A user type with a member serialize function.
struct Point {
  double x = 0;
  double y = 0;
  std::string label;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, y, label);
  }
  bool operator==(const Point&) const = default;
};

enum class Color : uint8_t { kRed = 1, kGreen = 2 };

// A user type with a free serialize function found by ADL.
struct Polygon {
  std::vector<Point> points;
  Color color = Color::kRed;
  std::optional<std::string> name;
  bool operator==(const Polygon&) const = default;
};

template <class Archive>
void serialize(Archive& ar, Polygon& p) {
  ar(p.points, p.color, p.name);
}

}  // namespace geo

namespace {

using ::testing::HasSubstr;

// A recursive type.
struct Tree {
  int32_t value = 0;
  std::vector<Tree> children;
  std::unique_ptr<Tree> left;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(value, children, left);
  }
};

bool Equal(const Tree& a, const Tree& b) {
  if (a.value != b.value || a.children.size() != b.children.size()) {
    return false;
  }
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!Equal(a.children[i], b.children[i])) return false;
  }
  if ((a.left == nullptr) != (b.left == nullptr)) return false;
  return a.left == nullptr || Equal(*a.left, *b.left);
}

// A type that validates itself while loading.
struct Percent {
  int32_t value = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(value);
    if constexpr (Archive::kIsLoading) {
      if (value < 0 || value > 100) {
        ar.Fail(absl::InvalidArgumentError("percent out of range"));
      }
    }
  }
};

struct Unsupported {
  int x;
};

static_assert(weft::kIsSerializable<int>);
static_assert(weft::kIsSerializable<const double&>);
static_assert(weft::kIsSerializable<std::vector<std::map<std::string, int>>>);
static_assert(weft::kIsSerializable<geo::Point>);
static_assert(weft::kIsSerializable<geo::Polygon>);
static_assert(weft::kIsSerializable<Tree>);
static_assert(weft::kIsSerializable<weft::testing::Sample>);
static_assert(weft::kIsSerializable<std::variant<std::monostate, int>>);
static_assert(!weft::kIsSerializable<int*>);
static_assert(!weft::kIsSerializable<const char*>);
static_assert(!weft::kIsSerializable<std::vector<int*>>);
static_assert(!weft::kIsSerializable<Unsupported>);
static_assert(!weft::kIsSerializable<std::map<int, Unsupported>>);
static_assert(!weft::kIsSerializable<std::optional<std::pair<int, void*>>>);
static_assert(!weft::kIsSerializable<NoDefault>);
static_assert(!weft::kIsSerializable<std::string_view>);
static_assert(!weft::kIsSerializable<std::pair<const int, int>>);

// `canonical`: re-encoding the result must give the same bytes (not so for
// unordered containers, whose iteration order depends on insertion history).
template <class T>
T RoundTrip(const T& value, bool canonical = true) {
  std::string bytes = weft::Serialize(value);
  EXPECT_EQ(bytes.size(), weft::SerializedSize(value));
  absl::StatusOr<T> out = weft::Deserialize<T>(bytes);
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return T{};
  if (canonical) {
    EXPECT_EQ(weft::Serialize(*out), bytes);
  }
  return *std::move(out);
}

template <class T>
void ExpectRoundTrip(const T& value) {
  EXPECT_EQ(RoundTrip(value), value) << weft::TypeName<T>();
}

TEST(SerializeTest, Arithmetic) {
  ExpectRoundTrip(true);
  ExpectRoundTrip(false);
  ExpectRoundTrip('x');
  ExpectRoundTrip(std::numeric_limits<int8_t>::min());
  ExpectRoundTrip(std::numeric_limits<uint8_t>::max());
  ExpectRoundTrip(std::numeric_limits<int16_t>::min());
  ExpectRoundTrip(std::numeric_limits<uint16_t>::max());
  ExpectRoundTrip(std::numeric_limits<int32_t>::min());
  ExpectRoundTrip(std::numeric_limits<int32_t>::max());
  ExpectRoundTrip(std::numeric_limits<uint32_t>::max());
  ExpectRoundTrip(std::numeric_limits<int64_t>::min());
  ExpectRoundTrip(std::numeric_limits<int64_t>::max());
  ExpectRoundTrip(std::numeric_limits<uint64_t>::max());
  ExpectRoundTrip(std::numeric_limits<long long>::min());
  ExpectRoundTrip(char32_t{0x1F600});
  ExpectRoundTrip(std::numeric_limits<float>::lowest());
  ExpectRoundTrip(std::numeric_limits<float>::denorm_min());
  ExpectRoundTrip(std::numeric_limits<double>::max());
  ExpectRoundTrip(std::numeric_limits<double>::min());
  ExpectRoundTrip(std::numeric_limits<double>::infinity());
  ExpectRoundTrip(-std::numeric_limits<double>::infinity());
  ExpectRoundTrip(-0.0);
  ExpectRoundTrip(3.25L);
  ExpectRoundTrip(geo::Color::kGreen);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double back = RoundTrip(nan);
  EXPECT_TRUE(std::isnan(back));
  EXPECT_EQ(std::memcmp(&nan, &back, sizeof(double)), 0);
}

TEST(SerializeTest, WireFormatIsLittleEndianFixedWidth) {
  EXPECT_EQ(weft::Serialize(uint32_t{0x01020304}),
            std::string("\x04\x03\x02\x01", 4));
  EXPECT_EQ(weft::Serialize(true), std::string("\x01", 1));
  EXPECT_EQ(weft::Serialize(std::string("ab")),
            std::string("\x02\0\0\0\0\0\0\0ab", 10));
  EXPECT_EQ(weft::Serialize(std::optional<int8_t>(5)),
            std::string("\x01\x05", 2));
  EXPECT_EQ(weft::Serialize(std::variant<int8_t, bool>(true)),
            std::string("\x01\0\0\0\x01", 5));
  // Padding bytes of long double never leak into the output.
  EXPECT_EQ(weft::Serialize(1.0L), weft::Serialize(1.0L));
}

TEST(SerializeTest, Strings) {
  ExpectRoundTrip(std::string());
  ExpectRoundTrip(std::string("hello"));
  ExpectRoundTrip(std::string("with\0nul", 8));
  ExpectRoundTrip(std::u16string(u"wide"));
  ExpectRoundTrip(std::string(100000, 'z'));
}

TEST(SerializeTest, Sequences) {
  ExpectRoundTrip(std::vector<double>{});
  ExpectRoundTrip(std::vector<double>{1.5, -2, 1e300});
  ExpectRoundTrip(std::vector<int32_t>{1, -2, 3});
  ExpectRoundTrip(std::vector<std::string>{"a", "", "ccc"});
  ExpectRoundTrip(std::vector<bool>{});
  ExpectRoundTrip(std::vector<bool>{true, false, true, true, false});
  ExpectRoundTrip(std::vector<std::vector<int>>{{}, {1}, {2, 3}});
  ExpectRoundTrip(std::vector<std::monostate>(3));
  ExpectRoundTrip(std::array<float, 3>{1, 2, 3});
  ExpectRoundTrip(std::array<std::string, 2>{"x", "y"});
  ExpectRoundTrip(std::array<int, 0>{});
  ExpectRoundTrip(std::vector<std::array<double, 2>>{{1, 2}, {3, 4}});
  ExpectRoundTrip(std::vector<geo::Color>{geo::Color::kRed});
}

struct WithArray {
  int32_t xs[3] = {};
  std::string names[2];
  template <class Archive>
  void serialize(Archive& ar) {
    ar(xs, names);
  }
};

TEST(SerializeTest, CArrayMember) {
  WithArray in;
  in.xs[0] = 7;
  in.xs[2] = -1;
  in.names[1] = "n";
  WithArray out = RoundTrip(in);
  EXPECT_EQ(out.xs[0], 7);
  EXPECT_EQ(out.xs[1], 0);
  EXPECT_EQ(out.xs[2], -1);
  EXPECT_EQ(out.names[0], "");
  EXPECT_EQ(out.names[1], "n");
}

TEST(SerializeTest, Associative) {
  ExpectRoundTrip(std::map<std::string, int>{});
  ExpectRoundTrip(std::map<std::string, int>{{"a", 1}, {"b", 2}});
  const std::unordered_map<int, std::string> um{{1, "x"}, {2, "y"}};
  EXPECT_EQ(RoundTrip(um, /*canonical=*/false), um);
  ExpectRoundTrip(std::set<int64_t>{5, -5, 0});
  const std::unordered_set<std::string> us{"p", "q", "r"};
  EXPECT_EQ(RoundTrip(us, /*canonical=*/false), us);
  ExpectRoundTrip(std::map<int, std::vector<std::set<std::string>>>{
      {1, {{"a"}, {}}}, {2, {}}});
}

TEST(SerializeTest, ProductsAndSums) {
  ExpectRoundTrip(std::pair<int, std::string>{1, "one"});
  ExpectRoundTrip(std::tuple<>{});
  ExpectRoundTrip(std::tuple<int, double, std::string>{1, 2.5, "three"});
  ExpectRoundTrip(std::optional<int>{});
  ExpectRoundTrip(std::optional<std::vector<int>>{{1, 2}});
  ExpectRoundTrip(std::variant<std::monostate, int, std::string>{});
  ExpectRoundTrip(std::variant<std::monostate, int, std::string>{"s"});
  ExpectRoundTrip(std::variant<int, int>{std::in_place_index<1>, 4});
  ExpectRoundTrip(std::monostate{});
}

TEST(SerializeTest, OwningPointers) {
  auto null_unique = RoundTrip(std::unique_ptr<int>());
  EXPECT_EQ(null_unique, nullptr);
  auto unique = RoundTrip(std::make_unique<std::string>("boxed"));
  ASSERT_NE(unique, nullptr);
  EXPECT_EQ(*unique, "boxed");
  auto shared = RoundTrip(std::make_shared<const std::vector<int>>(
      std::vector<int>{1, 2}));
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ(*shared, (std::vector<int>{1, 2}));
  EXPECT_EQ(RoundTrip(std::shared_ptr<int>()), nullptr);
}

TEST(SerializeTest, UserTypes) {
  ExpectRoundTrip(geo::Point{1, 2, "p"});
  geo::Polygon polygon{{{0, 0, "o"}, {1, 0, ""}, {0, 1, "y"}},
                       geo::Color::kGreen,
                       "triangle"};
  ExpectRoundTrip(polygon);
  ExpectRoundTrip(std::map<std::string, geo::Polygon>{{"t", polygon}});
  ExpectRoundTrip(geo::Polygon{});

  Tree tree;
  tree.value = 1;
  tree.children.resize(2);
  tree.children[1].value = 3;
  tree.children[1].left = std::make_unique<Tree>();
  tree.children[1].left->value = 4;
  Tree back = RoundTrip(tree);
  EXPECT_TRUE(Equal(tree, back));
}

TEST(SerializeTest, UserValidationFailure) {
  EXPECT_TRUE(weft::Deserialize<Percent>(weft::Serialize(Percent{50})).ok());
  absl::StatusOr<Percent> bad =
      weft::Deserialize<Percent>(weft::Serialize(Percent{150}));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("percent out of range"));
}

TEST(SerializeTest, Protobuf) {
  weft::testing::Sample sample;
  sample.set_name("s");
  sample.add_values(1.5);
  sample.add_values(-2);
  sample.set_id(-7);
  std::string bytes = weft::Serialize(sample);
  auto back = weft::Deserialize<weft::testing::Sample>(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), sample.SerializeAsString());
  EXPECT_EQ(back->name(), "s");

  // Nested in containers, and empty.
  std::vector<weft::testing::Sample> many(3, sample);
  many[1].Clear();
  auto many_back = RoundTrip(many);
  ASSERT_EQ(many_back.size(), 3u);
  EXPECT_FALSE(many_back[1].has_name());
  EXPECT_EQ(many_back[2].id(), -7);
}

TEST(SerializeTest, ArchivesComposeAcrossCalls) {
  std::string out = "prefix";
  weft::OutputArchive oa(out);
  oa(int32_t{1}, std::string("two"));
  oa(3.0);
  const char raw[] = {'r', 'a', 'w'};
  oa.WriteBytes(raw, 3);
  EXPECT_EQ(oa.bytes_written(), out.size() - 6);

  weft::InputArchive ia(std::string_view(out).substr(6));
  int32_t a = 0;
  std::string b;
  double c = 0;
  char r[3];
  ia(a, b, c);
  EXPECT_TRUE(ia.ReadBytes(r, 3));
  EXPECT_TRUE(ia.ok());
  EXPECT_EQ(ia.remaining(), 0u);
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, "two");
  EXPECT_EQ(c, 3.0);
  EXPECT_EQ(std::string(r, 3), "raw");
  EXPECT_FALSE(ia.ReadBytes(r, 1));
  EXPECT_EQ(ia.status().message(), "truncated: needed 1 bytes at offset 26, 0 left");
}

TEST(SerializeTest, SerializeAppends) {
  std::string out = "abc";
  weft::Serialize(int16_t{1}, out);
  EXPECT_EQ(out, std::string("abc\x01\x00", 5));
}

// ---------------------------------------------------------------------------
// Malformed input.

using Nested = std::map<std::string,
                        std::vector<std::variant<int, std::optional<geo::Polygon>>>>;

Nested MakeNested() {
  geo::Polygon polygon{{{1, 2, "a"}, {3, 4, "bc"}}, geo::Color::kGreen, "poly"};
  return Nested{
      {"first", {1, std::optional<geo::Polygon>(polygon), std::nullopt}},
      {"second", {}},
      {"third", {std::optional<geo::Polygon>(geo::Polygon{})}}};
}

TEST(DeserializeTest, EveryTruncationFails) {
  const std::string bytes = weft::Serialize(MakeNested());
  ASSERT_TRUE(weft::Deserialize<Nested>(bytes).ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::StatusOr<Nested> out =
        weft::Deserialize<Nested>(std::string_view(bytes.data(), n));
    ASSERT_FALSE(out.ok()) << "prefix of " << n << " bytes was accepted";
    EXPECT_EQ(out.status().code(), absl::StatusCode::kDataLoss);
  }
}

TEST(DeserializeTest, EveryTruncationOfProtobufFails) {
  weft::testing::Sample sample;
  sample.set_name("name");
  sample.add_values(1);
  const std::string bytes = weft::Serialize(std::vector{sample, sample});
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(weft::Deserialize<std::vector<weft::testing::Sample>>(
                     std::string_view(bytes.data(), n))
                     .ok())
        << n;
  }
}

TEST(DeserializeTest, TruncationMessage) {
  std::string bytes = weft::Serialize(std::vector<double>{1, 2});
  bytes.resize(12);  // Length (8) + 4 of the 16 data bytes.
  auto out = weft::Deserialize<std::vector<double>>(bytes);
  // The length is checked against what is left before allocating.
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(out.status().message(),
              HasSubstr("deserializing std::vector<double>: corrupt length 2"));

  auto scalar = weft::Deserialize<uint64_t>(std::string("abc"));
  EXPECT_EQ(scalar.status().message(),
            "deserializing uint64_t: truncated: needed 8 bytes at offset 0, 3 "
            "left");
}

TEST(DeserializeTest, HugeLengthIsRejectedBeforeAllocating) {
  for (uint64_t length : {~uint64_t{0}, uint64_t{1} << 62, uint64_t{1} << 40,
                          uint64_t{17}}) {
    std::string bytes;
    weft::Serialize(length, bytes);
    bytes += std::string(16, '\0');
    EXPECT_EQ(weft::Deserialize<std::vector<double>>(bytes).status().code(),
              absl::StatusCode::kDataLoss);
    EXPECT_EQ(weft::Deserialize<std::string>(bytes).status().code(),
              absl::StatusCode::kDataLoss);
    EXPECT_EQ(weft::Deserialize<std::vector<std::string>>(bytes).status().code(),
              absl::StatusCode::kDataLoss);
    EXPECT_EQ((weft::Deserialize<std::map<int, int>>(bytes).status().code()),
              absl::StatusCode::kDataLoss);
    EXPECT_EQ(weft::Deserialize<std::vector<std::monostate>>(bytes)
                  .status()
                  .code(),
              absl::StatusCode::kDataLoss);
    EXPECT_EQ(weft::Deserialize<std::vector<geo::Point>>(bytes).status().code(),
              absl::StatusCode::kDataLoss);
    EXPECT_EQ(weft::Deserialize<weft::testing::Sample>(bytes).status().code(),
              absl::StatusCode::kDataLoss);
  }
}

TEST(DeserializeTest, CorruptLengthMessage) {
  std::string bytes = weft::Serialize(uint64_t{1000});
  bytes += "abc";
  EXPECT_EQ(weft::Deserialize<std::vector<int32_t>>(bytes).status().message(),
            "deserializing std::vector<int32_t>: corrupt length 1000 for "
            "std::vector<int32_t> at offset 0: elements take at least 4 bytes "
            "each, 3 bytes left");
}

TEST(DeserializeTest, BadVariantIndex) {
  using V = std::variant<int32_t, std::string>;
  std::string bytes = weft::Serialize(V{5});
  bytes[0] = 2;
  auto out = weft::Deserialize<V>(bytes);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(out.status().message(),
              HasSubstr("bad variant index 2 for std::variant<int32_t, "
                        "std::string> at offset 0 (2 alternatives)"));
  bytes[0] = '\xff';
  bytes[3] = '\xff';
  EXPECT_FALSE(weft::Deserialize<V>(bytes).ok());
}

TEST(DeserializeTest, BadBoolBytes) {
  auto b = weft::Deserialize<bool>(std::string("\x02", 1));
  EXPECT_EQ(b.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(b.status().message(), HasSubstr("invalid bool byte 2 at offset 0"));

  std::string bools = weft::Serialize(std::vector<bool>{true, false, true});
  bools[9] = 7;
  auto v = weft::Deserialize<std::vector<bool>>(bools);
  EXPECT_THAT(v.status().message(), HasSubstr("invalid bool byte 7 at offset 9"));

  std::string optional = weft::Serialize(std::optional<int8_t>(1));
  optional[0] = 3;
  EXPECT_FALSE(weft::Deserialize<std::optional<int8_t>>(optional).ok());

  std::string pointer = weft::Serialize(std::make_unique<int8_t>(1));
  pointer[0] = '\x80';
  EXPECT_FALSE(weft::Deserialize<std::unique_ptr<int8_t>>(pointer).ok());
}

TEST(DeserializeTest, TrailingBytes) {
  std::string bytes = weft::Serialize(int32_t{1}) + "x";
  auto out = weft::Deserialize<int32_t>(bytes);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(out.status().message(),
            "deserializing int32_t: 1 trailing bytes after offset 4 of 5");
}

TEST(DeserializeTest, BadProtobufPayload) {
  // Length 2, then an invalid tag (field number 0).
  std::string bytes = weft::Serialize(uint64_t{2}) + std::string("\x00\x00", 2);
  auto out = weft::Deserialize<weft::testing::Sample>(bytes);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(out.status().message(),
              HasSubstr("invalid protobuf payload for weft.testing.Sample"));

  // Missing required field.
  auto missing = weft::Deserialize<weft::testing::WithRequired>(
      weft::Serialize(uint64_t{0}));
  EXPECT_THAT(missing.status().message(), HasSubstr("missing required fields"));
}

TEST(DeserializeTest, DuplicateKeys) {
  std::string bytes = weft::Serialize(uint64_t{2}) +
                      weft::Serialize(std::pair<int, int>(1, 1)) +
                      weft::Serialize(std::pair<int, int>(1, 2));
  EXPECT_THAT((weft::Deserialize<std::map<int, int>>(bytes).status().message()),
              HasSubstr("duplicate key in std::map<int32_t, int32_t>"));
  EXPECT_FALSE((weft::Deserialize<std::unordered_map<int, int>>(bytes).ok()));
  std::string set_bytes = weft::Serialize(std::vector<int>{3, 3});
  EXPECT_FALSE(weft::Deserialize<std::set<int>>(set_bytes).ok());
}

TEST(DeserializeTest, DepthLimit) {
  auto deep = [](int levels) {
    Tree root;
    Tree* node = &root;
    for (int i = 0; i < levels; ++i) {
      node->left = std::make_unique<Tree>();
      node = node->left.get();
    }
    return root;
  };
  const int max = weft::InputArchive::kMaxDepth;
  EXPECT_TRUE(weft::Deserialize<Tree>(weft::Serialize(deep(max - 1))).ok());
  auto too_deep = weft::Deserialize<Tree>(weft::Serialize(deep(max)));
  EXPECT_EQ(too_deep.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(too_deep.status().message(), HasSubstr("nesting deeper than 256"));
}

TEST(DeserializeTest, ReadsAfterFailureAreNoOps) {
  weft::InputArchive ar(std::string_view("\x01", 1));
  int32_t a = 5;
  std::string s = "keep";
  ar(a, s);
  EXPECT_FALSE(ar.ok());
  EXPECT_EQ(ar.offset(), 0u);
  ar.Fail(absl::InternalError("second"));
  EXPECT_EQ(ar.status().code(), absl::StatusCode::kDataLoss);
}

// ---------------------------------------------------------------------------
// Memory: what a decoded value takes is bounded by its input's size
// (kDecodeBytesPerInputByte per byte plus kDecodeSlackBytes), whatever the
// elements' size in memory against their size on the wire.

// The encoding of a container of `n` elements, each `element` on the wire.
std::string Repeated(uint64_t n, const std::string& element) {
  std::string bytes = weft::Serialize(n);
  for (uint64_t i = 0; i < n; ++i) bytes += element;
  return bytes;
}

// Found by fuzz/serialize_fuzzer: elements that encode to zero bytes were
// limited in number (kMaxEmptyElements), not in memory, so 16 bytes made a
// vector of a million 1000-byte arrays (1 GB).
TEST(DeserializeMemoryTest, EmptyElementsCannotBuyMemory) {
  using Blocks = std::vector<std::array<std::monostate, 1000>>;
  const std::string bytes = weft::Serialize(uint64_t{1000000});
  absl::StatusOr<Blocks> out = weft::Deserialize<Blocks>(bytes);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(out.status().message(),
              HasSubstr("the 1000000 elements of std::vector<std::array<"
                        "std::monostate, 1000>> at offset 8 would take more "
                        "than the 16777728 bytes of memory that 8 bytes of "
                        "input may (64 per byte and 16777216)"));
  // Within the budget they decode.
  const std::string few = weft::Serialize(uint64_t{1000});
  ASSERT_TRUE(weft::Deserialize<Blocks>(few).ok());
  EXPECT_EQ(weft::Deserialize<Blocks>(few)->size(), 1000u);
}

// An absent optional is 1 byte on the wire and the whole array in memory:
// 100,000 of them were 800 MB from 100 kB.
TEST(DeserializeMemoryTest, AbsentOptionalsOfLargeArraysAreBounded) {
  using Sparse = std::vector<std::optional<std::array<double, 1000>>>;
  const std::string absent = weft::Serialize(false);
  EXPECT_EQ(weft::Deserialize<Sparse>(Repeated(100000, absent)).status().code(),
            absl::StatusCode::kResourceExhausted);
  // 1000 of them (8 MB) fit the slack; so do present ones (8000 bytes each
  // on the wire).
  absl::StatusOr<Sparse> few = weft::Deserialize<Sparse>(Repeated(1000, absent));
  ASSERT_TRUE(few.ok()) << few.status();
  EXPECT_EQ(few->size(), 1000u);
  const Sparse dense(3000, std::array<double, 1000>{});
  absl::StatusOr<Sparse> back = weft::Deserialize<Sparse>(weft::Serialize(dense));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->size(), 3000u);
}

// The same through a fixed array of optionals, nested in a vector.
TEST(DeserializeMemoryTest, ArraysOfOptionalsAreBounded) {
  using Grid = std::vector<std::array<std::optional<std::array<int64_t, 512>>, 8>>;
  const std::string row = weft::Serialize(std::array<bool, 8>{});
  EXPECT_EQ(weft::Deserialize<Grid>(Repeated(20000, row)).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(weft::Deserialize<Grid>(Repeated(200, row)).ok());
}

// Owning pointers: a present one allocates its pointee.
TEST(DeserializeMemoryTest, PointeesAreCharged) {
  using Boxes = std::vector<std::unique_ptr<std::array<std::monostate, 4096>>>;
  const std::string present = weft::Serialize(true);
  EXPECT_EQ(weft::Deserialize<Boxes>(Repeated(100000, present)).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(weft::Deserialize<Boxes>(Repeated(1000, present)).ok());
  using Shared = std::vector<std::shared_ptr<std::array<std::monostate, 4096>>>;
  EXPECT_EQ(
      weft::Deserialize<Shared>(Repeated(100000, present)).status().code(),
      absl::StatusCode::kResourceExhausted);
}

// Map nodes: distinct keys of 1 byte, values of 0 bytes and 100 kB.
TEST(DeserializeMemoryTest, MapNodesAreCharged) {
  using Map = std::map<uint8_t, std::array<std::monostate, 100000>>;
  std::string bytes = weft::Serialize(uint64_t{256});
  for (int k = 0; k < 256; ++k) bytes += static_cast<char>(k);
  EXPECT_EQ(weft::Deserialize<Map>(bytes).status().code(),
            absl::StatusCode::kResourceExhausted);
  std::string small = weft::Serialize(uint64_t{16});
  for (int k = 0; k < 16; ++k) small += static_cast<char>(k);
  EXPECT_TRUE(weft::Deserialize<Map>(small).ok());
}

// Ordinary values are far inside the budget, however large.
TEST(DeserializeMemoryTest, OrdinaryValuesDecode) {
  std::vector<std::string> words(200000, "w");
  std::map<int, std::vector<double>> table;
  for (int i = 0; i < 100000; ++i) table[i] = {1.0};
  EXPECT_TRUE(weft::Deserialize<std::vector<std::string>>(
                  weft::Serialize(words)).ok());
  EXPECT_TRUE((weft::Deserialize<std::map<int, std::vector<double>>>(
                   weft::Serialize(table)).ok()));
  std::vector<std::optional<int64_t>> holes(1000000);
  EXPECT_TRUE(weft::Deserialize<std::vector<std::optional<int64_t>>>(
                  weft::Serialize(holes)).ok());
}

TEST(DeserializeTest, GarbageNeverCrashes) {
  // Deterministic pseudo-random bytes through a complex type.
  uint64_t state = 12345;
  for (int round = 0; round < 300; ++round) {
    std::string bytes(static_cast<size_t>(round % 64), '\0');
    for (char& c : bytes) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      c = static_cast<char>(state >> 56);
    }
    (void)weft::Deserialize<Nested>(bytes);
    (void)weft::Deserialize<Tree>(bytes);
  }
}

// ---------------------------------------------------------------------------

TEST(SerializeTest, SerializeIntoFixedBufferMatchesSerialize) {
  const Nested value = MakeNested();
  weft::testing::Sample sample;
  sample.set_name("into");
  sample.add_values(7);
  const std::vector<bool> bits = {true, false, true};
  auto check = [](const auto& v) {
    const std::string expected = weft::Serialize(v);
    const size_t size = weft::SerializedSize(v);
    ASSERT_EQ(size, expected.size());
    std::string buffer(size + 1, '#');  // one guard byte
    EXPECT_TRUE(weft::SerializeInto(v, buffer.data(), size));
    EXPECT_EQ(buffer.substr(0, size), expected);
    EXPECT_EQ(buffer[size], '#');
  };
  check(value);
  check(sample);
  check(bits);
  check(std::vector<double>{1.5, -2.0});
  check(std::string());
}

TEST(SerializeTest, SerializeIntoNeverWritesPastTheBuffer) {
  const Nested value = MakeNested();
  weft::testing::Sample sample;
  sample.set_name("short");
  sample.add_values(1);
  const std::vector<bool> bits(100, true);
  auto check = [](const auto& v) {
    const size_t size = weft::SerializedSize(v);
    for (size_t short_by : {size_t{1}, size_t{3}, size}) {
      std::string buffer(size, '#');
      const size_t given = size - short_by;
      EXPECT_FALSE(weft::SerializeInto(v, buffer.data(), given));
      EXPECT_EQ(buffer.substr(given), std::string(short_by, '#'));
    }
    // A larger buffer than the encoding is also a mismatch.
    std::string buffer(size + 8, '#');
    EXPECT_FALSE(weft::SerializeInto(v, buffer.data(), size + 8));
  };
  check(value);
  check(sample);
  check(bits);
  check(std::vector<double>(1000, 2.0));
}

TEST(SerializeTest, LargeVectorIsOneBlock) {
  std::vector<double> big(10 * 1024 * 1024 / sizeof(double));
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<double>(i) * 0.5;
  const std::string bytes = weft::Serialize(big);
  ASSERT_EQ(bytes.size(), 8 + big.size() * sizeof(double));
  EXPECT_EQ(std::memcmp(bytes.data() + 8, big.data(), big.size() * 8), 0);
  auto back = weft::Deserialize<std::vector<double>>(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == big);
  EXPECT_EQ(weft::Serialize(*back), bytes);
}

TEST(SerializeTest, FreeFunctionsAreReentrant) {
  // Threads serialize the same const values concurrently (protobuf caches
  // sizes inside the message, so this also checks that path under TSan).
  const Nested shared = MakeNested();
  weft::testing::Sample sample;
  sample.set_name("shared");
  sample.add_values(2);
  const std::string expected = weft::Serialize(shared) + weft::Serialize(sample);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string bytes;
        weft::Serialize(shared, bytes);
        const size_t split = bytes.size();
        weft::Serialize(sample, bytes);
        auto back = weft::Deserialize<Nested>(
            std::string_view(bytes).substr(0, split));
        if (bytes != expected || !back.ok() || *back != shared) return;
      }
      ok[t] = 1;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok, std::vector<int>(4, 1));
}

TEST(TypeNameTest, Names) {
  EXPECT_EQ(weft::TypeName<std::vector<double>>(), "std::vector<double>");
  EXPECT_EQ(weft::TypeName<int>(), "int32_t");
  EXPECT_EQ(weft::TypeName<uint64_t>(), "uint64_t");
  EXPECT_EQ(weft::TypeName<bool>(), "bool");
  EXPECT_EQ(weft::TypeName<char>(), "char");
  EXPECT_EQ(weft::TypeName<const std::string&>(), "std::string");
  EXPECT_EQ((weft::TypeName<std::map<std::string, std::vector<float>>>()),
            "std::map<std::string, std::vector<float>>");
  EXPECT_EQ((weft::TypeName<std::array<int8_t, 4>>()),
            "std::array<int8_t, 4>");
  EXPECT_EQ((weft::TypeName<std::tuple<int, std::optional<bool>>>()),
            "std::tuple<int32_t, std::optional<bool>>");
  EXPECT_EQ((weft::TypeName<std::variant<std::monostate, double>>()),
            "std::variant<std::monostate, double>");
  EXPECT_EQ((weft::TypeName<std::unique_ptr<std::set<int>>>()),
            "std::unique_ptr<std::set<int32_t>>");
  EXPECT_EQ(weft::TypeName<geo::Point>(), "geo::Point");
  EXPECT_EQ(weft::TypeName<geo::Color>(), "geo::Color");
  EXPECT_EQ(weft::TypeName<weft::testing::Sample>(), "weft.testing.Sample");
}

}  // namespace
