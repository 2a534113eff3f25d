// Reproducible parallel random numbers, bit-for-bit compatible with NumPy.
//
// weft::random reimplements the parts of `numpy.random` that parallel studies
// need, so that a C++ task produces exactly the numbers the equivalent Python
// code produces with NumPy (checked against NumPy 1.24.2):
//
//   Seed          <-> the `seed` argument NumPy's bit generators take: any
//                     non-negative integer (up to 128 bits here; wider ones
//                     as 32-bit words), words, or a SeedSequence
//   SeedSequence  <-> numpy.random.SeedSequence (entropy pool, spawn trees)
//   PCG64         <-> numpy.random.PCG64 (seeding, random_raw, advance,
//                     jumped, the buffered 32-bit half)
//   Generator<>   <-> numpy.random.Generator (random, standard_normal,
//                     normal, uniform, integers, standard_exponential)
//   default_rng   <-> numpy.random.default_rng
//
// Parallel streams. A parallel computation is reproducible only if the
// numbers a task draws depend on nothing but the task's identity. The two
// helpers below derive a task's generator from (root_seed, task_index) alone,
// in O(1) and without shared state (root_seed: any Seed):
//
//   Stream(root_seed, i)        = default_rng(SeedSequence(root_seed).spawn(
//                                     i + 1)[i])  (for an integer seed)
//   JumpedStream(root_seed, i)  = Generator(PCG64(root_seed).jumped(i))
//
// Because a task's stream is a pure function of its index, results do not
// depend on the cluster's shape (how many workers), the scheduling order,
// which worker ran a task, or how often a task was retried.
//
// Thread-safety: every object here is a plain value. Concurrent calls on
// distinct objects are safe; concurrent calls on one object (including
// `SeedSequence::spawn`) are not. Use one generator per task.
//
// Errors: invalid arguments (the cases where NumPy raises ValueError or
// OverflowError, e.g. a negative seed) throw std::invalid_argument.

#ifndef WEFT_RANDOM_H_
#define WEFT_RANDOM_H_

#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"

namespace weft::random {

// ---------------------------------------------------------------------------
// Seed integers
// ---------------------------------------------------------------------------

// The integer types a seed may have: every built-in integer type but bool
// (int, int64_t, uint64_t, ...), GCC's 128-bit `__int128` /
// `unsigned __int128`, and Abseil's `absl::int128` / `absl::uint128`. NumPy
// takes a Python int of any size; integers above 2**128 are given as their
// 32-bit words (see SeedSequence and Seed).
template <typename T>
concept SeedInteger =
    (std::integral<T> && !std::same_as<T, bool>) ||
    std::same_as<T, __int128> || std::same_as<T, unsigned __int128> ||
    std::same_as<T, absl::int128> || std::same_as<T, absl::uint128>;

namespace internal {
// Returns `n` as an unsigned 128-bit value. Throws std::invalid_argument
// ("expected non-negative integer", NumPy's ValueError) if `n` < 0, so a
// signed -1 never becomes 2**64 - 1.
template <SeedInteger T>
absl::uint128 NonNegativeSeed(T n) {
  if constexpr (std::same_as<T, __int128> || std::same_as<T, absl::int128> ||
                (std::integral<T> && std::is_signed_v<T>)) {
    if (n < 0) throw std::invalid_argument("expected non-negative integer");
  }
  return absl::uint128(n);
}

// `n` as 32-bit words, least significant first, as NumPy coerces an int
// (seed_sequence.cc); zero is the single word 0.
std::vector<uint32_t> IntegerWords(absl::uint128 n);
}  // namespace internal

// ---------------------------------------------------------------------------
// SeedSequence
// ---------------------------------------------------------------------------

// numpy.random.SeedSequence: mixes user entropy (and a spawn key identifying
// a node in a tree of streams) into a pool of 32-bit words, from which seeds
// for bit generators are drawn. Children made by `spawn` are statistically
// independent of each other and of their parent.
class SeedSequence {
 public:
  static constexpr std::size_t kDefaultPoolSize = 4;

  // Entropy given as a non-negative integer of up to 128 bits (NumPy:
  // `SeedSequence(int)`), e.g. `SeedSequence(42)` or
  // `SeedSequence(absl::MakeUint128(1, 5))` for 2**64 + 5. `spawn_key`
  // identifies the node in a spawn tree (NumPy's tuple of ints). Throws
  // std::invalid_argument if `entropy` is negative or pool_size < 4.
  template <SeedInteger T>
  explicit SeedSequence(T entropy, std::vector<uint64_t> spawn_key = {},
                        std::size_t pool_size = kDefaultPoolSize,
                        uint64_t n_children_spawned = 0)
      : SeedSequence(internal::IntegerWords(internal::NonNegativeSeed(entropy)),
                     std::move(spawn_key), pool_size, n_children_spawned) {}
  // Entropy as a sequence of 32-bit words, the same as NumPy given a list of
  // ints each below 2**32 or a uint32 array. An arbitrarily large integer is
  // the list of its 32-bit words, least significant first.
  explicit SeedSequence(std::vector<uint32_t> entropy_words,
                        std::vector<uint64_t> spawn_key = {},
                        std::size_t pool_size = kDefaultPoolSize,
                        uint64_t n_children_spawned = 0);
  // Entropy as a decimal string of any size ("123456789012345678901234567890"
  // == NumPy's SeedSequence(123456789012345678901234567890)). Throws
  // std::invalid_argument unless `decimal` is a non-empty string of digits.
  explicit SeedSequence(std::string_view decimal,
                        std::vector<uint64_t> spawn_key = {},
                        std::size_t pool_size = kDefaultPoolSize,
                        uint64_t n_children_spawned = 0);

  // Entropy as a list of non-negative integers, each split into 32-bit words
  // (NumPy: `SeedSequence([1, 2**40, 7])`).
  static SeedSequence FromIntegers(std::span<const uint64_t> entropy,
                                   std::vector<uint64_t> spawn_key = {},
                                   std::size_t pool_size = kDefaultPoolSize);

  // Returns `n_words` 32-bit words of seed material, as
  // `generate_state(n_words, np.uint32)`. Const: repeated calls agree.
  // Throws std::invalid_argument on a default-constructed (empty) sequence.
  std::vector<uint32_t> generate_state(std::size_t n_words) const;
  // As `generate_state(n_words, np.uint64)`: 2 * n_words 32-bit words paired
  // little-endian. Throws as generate_state().
  std::vector<uint64_t> generate_state64(std::size_t n_words) const;

  // Returns `n` children with spawn keys spawn_key() + {k}, for
  // k = n_children_spawned() ... n_children_spawned() + n - 1, and advances
  // n_children_spawned() by n (so a second call yields new children).
  // Throws std::invalid_argument on a default-constructed sequence (n > 0).
  std::vector<SeedSequence> spawn(std::size_t n);
  // Returns the child with spawn key spawn_key() + {k}: the same entropy and
  // pool size, as NumPy's `SeedSequence(ss.entropy, spawn_key=ss.spawn_key +
  // (k,), pool_size=ss.pool_size)`; equal to `spawn(k + 1)[k]` of a
  // sequence that has spawned no children yet. Const and O(1): a pure
  // function of *this and k (n_children_spawned() plays no part). Throws
  // std::invalid_argument on a default-constructed sequence.
  SeedSequence Child(uint64_t k) const;

  // The entropy as 32-bit words, least significant first (the coerced form
  // NumPy mixes into the pool).
  const std::vector<uint32_t>& entropy() const { return entropy_; }
  const std::vector<uint64_t>& spawn_key() const { return spawn_key_; }
  std::size_t pool_size() const { return pool_.size(); }
  uint64_t n_children_spawned() const { return n_children_spawned_; }
  // The mixed entropy pool (NumPy's `SeedSequence.pool`).
  const std::vector<uint32_t>& pool() const { return pool_; }

  // An empty sequence, for deserialization: assign before use (seeding
  // from it throws std::invalid_argument).
  SeedSequence() = default;

  // Makes SeedSequence serializable with weft/serialize.h, so a child seed
  // can be a task argument on a cluster. The pool is stored as is; reading
  // fails (DataLoss) for a pool of 1 to 3 words, which no sequence has (an
  // empty pool is a default-constructed sequence's).
  template <class Archive>
  void serialize(Archive& ar) {
    ar(entropy_, spawn_key_, n_children_spawned_, pool_);
    if constexpr (Archive::kIsLoading) {
      if (!pool_.empty() && pool_.size() < kDefaultPoolSize) {
        ar.Fail(
            absl::DataLossError("SeedSequence: pool of fewer than 4 words"));
      }
    }
  }

 private:
  void MixEntropy();

  std::vector<uint32_t> entropy_;
  std::vector<uint64_t> spawn_key_;
  uint64_t n_children_spawned_ = 0;
  std::vector<uint32_t> pool_;
};

// ---------------------------------------------------------------------------
// Seed
// ---------------------------------------------------------------------------

// The `seed` argument of PCG64, default_rng, Stream and JumpedStream: what
// `np.random.PCG64(seed)` and `np.random.default_rng(seed)` accept, converted
// implicitly, so that `default_rng(42)`, `PCG64(absl::MakeUint128(1ULL << 32,
// 12345))` (NumPy's `PCG64(2**96 + 12345)`) and `Stream(seed_seq, i)` read
// as they do in Python. Every form is turned into a SeedSequence, as NumPy
// does.
//
//   C++ argument                          NumPy argument
//   any SeedInteger n >= 0 (<= 128 bits)  the int n
//   std::vector<uint32_t> words           a uint32 array, or a list of ints
//                                         each below 2**32; if the last
//                                         word is not 0, also the int those
//                                         words make (least significant
//                                         first)
//   SeedSequence ss                       ss (spawn key, pool size and all)
//
// A negative integer throws std::invalid_argument (NumPy raises
// ValueError); bool, floating-point and string arguments do not compile
// (NumPy raises TypeError for floats and strings; for an int above 2**128
// pass its words, or a SeedSequence built from its decimal string).
//
// A plain value: copyable, serializable with weft/serialize.h (a task may
// take a Seed argument on a cluster), not thread-safe to mutate.
class Seed {
 public:
  // A non-negative integer. Throws std::invalid_argument if negative.
  template <SeedInteger T>
  Seed(T n)  // NOLINT(google-explicit-constructor): reads like NumPy.
      : seed_seq_(n) {}
  // An integer of any size, as its 32-bit words, least significant first.
  Seed(std::vector<uint32_t> entropy_words)  // NOLINT: implicit on purpose.
      : seed_seq_(std::move(entropy_words)) {}
  // A SeedSequence, used as is.
  Seed(SeedSequence seed_seq)  // NOLINT: implicit on purpose.
      : seed_seq_(std::move(seed_seq)) {}
  // An empty seed for deserialization (seeding from it throws
  // std::invalid_argument). Explicit, so `default_rng({})` does not compile.
  explicit Seed() = default;

  // The sequence the bit generator is seeded from.
  const SeedSequence& seed_sequence() const { return seed_seq_; }

  // Makes Seed serializable with weft/serialize.h: its SeedSequence.
  template <class Archive>
  void serialize(Archive& ar) {
    ar(seed_seq_);
  }

 private:
  SeedSequence seed_seq_;
};

// ---------------------------------------------------------------------------
// PCG64
// ---------------------------------------------------------------------------

// numpy.random.PCG64: a 128-bit LCG with NumPy's default multiplier and the
// XSL-RR output function, 64 bits per step. Satisfies
// std::uniform_random_bit_generator. Not thread-safe; use one per task.
class PCG64 {
 public:
  using result_type = uint64_t;

  // The full state, as NumPy's `PCG64.state` dict: the LCG state and
  // increment, and the buffered upper half of a 64-bit output used by
  // 32-bit draws.
  struct State {
    absl::uint128 state = 0;
    absl::uint128 inc = 0;
    bool has_uint32 = false;
    uint32_t uinteger = 0;
    friend bool operator==(const State&, const State&) = default;
  };

  // As `np.random.PCG64(seed)`: state and increment come from
  // `generate_state(4, np.uint64)` of the seed's SeedSequence. `seed` is an
  // integer, 32-bit words or a SeedSequence (see Seed). Throws
  // std::invalid_argument for a negative integer or an empty Seed.
  explicit PCG64(const Seed& seed);
  // Restores a state obtained from state().
  explicit PCG64(const State& state) { set_state(state); }
  // An all-zero state, for deserialization: assign or set_state() before
  // drawing from it.
  PCG64() = default;

  // Makes PCG64 serializable with weft/serialize.h (so a generator can be a
  // task argument on a cluster): the full State.
  template <class Archive>
  void serialize(Archive& ar) {
    State s = state();
    uint64_t state_hi = absl::Uint128High64(s.state);
    uint64_t state_lo = absl::Uint128Low64(s.state);
    uint64_t inc_hi = absl::Uint128High64(s.inc);
    uint64_t inc_lo = absl::Uint128Low64(s.inc);
    ar(state_hi, state_lo, inc_hi, inc_lo, s.has_uint32, s.uinteger);
    if constexpr (Archive::kIsLoading) {
      s.state = absl::MakeUint128(state_hi, state_lo);
      s.inc = absl::MakeUint128(inc_hi, inc_lo);
      set_state(s);
    }
  }

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() {
    return std::numeric_limits<uint64_t>::max();
  }

  // Next 64-bit output; identical to `PCG64.random_raw()`.
  result_type operator()() { return random_raw(); }
  result_type random_raw() {
    state_ = state_ * kMultiplier + inc_;
    return Output(state_);
  }
  // Fills `out` with successive random_raw() values (faster than a loop).
  void random_raw(std::span<uint64_t> out);

  // Next 32 bits as NumPy's bit generators produce them: the low half of a
  // fresh 64-bit output, then its buffered high half.
  uint32_t next_uint32() {
    if (has_uint32_) {
      has_uint32_ = false;
      return uinteger_;
    }
    const uint64_t next = random_raw();
    has_uint32_ = true;
    uinteger_ = static_cast<uint32_t>(next >> 32);
    return static_cast<uint32_t>(next);
  }

  // Advances the state as if `delta` (mod 2**128) outputs had been drawn, in
  // O(log delta), and clears the buffered 32-bit half (as NumPy's
  // `advance`). Returns *this.
  PCG64& advance(absl::uint128 delta);
  // Returns a copy advanced by jumps * 0x9e3779b97f4a7c15f39cc0605cedc835
  // ((phi - 1) * 2**128) steps, with no buffered 32-bit half; identical to
  // NumPy's `PCG64.jumped(jumps)`. *this is unchanged.
  PCG64 jumped(absl::uint128 jumps = 1) const;

  State state() const;
  void set_state(const State& state);

  // The jump size used by jumped().
  static constexpr absl::uint128 kJumpStep =
      absl::MakeUint128(0x9e3779b97f4a7c15ULL, 0xf39cc0605cedc835ULL);

 private:
  using U128 = unsigned __int128;
  static constexpr U128 kMultiplier =
      (static_cast<U128>(0x2360ed051fc65da4ULL) << 64) | 0x4385df649fccf645ULL;

  void SeedFrom(const SeedSequence& seed_seq);
  // XSL-RR: xor the halves, rotate right by the top 6 bits.
  static uint64_t Output(U128 state) {
    const uint64_t hi = static_cast<uint64_t>(state >> 64);
    const uint64_t x = hi ^ static_cast<uint64_t>(state);
    const unsigned rot = static_cast<unsigned>(hi >> 58);
    return (x >> rot) | (x << ((-rot) & 63u));
  }

  U128 state_ = 0;
  U128 inc_ = 0;
  bool has_uint32_ = false;
  uint32_t uinteger_ = 0;
};

// ---------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------

namespace internal {
// Ziggurat tables (NumPy's published 256-layer tables; ziggurat_tables.cc).
extern const uint64_t kNormalK[256];
extern const double kNormalW[256];
extern const double kNormalF[256];
extern const uint64_t kExpK[256];
extern const double kExpW[256];
extern const double kExpF[256];
inline constexpr double kNormalR = 3.6541528853610087963519472518;
inline constexpr double kNormalInvR = 0.27366123732975827203338247596;
inline constexpr double kExpR = 7.6971174701310497140446280481;

// Throws std::invalid_argument(what) unless `value` is NaN or has a clear
// sign bit (NumPy's CONS_NON_NEGATIVE).
void CheckNonNegative(double value, const char* what);
// Throws std::invalid_argument for integers() bounds NumPy rejects.
void ThrowBoundsError(bool endpoint);
}  // namespace internal

// A bit generator usable by Generator: PCG64, or anything with the same
// random_raw() / next_uint32() members.
template <typename B>
concept NumpyBitGenerator = requires(B b) {
  { b.random_raw() } -> std::same_as<uint64_t>;
  { b.next_uint32() } -> std::same_as<uint32_t>;
};

// numpy.random.Generator over a bit generator it owns. Each distribution has
// three forms, mirroring NumPy's `size=`: a scalar, a fill of a span, and a
// vector of `size` values; the array forms draw exactly what `size` scalar
// calls would. Not thread-safe; use one per task.
template <NumpyBitGenerator BitGen = PCG64>
class Generator {
 public:
  explicit Generator(BitGen bit_generator)
      : bit_generator_(std::move(bit_generator)) {}

  // The underlying bit generator (NumPy's `Generator.bit_generator`).
  BitGen& bit_generator() { return bit_generator_; }
  const BitGen& bit_generator() const { return bit_generator_; }

  // Uniform double in [0, 1) with 53 random bits: `Generator.random()`.
  double random() { return Random(Raw()); }
  void random(std::span<double> out) {
    FillBatched(out, [](auto& src) { return Random(src); });
  }
  std::vector<double> random(std::size_t size) {
    std::vector<double> out(size);
    random(out);
    return out;
  }

  // Standard normal via NumPy's 256-layer ziggurat:
  // `Generator.standard_normal()`.
  double standard_normal() { return StandardNormal(Raw()); }
  void standard_normal(std::span<double> out) {
    FillBatched(out, [](auto& src) { return StandardNormal(src); });
  }
  std::vector<double> standard_normal(std::size_t size) {
    std::vector<double> out(size);
    standard_normal(out);
    return out;
  }

  // loc + scale * standard_normal(): `Generator.normal(loc, scale)`.
  // Throws std::invalid_argument if scale is negative (or -0.0).
  double normal(double loc = 0.0, double scale = 1.0) {
    internal::CheckNonNegative(scale, "scale < 0");
    return loc + scale * standard_normal();
  }
  void normal(double loc, double scale, std::span<double> out) {
    internal::CheckNonNegative(scale, "scale < 0");
    FillBatched(out, [loc, scale](auto& src) {
      return loc + scale * StandardNormal(src);
    });
  }
  std::vector<double> normal(double loc, double scale, std::size_t size) {
    std::vector<double> out(size);
    normal(loc, scale, out);
    return out;
  }

  // low + (high - low) * random(): `Generator.uniform(low, high)`. Throws
  // std::invalid_argument if high - low is not finite or is negative.
  double uniform(double low = 0.0, double high = 1.0) {
    const double range = UniformRange(low, high);
    return low + range * random();
  }
  void uniform(double low, double high, std::span<double> out) {
    const double range = UniformRange(low, high);
    FillBatched(out, [low, range](auto& src) {
      return low + range * Random(src);
    });
  }
  std::vector<double> uniform(double low, double high, std::size_t size) {
    std::vector<double> out(size);
    uniform(low, high, out);
    return out;
  }

  // Uniform int64 in [low, high), or [low, high] if `endpoint`:
  // `Generator.integers(low, high, endpoint=endpoint)` with NumPy's default
  // Lemire rejection (ranges below 2**32 consume 32-bit halves). Throws
  // std::invalid_argument if the interval is empty.
  int64_t integers(int64_t low, int64_t high,
                   std::same_as<bool> auto endpoint) {
    int64_t out;
    integers(low, high, std::span<int64_t>(&out, 1), endpoint);
    return out;
  }
  int64_t integers(int64_t low, int64_t high) {
    return integers(low, high, false);
  }
  // `Generator.integers(high)`: [0, high).
  int64_t integers(int64_t high) { return integers(0, high, false); }
  void integers(int64_t low, int64_t high, std::span<int64_t> out,
                bool endpoint = false);
  std::vector<int64_t> integers(int64_t low, int64_t high, std::size_t size,
                                bool endpoint = false) {
    std::vector<int64_t> out(size);
    integers(low, high, out, endpoint);
    return out;
  }

  // Standard exponential via NumPy's ziggurat:
  // `Generator.standard_exponential()`.
  double standard_exponential() { return StandardExponential(Raw()); }
  void standard_exponential(std::span<double> out) {
    FillBatched(out, [](auto& src) { return StandardExponential(src); });
  }
  std::vector<double> standard_exponential(std::size_t size) {
    std::vector<double> out(size);
    standard_exponential(out);
    return out;
  }

 private:
  // A source of raw 64-bit outputs drawn one at a time.
  struct DirectRaw {
    BitGen& bg;
    uint64_t operator()() { return bg.random_raw(); }
  };
  DirectRaw Raw() { return DirectRaw{bit_generator_}; }

  // Serves the same raw outputs in the same order, drawn in blocks through
  // the bit generator's (faster) bulk random_raw. Finish() rewinds the bit
  // generator to just after the last output actually used.
  class BatchedRaw {
   public:
    explicit BatchedRaw(BitGen& bg) : bg_(bg), snapshot_(bg) {}
    uint64_t operator()() {
      if (pos_ == kBlock) Refill();
      return buf_[pos_++];
    }
    void Finish() {
      if (pos_ == kBlock) return;
      bg_ = snapshot_;
      for (std::size_t i = 0; i < pos_; ++i) bg_.random_raw();
    }

   private:
    static constexpr std::size_t kBlock = 256;
    void Refill() {
      snapshot_ = bg_;
      bg_.random_raw(std::span<uint64_t>(buf_, kBlock));
      pos_ = 0;
    }
    BitGen& bg_;
    BitGen snapshot_;
    std::size_t pos_ = kBlock;
    uint64_t buf_[kBlock];
  };

  // out[i] = draw(source) for each i, drawing raw outputs in blocks when
  // the bit generator supports bulk output and `out` is large.
  template <typename F>
  void FillBatched(std::span<double> out, F draw) {
    if constexpr (requires(BitGen& b, std::span<uint64_t> s) {
                    b.random_raw(s);
                  }) {
      if (out.size() >= 64) {
        BatchedRaw src(bit_generator_);
        for (double& x : out) x = draw(src);
        src.Finish();
        return;
      }
    }
    DirectRaw src = Raw();
    for (double& x : out) x = draw(src);
  }

  // The samplers, over any source of raw outputs (NumPy's distributions.c).
  template <typename Src>
  static double Random(Src&& src) {
    return ToDouble(src() >> 11) * (1.0 / 9007199254740992.0);
  }
  template <typename Src>
  static double StandardNormal(Src&& src);
  // Exact conversion of a value below 2**63 (a cheaper instruction sequence
  // than the general uint64_t -> double conversion).
  static double ToDouble(uint64_t v) {
    return static_cast<double>(static_cast<int64_t>(v));
  }
  template <typename Src>
  static double StandardExponential(Src&& src);

  static double UniformRange(double low, double high) {
    const double range = high - low;
    if (!std::isfinite(range)) {
      throw std::invalid_argument("high - low range exceeds valid bounds");
    }
    internal::CheckNonNegative(range, "high - low < 0");
    return range;
  }
  uint32_t BoundedLemire32(uint32_t rng);
  uint64_t BoundedLemire64(uint64_t rng);

  BitGen bit_generator_;
};

// As `np.random.default_rng(seed)`: Generator(PCG64(seed)). Throws as
// PCG64(seed).
Generator<PCG64> default_rng(const Seed& seed);

// The generator for task `task_index` of a parallel study seeded with
// `root_seed`: default_rng(root.Child(task_index)), where root is the
// seed's SeedSequence. For an integer or words seed that is identical to
//   np.random.default_rng(np.random.SeedSequence(root_seed)
//                         .spawn(task_index + 1)[task_index])
// and for a SeedSequence `ss` to
//   np.random.default_rng(np.random.SeedSequence(ss.entropy,
//       spawn_key=ss.spawn_key + (task_index,), pool_size=ss.pool_size))
// (so Stream(child, j) is a grandchild: streams nest). O(1), and a pure
// function of its arguments, so results are independent of cluster shape,
// scheduling order and retries. Streams of distinct indices are
// statistically independent. Throws as PCG64(root_seed).
Generator<PCG64> Stream(const Seed& root_seed, uint64_t task_index);

// The jump-ahead alternative: identical to
//   np.random.Generator(np.random.PCG64(root_seed).jumped(task_index))
// Task i's stream starts i * (phi - 1) * 2**128 steps into the root stream,
// so streams do not overlap for any practical number of draws. O(log) in the
// jump size, a pure function of its arguments, hence (like Stream)
// independent of cluster shape, scheduling order and retries. Throws as
// PCG64(root_seed).
Generator<PCG64> JumpedStream(const Seed& root_seed, uint64_t task_index);

// ---------------------------------------------------------------------------
// Implementation of the Generator templates.
// ---------------------------------------------------------------------------

template <NumpyBitGenerator BitGen>
template <typename Src>
double Generator<BitGen>::StandardNormal(Src&& src) {
  const uint64_t* const k = internal::kNormalK;
  const double* const w = internal::kNormalW;
  const double* const f = internal::kNormalF;
  constexpr double kR = internal::kNormalR;
  for (;;) {
    uint64_t r = src();
    const int idx = static_cast<int>(r & 0xff);
    r >>= 8;
    const uint64_t rabs = (r >> 1) & 0x000fffffffffffffULL;
    // Bit 8 of the draw is the sign: negate by flipping the sign bit, without
    // a branch (the result is the same as x = -x).
    const double x = std::bit_cast<double>(
        std::bit_cast<uint64_t>(ToDouble(rabs) * w[idx]) ^ (r << 63));
    if (rabs < k[idx]) return x;  // Inside the layer's rectangle.
    if (idx == 0) {
      // The base layer's tail beyond r, sampled with Marsaglia's method.
      for (;;) {
        const double xx = -internal::kNormalInvR * std::log1p(-Random(src));
        const double yy = -std::log1p(-Random(src));
        if (yy + yy > xx * xx) return ((rabs >> 8) & 1) ? -(kR + xx) : kR + xx;
      }
    }
    // The wedge between the rectangle and the density.
    if ((f[idx - 1] - f[idx]) * Random(src) + f[idx] <
        std::exp(-0.5 * x * x)) {
      return x;
    }
  }
}

template <NumpyBitGenerator BitGen>
template <typename Src>
double Generator<BitGen>::StandardExponential(Src&& src) {
  for (;;) {
    const uint64_t ri = src() >> 3;
    const int idx = static_cast<int>(ri & 0xff);
    const uint64_t u = ri >> 8;
    const double x = ToDouble(u) * internal::kExpW[idx];
    if (u < internal::kExpK[idx]) return x;
    if (idx == 0) return internal::kExpR - std::log1p(-Random(src));
    if ((internal::kExpF[idx - 1] - internal::kExpF[idx]) * Random(src) +
            internal::kExpF[idx] <
        std::exp(-x)) {
      return x;
    }
  }
}

template <NumpyBitGenerator BitGen>
uint32_t Generator<BitGen>::BoundedLemire32(uint32_t rng) {
  const uint32_t rng_excl = rng + 1;
  uint64_t m = uint64_t{bit_generator_.next_uint32()} * rng_excl;
  uint32_t leftover = static_cast<uint32_t>(m);
  if (leftover < rng_excl) {
    const uint32_t threshold = (UINT32_MAX - rng) % rng_excl;
    while (leftover < threshold) {
      m = uint64_t{bit_generator_.next_uint32()} * rng_excl;
      leftover = static_cast<uint32_t>(m);
    }
  }
  return static_cast<uint32_t>(m >> 32);
}

template <NumpyBitGenerator BitGen>
uint64_t Generator<BitGen>::BoundedLemire64(uint64_t rng) {
  using U128 = unsigned __int128;
  const uint64_t rng_excl = rng + 1;
  U128 m = static_cast<U128>(bit_generator_.random_raw()) * rng_excl;
  uint64_t leftover = static_cast<uint64_t>(m);
  if (leftover < rng_excl) {
    const uint64_t threshold = (UINT64_MAX - rng) % rng_excl;
    while (leftover < threshold) {
      m = static_cast<U128>(bit_generator_.random_raw()) * rng_excl;
      leftover = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

template <NumpyBitGenerator BitGen>
void Generator<BitGen>::integers(int64_t low, int64_t high,
                                 std::span<int64_t> out, bool endpoint) {
  if (!endpoint) {
    if (high == std::numeric_limits<int64_t>::min()) {
      internal::ThrowBoundsError(endpoint);
    }
    --high;  // NumPy samples the closed interval [low, high - 1].
  }
  if (low > high) internal::ThrowBoundsError(endpoint);
  const uint64_t rng = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  const uint64_t off = static_cast<uint64_t>(low);
  auto store = [&out](std::size_t i, uint64_t v) {
    out[i] = static_cast<int64_t>(v);
  };
  if (rng == 0) {
    for (std::size_t i = 0; i < out.size(); ++i) store(i, off);
  } else if (rng < 0xffffffffULL) {
    const uint32_t rng32 = static_cast<uint32_t>(rng);
    for (std::size_t i = 0; i < out.size(); ++i) {
      store(i, off + BoundedLemire32(rng32));
    }
  } else if (rng == 0xffffffffULL) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      store(i, off + bit_generator_.next_uint32());
    }
  } else if (rng == UINT64_MAX) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      store(i, off + bit_generator_.random_raw());
    }
  } else {
    for (std::size_t i = 0; i < out.size(); ++i) {
      store(i, off + BoundedLemire64(rng));
    }
  }
}

}  // namespace weft::random

#endif  // WEFT_RANDOM_H_
