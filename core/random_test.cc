// Tests weft::random against vectors produced by NumPy 1.24.2 itself
// (tools/gen_random_vectors.py -> testdata/random_vectors.inc).

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "weft/random.h"
#include "weft/serialize.h"

namespace weft::random {
namespace {

struct U128Pair {
  uint64_t hi;
  uint64_t lo;
  absl::uint128 value() const { return absl::MakeUint128(hi, lo); }
};

struct SeedSeqCase {
  int kind;  // 0 uint64, 1 uint128, 2 words, 3 decimal, 4 FromIntegers.
  uint64_t u64;
  U128Pair u128;
  const char* decimal;
  std::vector<uint32_t> words;
  std::vector<uint64_t> ints;
  std::vector<uint64_t> spawn_key;
  std::size_t pool_size;
  std::vector<uint32_t> pool;
  std::vector<uint32_t> state32;  // generate_state(9)
  std::vector<uint64_t> state64;  // generate_state(5, uint64)
};

struct SpawnNode {
  std::vector<uint64_t> spawn_key;
  std::vector<uint32_t> state;  // generate_state(4)
};

struct PcgCase {
  uint64_t seed;
  U128Pair state;
  U128Pair inc;
  std::vector<uint64_t> raw;
};

struct AdvanceCase {
  uint64_t seed;
  U128Pair delta;
  std::vector<uint64_t> raw;  // After 3 draws, advance(delta), 5 draws.
};

struct JumpCase {
  uint64_t seed;
  U128Pair jumps;
  U128Pair state;
  std::vector<uint64_t> raw;
};

struct Op {
  const char* name;
  double a;
  double b;
  uint64_t lo;
  uint64_t hi;
  bool endpoint;
  int size;  // -1: scalar call.
  std::vector<uint64_t> expected;
};

struct OpCase {
  U128Pair seed;
  std::vector<Op> ops;
  U128Pair final_state;
  U128Pair final_inc;
  int has_uint32;
  uint32_t uinteger;
};

struct StreamCase {
  uint64_t seed;
  uint64_t index;
  std::vector<uint64_t> stream_raw;
  std::vector<uint64_t> jumped_raw;
};

struct BufferCase {
  U128Pair state;
  int has_uint32;
  uint32_t uinteger;
  int jumped_has_uint32;
  U128Pair jumped_state;
};

struct SeedCase {
  int kind;  // 0 integer below 2**128, 1 words, 2 SeedSequence.
  U128Pair integer;
  std::vector<uint32_t> words;  // The integer's words for kind 0.
  std::vector<uint64_t> spawn_key;
  std::size_t pool_size;
  const char* decimal;  // The integer the words make; "" if none is given.
  U128Pair state;
  U128Pair inc;
  std::vector<uint64_t> raw;  // PCG64(seed).random_raw(6)
  // default_rng(seed): random(), standard_normal(), 3 x integers(0, 1000),
  // uniform(-1, 1), as 64-bit patterns.
  std::vector<uint64_t> rng;
  // Stream(seed, i) and JumpedStream(seed, i): random_raw(4), for each i
  // of kSeedStreamIndices.
  std::vector<std::vector<uint64_t>> stream;
  std::vector<std::vector<uint64_t>> jumped;
};

#include "core/testdata/random_vectors.inc"

uint64_t Bits(double x) { return std::bit_cast<uint64_t>(x); }

std::vector<uint64_t> Bits(const std::vector<double>& xs) {
  std::vector<uint64_t> out;
  for (double x : xs) out.push_back(Bits(x));
  return out;
}

std::vector<uint64_t> Bits(const std::vector<int64_t>& xs) {
  return std::vector<uint64_t>(xs.begin(), xs.end());
}

SeedSequence MakeSeedSequence(const SeedSeqCase& c) {
  switch (c.kind) {
    case 0:
      return SeedSequence(c.u64, c.spawn_key, c.pool_size);
    case 1:
      return SeedSequence(c.u128.value(), c.spawn_key, c.pool_size);
    case 2:
      return SeedSequence(c.words, c.spawn_key, c.pool_size);
    case 3:
      return SeedSequence(std::string_view(c.decimal), c.spawn_key,
                          c.pool_size);
    default:
      return SeedSequence::FromIntegers(c.ints, c.spawn_key, c.pool_size);
  }
}

TEST(SeedSequenceTest, MatchesNumpy) {
  for (std::size_t i = 0; i < kSeedSeqCases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const SeedSeqCase& c = kSeedSeqCases[i];
    const SeedSequence ss = MakeSeedSequence(c);
    EXPECT_EQ(ss.pool(), c.pool);
    EXPECT_EQ(ss.generate_state(9), c.state32);
    EXPECT_EQ(ss.generate_state64(5), c.state64);
    EXPECT_EQ(ss.spawn_key(), c.spawn_key);
    EXPECT_EQ(ss.pool_size(), c.pool_size);
  }
}

TEST(SeedSequenceTest, EntropyForms) {
  // A 128-bit integer, its decimal string and its words are the same seed.
  const absl::uint128 big = absl::MakeUint128(0x10, 0x5);
  const SeedSequence a(big);
  const SeedSequence b(std::string_view("295147905179352825861"));
  const SeedSequence c(std::vector<uint32_t>{5, 0, 0x10});
  EXPECT_EQ(a.entropy(), (std::vector<uint32_t>{5, 0, 0x10}));
  EXPECT_EQ(a.pool(), b.pool());
  EXPECT_EQ(a.pool(), c.pool());
  EXPECT_EQ(SeedSequence(uint64_t{0}).entropy(), std::vector<uint32_t>{0});
  EXPECT_EQ(SeedSequence(std::string_view("0")).entropy(),
            std::vector<uint32_t>{0});
}

TEST(SeedSequenceTest, Errors) {
  EXPECT_THROW(SeedSequence(std::string_view("12a")), std::invalid_argument);
  EXPECT_THROW(SeedSequence(std::string_view("")), std::invalid_argument);
  EXPECT_THROW(SeedSequence(1, {}, 3), std::invalid_argument);
}

TEST(SeedSequenceTest, SpawnTreeMatchesNumpy) {
  // Same operations as tools/gen_random_vectors.py.
  SeedSequence root(20240101);
  std::vector<SeedSequence> a = root.spawn(2);
  std::vector<SeedSequence> b = root.spawn(3);
  std::vector<SeedSequence> c = b[1].spawn(2);
  std::vector<SeedSequence> d = c[1].spawn(3);
  std::vector<SeedSequence> e = d[2].spawn(1);
  std::vector<SeedSequence> f = c[1].spawn(2);
  std::vector<const SeedSequence*> nodes;
  for (auto* v : {&a, &b, &c, &d, &e, &f}) {
    for (const SeedSequence& s : *v) nodes.push_back(&s);
  }
  ASSERT_EQ(nodes.size(), kSpawnTree.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    SCOPED_TRACE("node " + std::to_string(i));
    EXPECT_EQ(nodes[i]->spawn_key(), kSpawnTree[i].spawn_key);
    EXPECT_EQ(nodes[i]->generate_state(4), kSpawnTree[i].state);
    EXPECT_EQ(nodes[i]->entropy(), root.entropy());
  }
  EXPECT_EQ(root.n_children_spawned(), kSpawnCounts[0]);
  EXPECT_EQ(b[1].n_children_spawned(), kSpawnCounts[1]);
  EXPECT_EQ(c[1].n_children_spawned(), kSpawnCounts[2]);
  EXPECT_EQ(d[2].n_children_spawned(), kSpawnCounts[3]);
}

// `bg`, just seeded, is in the state numpy's case `c` (a PcgCase or a
// SeedCase) gives, and draws the same raw numbers.
template <class Case>
void ExpectMatchesNumpy(PCG64& bg, const Case& c) {
  EXPECT_EQ(bg.state().state, c.state.value());
  EXPECT_EQ(bg.state().inc, c.inc.value());
  std::vector<uint64_t> raw(c.raw.size());
  bg.random_raw(raw);
  EXPECT_EQ(raw, c.raw);
}

TEST(PCG64Test, SeedingAndRawOutputMatchNumpy) {
  for (const PcgCase& c : kPcgCases) {
    SCOPED_TRACE(c.seed);
    PCG64 bg(c.seed);
    ExpectMatchesNumpy(bg, c);
    // Seeding from an explicit SeedSequence is the same thing.
    PCG64 from_ss{SeedSequence(c.seed)};
    EXPECT_EQ(from_ss(), c.raw[0]);
  }
}

TEST(PCG64Test, AdvanceMatchesNumpy) {
  for (const AdvanceCase& c : kAdvanceCases) {
    SCOPED_TRACE(c.seed);
    PCG64 bg(c.seed);
    for (int i = 0; i < 3; ++i) bg.random_raw();
    bg.advance(c.delta.value());
    for (uint64_t want : c.raw) EXPECT_EQ(bg.random_raw(), want);
  }
}

TEST(PCG64Test, AdvanceEqualsDrawing) {
  PCG64 a(3), b(3);
  for (int i = 0; i < 1000; ++i) a.random_raw();
  b.advance(1000);
  EXPECT_EQ(a.state(), b.state());
  // advance(2**128 - k) undoes advance(k).
  b.advance(absl::uint128(0) - 1000);
  EXPECT_EQ(b.random_raw(), PCG64(3).random_raw());
}

TEST(PCG64Test, JumpedMatchesNumpy) {
  for (const JumpCase& c : kJumpCases) {
    SCOPED_TRACE(c.seed);
    const PCG64 bg(c.seed);
    const PCG64::State before = bg.state();
    PCG64 j = bg.jumped(c.jumps.value());
    EXPECT_EQ(bg.state(), before);  // jumped() leaves the source alone.
    EXPECT_EQ(j.state().state, c.state.value());
    for (uint64_t want : c.raw) EXPECT_EQ(j.random_raw(), want);
  }
}

TEST(PCG64Test, BufferedHalfAndJumpedReset) {
  Generator<PCG64> gen{PCG64(5)};
  gen.integers(0, 10);
  const PCG64::State st = gen.bit_generator().state();
  EXPECT_EQ(st.state, kBufferCase.state.value());
  EXPECT_EQ(st.has_uint32, kBufferCase.has_uint32 != 0);
  EXPECT_EQ(st.uinteger, kBufferCase.uinteger);
  const PCG64::State js = gen.bit_generator().jumped(2).state();
  EXPECT_EQ(js.has_uint32, kBufferCase.jumped_has_uint32 != 0);
  EXPECT_EQ(js.uinteger, 0u);
  EXPECT_EQ(js.state, kBufferCase.jumped_state.value());
}

TEST(PCG64Test, StateRoundTrip) {
  PCG64 a(11);
  a.next_uint32();
  PCG64 b(a.state());
  EXPECT_EQ(a.next_uint32(), b.next_uint32());
  EXPECT_EQ(a(), b());
}

TEST(PCG64Test, WorksWithStdRandom) {
  static_assert(std::uniform_random_bit_generator<PCG64>);
  PCG64 bg(1);
  std::uniform_int_distribution<int> dist(1, 6);
  for (int i = 0; i < 100; ++i) {
    const int v = dist(bg);
    EXPECT_GE(v, 1);
    EXPECT_LE(v, 6);
  }
}

// Runs one recorded op on `gen`, returning outputs as 64-bit patterns.
std::vector<uint64_t> RunOp(Generator<PCG64>& gen, const Op& op) {
  const std::string name = op.name;
  const auto lo = static_cast<int64_t>(op.lo);
  const auto hi = static_cast<int64_t>(op.hi);
  const bool scalar = op.size < 0;
  const std::size_t n = scalar ? 1 : static_cast<std::size_t>(op.size);
  if (name == "integers") {
    if (scalar) {
      return {static_cast<uint64_t>(gen.integers(lo, hi, op.endpoint))};
    }
    return Bits(gen.integers(lo, hi, n, op.endpoint));
  }
  if (name == "raw") {
    std::vector<uint64_t> out(n);
    gen.bit_generator().random_raw(out);
    return out;
  }
  if (name == "normal_summary" || name == "exponential_summary") {
    const bool normal = name == "normal_summary";
    std::vector<double> x(n);
    if (normal) {
      gen.standard_normal(x);
    } else {
      gen.standard_exponential(x);
    }
    uint64_t sum = 0;
    std::vector<uint64_t> tail;
    for (std::size_t i = 0; i < n; ++i) {
      const uint64_t b = Bits(x[i]);
      sum += (b ^ (b >> 29)) * (2 * i + 1);
      if (normal ? std::fabs(x[i]) > internal::kNormalR
                 : x[i] > internal::kExpR) {
        tail.push_back(b);
      }
    }
    std::vector<uint64_t> out = {sum, tail.size()};
    out.insert(out.end(), tail.begin(), tail.end());
    for (int i = 0; i < 4; ++i) out.push_back(Bits(x[i]));
    return out;
  }
  std::vector<double> out;
  if (name == "random") {
    out = scalar ? std::vector<double>{gen.random()} : gen.random(n);
  } else if (name == "standard_normal") {
    out = scalar ? std::vector<double>{gen.standard_normal()}
                 : gen.standard_normal(n);
  } else if (name == "normal") {
    out = scalar ? std::vector<double>{gen.normal(op.a, op.b)}
                 : gen.normal(op.a, op.b, n);
  } else if (name == "uniform") {
    out = scalar ? std::vector<double>{gen.uniform(op.a, op.b)}
                 : gen.uniform(op.a, op.b, n);
  } else if (name == "standard_exponential") {
    out = scalar ? std::vector<double>{gen.standard_exponential()}
                 : gen.standard_exponential(n);
  } else {
    ADD_FAILURE() << "unknown op " << name;
  }
  return Bits(out);
}

TEST(GeneratorTest, DistributionsMatchNumpyBitwise) {
  for (const OpCase& c : kOpCases) {
    const absl::uint128 seed = c.seed.value();
    Generator<PCG64> gen = absl::Uint128High64(seed) == 0
                               ? default_rng(absl::Uint128Low64(seed))
                               : default_rng(seed);
    for (std::size_t i = 0; i < c.ops.size(); ++i) {
      const Op& op = c.ops[i];
      SCOPED_TRACE(std::string(op.name) + " op #" + std::to_string(i) +
                   " lo=" + std::to_string(static_cast<int64_t>(op.lo)) +
                   " hi=" + std::to_string(static_cast<int64_t>(op.hi)));
      EXPECT_EQ(RunOp(gen, op), op.expected);
    }
    const PCG64::State st = gen.bit_generator().state();
    EXPECT_EQ(st.state, c.final_state.value());
    EXPECT_EQ(st.inc, c.final_inc.value());
    EXPECT_EQ(st.has_uint32, c.has_uint32 != 0);
    EXPECT_EQ(st.uinteger, c.uinteger);
  }
}

TEST(GeneratorTest, BulkFillsEqualScalarCalls) {
  // Fills draw raw outputs in blocks and rewind; they must equal scalar
  // calls, output and final state alike, at every block boundary.
  for (std::size_t n : {0, 1, 63, 64, 65, 255, 256, 257, 1000, 4099}) {
    SCOPED_TRACE(n);
    Generator<PCG64> bulk = default_rng(9);
    Generator<PCG64> one = default_rng(9);
    std::vector<double> got = bulk.standard_normal(n);
    std::vector<double> want;
    for (std::size_t i = 0; i < n; ++i) want.push_back(one.standard_normal());
    EXPECT_EQ(Bits(got), Bits(want));
    got = bulk.standard_exponential(n);
    want.clear();
    for (std::size_t i = 0; i < n; ++i) {
      want.push_back(one.standard_exponential());
    }
    EXPECT_EQ(Bits(got), Bits(want));
    got = bulk.uniform(-1.0, 3.0, n);
    want.clear();
    for (std::size_t i = 0; i < n; ++i) want.push_back(one.uniform(-1.0, 3.0));
    EXPECT_EQ(Bits(got), Bits(want));
    EXPECT_EQ(bulk.bit_generator().state(), one.bit_generator().state());
    std::vector<uint64_t> raw(n);
    bulk.bit_generator().random_raw(raw);
    for (uint64_t v : raw) EXPECT_EQ(v, one.bit_generator().random_raw());
    EXPECT_EQ(bulk.bit_generator().state(), one.bit_generator().state());
  }
}

TEST(GeneratorTest, SummaryHitsZigguratTails) {
  // The summary vectors must exercise the tail path of both samplers.
  for (const OpCase& c : kOpCases) {
    for (const Op& op : c.ops) {
      if (std::string(op.name).ends_with("_summary")) {
        EXPECT_GT(op.expected[1], 10u) << op.name;
      }
    }
  }
}

TEST(GeneratorTest, InvalidArguments) {
  Generator<PCG64> gen = default_rng(1);
  EXPECT_THROW(gen.normal(0.0, -1.0), std::invalid_argument);
  EXPECT_THROW(gen.uniform(2.0, 1.0), std::invalid_argument);
  EXPECT_THROW(gen.uniform(-1e308, 1e308), std::invalid_argument);
  EXPECT_THROW(gen.integers(5, 5), std::invalid_argument);
  EXPECT_THROW(gen.integers(5, 4, true), std::invalid_argument);
  EXPECT_EQ(gen.integers(5, 5, true), 5);
  EXPECT_EQ(gen.integers(1), 0);
}

TEST(StreamTest, MatchesNumpyConstructions) {
  for (const StreamCase& c : kStreamCases) {
    SCOPED_TRACE(std::to_string(c.seed) + "/" + std::to_string(c.index));
    Generator<PCG64> s = Stream(c.seed, c.index);
    Generator<PCG64> j = JumpedStream(c.seed, c.index);
    for (std::size_t i = 0; i < c.stream_raw.size(); ++i) {
      EXPECT_EQ(s.bit_generator().random_raw(), c.stream_raw[i]);
      EXPECT_EQ(j.bit_generator().random_raw(), c.jumped_raw[i]);
    }
  }
}

TEST(StreamTest, EqualsSpawnedChild) {
  std::vector<SeedSequence> kids = SeedSequence(77).spawn(6);
  for (uint64_t i = 0; i < kids.size(); ++i) {
    Generator<PCG64> a = Stream(77, i);
    Generator<PCG64> b = default_rng(kids[i]);
    EXPECT_EQ(Bits(a.standard_normal(10)), Bits(b.standard_normal(10)));
  }
}

TEST(StreamTest, IndependentOfSchedule) {
  // Tasks run on threads in a scrambled order give the serial results.
  constexpr uint64_t kTasks = 16;
  std::vector<std::vector<uint64_t>> serial(kTasks), parallel(kTasks);
  for (uint64_t i = 0; i < kTasks; ++i) {
    serial[i] = Bits(Stream(3, i).normal(1.0, 2.0, 300));
  }
  std::vector<std::thread> workers;
  for (uint64_t w = 0; w < 4; ++w) {
    workers.emplace_back([w, &parallel] {
      for (uint64_t k = w; k < kTasks; k += 4) {
        const uint64_t i = kTasks - 1 - k;
        parallel[i] = Bits(Stream(3, i).normal(1.0, 2.0, 300));
      }
    });
  }
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(serial, parallel);
}

// ---------------------------------------------------------------------------
// Seeds: every C++ spelling of a NumPy seed gives NumPy's numbers.
// ---------------------------------------------------------------------------

struct NamedSeed {
  std::string how;
  Seed seed;
};

// Every way the C++ API can be handed case `c`'s seed.
std::vector<NamedSeed> SeedForms(const SeedCase& c) {
  std::vector<NamedSeed> forms;
  const std::string_view decimal(c.decimal);
  if (c.kind == 0) {
    const absl::uint128 v = c.integer.value();
    using U128 = unsigned __int128;
    const U128 u = (static_cast<U128>(absl::Uint128High64(v)) << 64) |
                   absl::Uint128Low64(v);
    forms.push_back({"absl::uint128", v});
    forms.push_back({"unsigned __int128", u});
    if (absl::Uint128High64(v) >> 63 == 0) {
      forms.push_back({"__int128", static_cast<__int128>(u)});
      forms.push_back({"absl::int128", absl::int128(v)});
    }
    if (absl::Uint128High64(v) == 0) {
      const uint64_t lo = absl::Uint128Low64(v);
      forms.push_back({"uint64_t", lo});
      if (lo >> 63 == 0) forms.push_back({"int64_t", static_cast<int64_t>(lo)});
      if (lo >> 31 == 0) forms.push_back({"int", static_cast<int>(lo)});
    }
    forms.push_back({"SeedSequence(integer)", SeedSequence(v)});
    EXPECT_EQ(SeedSequence(v).entropy(), c.words);
  }
  if (c.kind == 0 || c.kind == 1) {
    forms.push_back({"words", c.words});
    forms.push_back({"SeedSequence(words)", SeedSequence(c.words)});
    if (!decimal.empty()) {
      forms.push_back({"SeedSequence(decimal)", SeedSequence(decimal)});
    }
  } else {
    forms.push_back({"SeedSequence(words, key, pool)",
                     SeedSequence(c.words, c.spawn_key, c.pool_size)});
  }
  return forms;
}

TEST(SeedTest, PCG64MatchesNumpy) {
  for (std::size_t i = 0; i < kSeedCases.size(); ++i) {
    const SeedCase& c = kSeedCases[i];
    for (const NamedSeed& f : SeedForms(c)) {
      SCOPED_TRACE("case " + std::to_string(i) + " as " + f.how);
      PCG64 bg(f.seed);
      ExpectMatchesNumpy(bg, c);
    }
  }
}

TEST(SeedTest, DefaultRngMatchesNumpy) {
  for (std::size_t i = 0; i < kSeedCases.size(); ++i) {
    const SeedCase& c = kSeedCases[i];
    for (const NamedSeed& f : SeedForms(c)) {
      SCOPED_TRACE("case " + std::to_string(i) + " as " + f.how);
      Generator<PCG64> gen = default_rng(f.seed);
      std::vector<uint64_t> got = {Bits(gen.random()),
                                   Bits(gen.standard_normal())};
      for (int k = 0; k < 3; ++k) {
        got.push_back(static_cast<uint64_t>(gen.integers(0, 1000)));
      }
      got.push_back(Bits(gen.uniform(-1.0, 1.0)));
      EXPECT_EQ(got, c.rng);
    }
  }
}

TEST(SeedTest, StreamsMatchNumpy) {
  for (std::size_t i = 0; i < kSeedCases.size(); ++i) {
    const SeedCase& c = kSeedCases[i];
    ASSERT_EQ(c.stream.size(), std::size(kSeedStreamIndices));
    ASSERT_EQ(c.jumped.size(), std::size(kSeedStreamIndices));
    for (const NamedSeed& f : SeedForms(c)) {
      for (std::size_t k = 0; k < std::size(kSeedStreamIndices); ++k) {
        const uint64_t index = kSeedStreamIndices[k];
        SCOPED_TRACE("case " + std::to_string(i) + " as " + f.how + ", index " +
                     std::to_string(index));
        Generator<PCG64> s = Stream(f.seed, index);
        Generator<PCG64> j = JumpedStream(f.seed, index);
        std::vector<uint64_t> got_s(4), got_j(4);
        s.bit_generator().random_raw(got_s);
        j.bit_generator().random_raw(got_j);
        EXPECT_EQ(got_s, c.stream[k]);
        EXPECT_EQ(got_j, c.jumped[k]);
      }
    }
  }
}

TEST(SeedTest, DocumentedExampleMatchesNumpy) {
  // docs/random.md: np.random.PCG64(2**96 + 12345).random_raw(2) is
  // [11025650574312466180, 15108145512222392065].
  constexpr unsigned __int128 kSeed =
      (static_cast<unsigned __int128>(1) << 96) + 12345;
  PCG64 a(absl::MakeUint128(uint64_t{1} << 32, 12345));
  PCG64 b(kSeed);
  PCG64 c(std::vector<uint32_t>{12345, 0, 0, 1});
  PCG64 d(SeedSequence(std::string_view("79228162514264337593543962681")));
  for (PCG64* bg : {&a, &b, &c, &d}) {
    EXPECT_EQ(bg->random_raw(), 11025650574312466180ULL);
    EXPECT_EQ(bg->random_raw(), 15108145512222392065ULL);
  }
  // np.random.default_rng(np.random.SeedSequence(2**96 + 12345).spawn(6)[5])
  //     .bit_generator.random_raw() is 2582575982535920886.
  EXPECT_EQ(Stream(kSeed, 5).bit_generator().random_raw(),
            2582575982535920886ULL);
  SeedSequence root(kSeed);
  EXPECT_EQ(default_rng(root.spawn(6)[5]).bit_generator().random_raw(),
            2582575982535920886ULL);
}

TEST(SeedTest, NegativeSeedsThrow) {
  // NumPy: ValueError("expected non-negative integer"); never 2**64 - 1.
  EXPECT_THROW(PCG64(-1), std::invalid_argument);
  EXPECT_THROW(default_rng(-1), std::invalid_argument);
  EXPECT_THROW(default_rng(int64_t{-5}), std::invalid_argument);
  EXPECT_THROW(Stream(-1, 0), std::invalid_argument);
  EXPECT_THROW(JumpedStream(static_cast<__int128>(-1), 0),
               std::invalid_argument);
  EXPECT_THROW(default_rng(absl::int128(-7)), std::invalid_argument);
  EXPECT_THROW(SeedSequence(-1), std::invalid_argument);
  // (void): clang would read the statement as a declaration.
  EXPECT_THROW((void)SeedSequence(std::numeric_limits<int64_t>::min()),
               std::invalid_argument);
  try {
    default_rng(-3);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "expected non-negative integer");
  }
  // The largest values of signed types are fine.
  EXPECT_EQ(PCG64(std::numeric_limits<int64_t>::max()).state(),
            PCG64(uint64_t{0x7fffffffffffffff}).state());
  EXPECT_NO_THROW(default_rng(0));
}

// True if a `const T&` parameter accepts `{}` (copy-list-initialization).
template <typename T>
concept AcceptsEmptyBraces = requires(void (*f)(const T&)) { f({}); };

TEST(SeedTest, WrongArgumentTypesDoNotCompile) {
  static_assert(std::is_convertible_v<int, Seed>);
  static_assert(std::is_convertible_v<uint64_t, Seed>);
  static_assert(std::is_convertible_v<absl::uint128, Seed>);
  static_assert(std::is_convertible_v<unsigned __int128, Seed>);
  static_assert(std::is_convertible_v<SeedSequence, Seed>);
  static_assert(std::is_convertible_v<std::vector<uint32_t>, Seed>);
  static_assert(!std::is_constructible_v<Seed, bool>);
  static_assert(!std::is_constructible_v<Seed, double>);
  static_assert(!std::is_constructible_v<Seed, const char*>);
  static_assert(!std::is_constructible_v<Seed, std::vector<uint64_t>>);
  static_assert(!std::is_constructible_v<PCG64, bool>);
  static_assert(!std::is_constructible_v<PCG64, double>);
  // default_rng({}) would seed from nothing: not NumPy's fresh entropy.
  static_assert(!AcceptsEmptyBraces<Seed>);
  static_assert(std::is_default_constructible_v<Seed>);  // Deserialization.
}

TEST(SeedTest, EmptySeedThrows) {
  EXPECT_THROW(PCG64{Seed()}, std::invalid_argument);
  EXPECT_THROW(Stream(Seed(), 0), std::invalid_argument);
  EXPECT_THROW(JumpedStream(SeedSequence(), 0), std::invalid_argument);
  EXPECT_THROW(SeedSequence().Child(0), std::invalid_argument);
  EXPECT_THROW(SeedSequence().generate_state(4), std::invalid_argument);
}

TEST(SeedTest, StreamOfASequenceIsItsChild) {
  SeedSequence root(absl::MakeUint128(uint64_t{1} << 32, 12345));
  const SeedSequence fresh = root;
  std::vector<SeedSequence> kids = root.spawn(4);
  for (uint64_t i = 0; i < kids.size(); ++i) {
    EXPECT_EQ(root.Child(i).pool(), kids[i].pool());
    EXPECT_EQ(root.Child(i).spawn_key(), kids[i].spawn_key());
    // Stream ignores how many children `root` has spawned already.
    EXPECT_EQ(Stream(root, i).bit_generator().state(),
              Stream(fresh, i).bit_generator().state());
    EXPECT_EQ(Stream(root, i).bit_generator().state(),
              default_rng(kids[i]).bit_generator().state());
    // Streams nest: Stream(child, j) is the grandchild.
    std::vector<SeedSequence> grandkids = SeedSequence(kids[i]).spawn(3);
    EXPECT_EQ(Stream(kids[i], 2).bit_generator().state(),
              default_rng(grandkids[2]).bit_generator().state());
  }
  EXPECT_EQ(root.n_children_spawned(), 4u);
}

TEST(SeedTest, SerializeRoundTrip) {
  for (std::size_t i = 0; i < kSeedCases.size(); ++i) {
    for (const NamedSeed& f : SeedForms(kSeedCases[i])) {
      SCOPED_TRACE("case " + std::to_string(i) + " as " + f.how);
      absl::StatusOr<Seed> back =
          weft::Deserialize<Seed>(weft::Serialize(f.seed));
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(back->seed_sequence().entropy(),
                f.seed.seed_sequence().entropy());
      EXPECT_EQ(back->seed_sequence().spawn_key(),
                f.seed.seed_sequence().spawn_key());
      EXPECT_EQ(PCG64(*back).state(), PCG64(f.seed).state());
      EXPECT_EQ(Stream(*back, 3).bit_generator().state(),
                Stream(f.seed, 3).bit_generator().state());
    }
  }
  // An empty Seed round-trips (and still throws when used).
  absl::StatusOr<Seed> empty = weft::Deserialize<Seed>(weft::Serialize(Seed()));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_THROW(PCG64{*empty}, std::invalid_argument);
}

// The fields a Seed (a SeedSequence) writes, for forging bad input.
struct SeedSequenceFields {
  std::vector<uint32_t> entropy;
  std::vector<uint64_t> spawn_key;
  uint64_t n_children_spawned = 0;
  std::vector<uint32_t> pool;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(entropy, spawn_key, n_children_spawned, pool);
  }
};
struct SeedFields {
  SeedSequenceFields seed_seq;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(seed_seq);
  }
};

TEST(SeedTest, DeserializeRejectsAShortPool) {
  SeedFields fields;
  fields.seed_seq.entropy = {1};
  fields.seed_seq.pool = {0, 0, 0, 0};
  ASSERT_TRUE(weft::Deserialize<Seed>(weft::Serialize(fields)).ok());
  fields.seed_seq.pool = {1, 2};
  const std::string bytes = weft::Serialize(fields);
  absl::StatusOr<Seed> seed = weft::Deserialize<Seed>(bytes);
  EXPECT_FALSE(seed.ok());
  EXPECT_EQ(seed.status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace weft::random
