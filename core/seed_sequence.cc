// numpy.random.SeedSequence, implemented from its published algorithm
// (Robert O'Neill's seed_seq hash mixing, as adapted by NumPy).

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "weft/random.h"

namespace weft::random {
namespace {

constexpr uint32_t kInitA = 0x43b0d7e5;
constexpr uint32_t kMultA = 0x931e8875;
constexpr uint32_t kInitB = 0x8b51f9dd;
constexpr uint32_t kMultB = 0x58f38ded;
constexpr uint32_t kMixMultL = 0xca01f9dd;
constexpr uint32_t kMixMultR = 0x4973f715;
constexpr int kXShift = 16;

// Hashes `value` with a multiplier that evolves on every call.
uint32_t HashMix(uint32_t value, uint32_t& hash_const) {
  value ^= hash_const;
  hash_const *= kMultA;
  value *= hash_const;
  value ^= value >> kXShift;
  return value;
}

uint32_t Mix(uint32_t x, uint32_t y) {
  uint32_t result = kMixMultL * x - kMixMultR * y;
  result ^= result >> kXShift;
  return result;
}

// Appends a non-negative integer as NumPy does: 32-bit words, least
// significant first; zero is one word.
void AppendWords(absl::uint128 n, std::vector<uint32_t>& out) {
  if (n == 0) {
    out.push_back(0);
    return;
  }
  while (n > 0) {
    out.push_back(static_cast<uint32_t>(absl::Uint128Low64(n)));
    n >>= 32;
  }
}

// Parses a decimal string into 32-bit words, least significant first.
std::vector<uint32_t> ParseDecimal(std::string_view decimal) {
  if (decimal.empty()) {
    throw std::invalid_argument("SeedSequence: empty decimal entropy");
  }
  std::vector<uint32_t> words;  // Little-endian magnitude, no leading zeros.
  for (char c : decimal) {
    if (c < '0' || c > '9') {
      throw std::invalid_argument("SeedSequence: unrecognized seed string");
    }
    uint64_t carry = static_cast<uint64_t>(c - '0');
    for (uint32_t& w : words) {
      const uint64_t v = uint64_t{w} * 10 + carry;
      w = static_cast<uint32_t>(v);
      carry = v >> 32;
    }
    if (carry != 0) words.push_back(static_cast<uint32_t>(carry));
  }
  if (words.empty()) words.push_back(0);
  return words;
}

void ThrowIfEmpty(const std::vector<uint32_t>& pool) {
  if (pool.empty()) {
    throw std::invalid_argument(
        "SeedSequence: default-constructed (empty); assign a seeded sequence "
        "before use");
  }
}

}  // namespace

namespace internal {

std::vector<uint32_t> IntegerWords(absl::uint128 n) {
  std::vector<uint32_t> out;
  AppendWords(n, out);
  return out;
}

}  // namespace internal

SeedSequence::SeedSequence(std::string_view decimal,
                           std::vector<uint64_t> spawn_key,
                           std::size_t pool_size, uint64_t n_children_spawned)
    : SeedSequence(ParseDecimal(decimal), std::move(spawn_key), pool_size,
                   n_children_spawned) {}

SeedSequence::SeedSequence(std::vector<uint32_t> entropy_words,
                           std::vector<uint64_t> spawn_key,
                           std::size_t pool_size, uint64_t n_children_spawned)
    : entropy_(std::move(entropy_words)),
      spawn_key_(std::move(spawn_key)),
      n_children_spawned_(n_children_spawned) {
  if (pool_size < kDefaultPoolSize) {
    throw std::invalid_argument(
        "SeedSequence: the size of the entropy pool should be at least 4");
  }
  pool_.assign(pool_size, 0);
  MixEntropy();
}

SeedSequence SeedSequence::FromIntegers(std::span<const uint64_t> entropy,
                                        std::vector<uint64_t> spawn_key,
                                        std::size_t pool_size) {
  std::vector<uint32_t> words;
  for (uint64_t n : entropy) AppendWords(n, words);
  return SeedSequence(std::move(words), std::move(spawn_key), pool_size);
}

void SeedSequence::MixEntropy() {
  // Assemble the entropy: run entropy, zero-padded to the pool size when a
  // spawn key follows (NumPy >= 1.19, gh-16539), then the spawn key words.
  std::vector<uint32_t> assembled = entropy_;
  std::vector<uint32_t> key_words;
  for (uint64_t k : spawn_key_) AppendWords(k, key_words);
  if (!key_words.empty() && assembled.size() < pool_.size()) {
    assembled.resize(pool_.size(), 0);
  }
  assembled.insert(assembled.end(), key_words.begin(), key_words.end());

  const std::size_t n = pool_.size();
  uint32_t hash_const = kInitA;
  for (std::size_t i = 0; i < n; ++i) {
    pool_[i] = HashMix(i < assembled.size() ? assembled[i] : 0, hash_const);
  }
  for (std::size_t src = 0; src < n; ++src) {
    for (std::size_t dst = 0; dst < n; ++dst) {
      if (src != dst) {
        pool_[dst] = Mix(pool_[dst], HashMix(pool_[src], hash_const));
      }
    }
  }
  for (std::size_t src = n; src < assembled.size(); ++src) {
    for (std::size_t dst = 0; dst < n; ++dst) {
      pool_[dst] = Mix(pool_[dst], HashMix(assembled[src], hash_const));
    }
  }
}

std::vector<uint32_t> SeedSequence::generate_state(std::size_t n_words) const {
  ThrowIfEmpty(pool_);
  std::vector<uint32_t> state(n_words);
  uint32_t hash_const = kInitB;
  for (std::size_t i = 0; i < n_words; ++i) {
    uint32_t v = pool_[i % pool_.size()];
    v ^= hash_const;
    hash_const *= kMultB;
    v *= hash_const;
    v ^= v >> kXShift;
    state[i] = v;
  }
  return state;
}

std::vector<uint64_t> SeedSequence::generate_state64(
    std::size_t n_words) const {
  const std::vector<uint32_t> words = generate_state(2 * n_words);
  std::vector<uint64_t> state(n_words);
  for (std::size_t i = 0; i < n_words; ++i) {
    state[i] = uint64_t{words[2 * i]} | (uint64_t{words[2 * i + 1]} << 32);
  }
  return state;
}

std::vector<SeedSequence> SeedSequence::spawn(std::size_t n) {
  std::vector<SeedSequence> children;
  children.reserve(n);
  for (uint64_t i = n_children_spawned_; i < n_children_spawned_ + n; ++i) {
    children.push_back(Child(i));
  }
  n_children_spawned_ += n;
  return children;
}

SeedSequence SeedSequence::Child(uint64_t k) const {
  ThrowIfEmpty(pool_);
  std::vector<uint64_t> key = spawn_key_;
  key.push_back(k);
  return SeedSequence(entropy_, std::move(key), pool_.size());
}

}  // namespace weft::random
