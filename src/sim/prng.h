// Small deterministic pseudo-random numbers for the simulator.
//
// std:: distributions may produce different values on another libstdc++ version, and the
// simulator promises byte-identical payloads for the same seed. So the generator
// (xoshiro256**, seeded through splitmix64) and every distribution here use only integer
// arithmetic and IEEE +, -, *, / (no libm), which give the same results everywhere.
// Not thread-safe: one Rng per owner.
#pragma once

#include <array>
#include <cstdint>

namespace vigil::sim {

// splitmix64: turns any 64-bit value into a well-mixed one (seeding, hashing).
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// FNV-1a, for deriving per-machine seeds from ids.
inline uint64_t Fnv1a(const char* data, size_t n) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 0x100000001B3ULL;
  }
  return h;
}

class Rng {
 public:
  Rng() : Rng(0) {}
  explicit Rng(uint64_t seed) {
    uint64_t sm = seed;
    for (uint64_t& w : s_) w = SplitMix64(sm);
  }

  uint64_t Next() {  // xoshiro256**
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1), 53 bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n), n > 0 (the tiny modulo bias is irrelevant here).
  uint64_t Below(uint64_t n) { return Next() % n; }
  // Approximately standard normal: a sum of four uniforms, scaled to unit variance.
  // Bounded to +-3.46, which keeps noise from producing absurd outliers.
  double Normal() {
    double sum = Uniform() + Uniform() + Uniform() + Uniform();
    return (sum - 2.0) * 1.7320508075688772;  // variance of the sum is 4/12
  }

  const std::array<uint64_t, 4>& state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_;
};

// sin(x) without libm: range reduction to [-pi, pi] and a Taylor polynomial (error < 1e-6
// there), so the daily temperature cycle is the same on every machine.
double DeterministicSin(double x);

}  // namespace vigil::sim
