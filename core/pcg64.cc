// numpy.random.PCG64 (XSL-RR 128/64), its seeding from a SeedSequence, and
// the default_rng / per-task stream helpers.

#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include "absl/numeric/int128.h"
#include "weft/random.h"

namespace weft::random {
namespace {

using U128 = unsigned __int128;

U128 ToU128(absl::uint128 v) {
  return (static_cast<U128>(absl::Uint128High64(v)) << 64) |
         absl::Uint128Low64(v);
}

absl::uint128 FromU128(U128 v) {
  return absl::MakeUint128(static_cast<uint64_t>(v >> 64),
                           static_cast<uint64_t>(v));
}

}  // namespace

PCG64::PCG64(const Seed& seed) { SeedFrom(seed.seed_sequence()); }

void PCG64::SeedFrom(const SeedSequence& seed_seq) {
  // NumPy: val = generate_state(4, uint64); initstate = val[0]:val[1],
  // initseq = val[2]:val[3] (high word first), then PCG's srandom.
  const std::vector<uint64_t> v = seed_seq.generate_state64(4);
  const U128 initstate = (static_cast<U128>(v[0]) << 64) | v[1];
  const U128 initseq = (static_cast<U128>(v[2]) << 64) | v[3];
  state_ = 0;
  inc_ = (initseq << 1) | 1;
  state_ = state_ * kMultiplier + inc_;
  state_ += initstate;
  state_ = state_ * kMultiplier + inc_;
  has_uint32_ = false;
  uinteger_ = 0;
}

void PCG64::random_raw(std::span<uint64_t> out) {
  // Four interleaved LCG lanes, each stepping 4 at a time, break the serial
  // dependency on the 128-bit multiply; the outputs are exactly those of
  // repeated random_raw() calls.
  const std::size_t n = out.size();
  std::size_t i = 0;
  if (n >= 8) {
    constexpr U128 kMult2 = kMultiplier * kMultiplier;
    constexpr U128 kMult4 = kMult2 * kMult2;
    const U128 inc2 = (kMultiplier + 1) * inc_;
    const U128 inc4 = (kMult2 + 1) * inc2;
    U128 s0 = state_ * kMultiplier + inc_;
    U128 s1 = s0 * kMultiplier + inc_;
    U128 s2 = s1 * kMultiplier + inc_;
    U128 s3 = s2 * kMultiplier + inc_;
    U128 last = state_;
    for (; i + 4 <= n; i += 4) {
      out[i] = Output(s0);
      out[i + 1] = Output(s1);
      out[i + 2] = Output(s2);
      out[i + 3] = Output(s3);
      last = s3;
      s0 = s0 * kMult4 + inc4;
      s1 = s1 * kMult4 + inc4;
      s2 = s2 * kMult4 + inc4;
      s3 = s3 * kMult4 + inc4;
    }
    state_ = last;
  }
  for (; i < n; ++i) out[i] = random_raw();
}

PCG64& PCG64::advance(absl::uint128 delta_in) {
  // Brown's O(log n) LCG jump: compose the affine map x -> a*x + c with
  // itself by repeated squaring.
  U128 delta = ToU128(delta_in);
  U128 cur_mult = kMultiplier;
  U128 cur_plus = inc_;
  U128 acc_mult = 1;
  U128 acc_plus = 0;
  while (delta > 0) {
    if (delta & 1) {
      acc_mult *= cur_mult;
      acc_plus = acc_plus * cur_mult + cur_plus;
    }
    cur_plus = (cur_mult + 1) * cur_plus;
    cur_mult *= cur_mult;
    delta >>= 1;
  }
  state_ = acc_mult * state_ + acc_plus;
  has_uint32_ = false;
  uinteger_ = 0;
  return *this;
}

PCG64 PCG64::jumped(absl::uint128 jumps) const {
  PCG64 copy = *this;
  copy.advance(kJumpStep * jumps);  // Wraps mod 2**128 like NumPy.
  return copy;
}

PCG64::State PCG64::state() const {
  return State{FromU128(state_), FromU128(inc_), has_uint32_, uinteger_};
}

void PCG64::set_state(const State& state) {
  state_ = ToU128(state.state);
  inc_ = ToU128(state.inc);
  has_uint32_ = state.has_uint32;
  uinteger_ = state.uinteger;
}

namespace internal {

void CheckNonNegative(double value, const char* what) {
  if (!std::isnan(value) && std::signbit(value)) {
    throw std::invalid_argument(what);
  }
}

void ThrowBoundsError(bool endpoint) {
  throw std::invalid_argument(endpoint ? "low > high" : "low >= high");
}

}  // namespace internal

Generator<PCG64> default_rng(const Seed& seed) {
  return Generator<PCG64>(PCG64(seed));
}

Generator<PCG64> Stream(const Seed& root_seed, uint64_t task_index) {
  return default_rng(root_seed.seed_sequence().Child(task_index));
}

Generator<PCG64> JumpedStream(const Seed& root_seed, uint64_t task_index) {
  return Generator<PCG64>(PCG64(root_seed).jumped(task_index));
}

}  // namespace weft::random
