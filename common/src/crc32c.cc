#include "sluice/common/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#endif

namespace sluice {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;  // reflected Castagnoli

constexpr std::array<uint32_t, 256> make_byte_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t crc = n;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ kPolynomial : crc >> 1;
    table[n] = crc;
  }
  return table;
}

constexpr auto kByteTable = make_byte_table();

#if defined(__x86_64__)

// The hardware path runs three independent crc32 chains over adjacent blocks (the
// instruction has a 3-cycle latency but a 1-cycle throughput) and combines them by
// "shifting" a CRC over a block of zeros with a precomputed GF(2) operator, after
// Mark Adler's public-domain crc32c.c.
constexpr size_t kLongBlock = 8192;
constexpr size_t kShortBlock = 256;

using ShiftTable = std::array<std::array<uint32_t, 256>, 4>;

uint32_t gf2_matrix_times(const uint32_t* mat, uint32_t vec) {
  uint32_t sum = 0;
  while (vec) {
    if (vec & 1) sum ^= *mat;
    vec >>= 1;
    ++mat;
  }
  return sum;
}

void gf2_matrix_square(uint32_t* square, const uint32_t* mat) {
  for (int n = 0; n < 32; ++n) square[n] = gf2_matrix_times(mat, mat[n]);
}

// Operator that appends `len` zero bytes to a CRC register. REQUIRES: len is a power of two.
void zeros_operator(uint32_t* even, size_t len) {
  uint32_t odd[32];
  odd[0] = kPolynomial;
  uint32_t row = 1;
  for (int n = 1; n < 32; ++n) {
    odd[n] = row;
    row <<= 1;
  }
  gf2_matrix_square(even, odd);  // 2 zero bits
  gf2_matrix_square(odd, even);  // 4 zero bits
  do {
    gf2_matrix_square(even, odd);
    len >>= 1;
    if (len == 0) return;
    gf2_matrix_square(odd, even);
    len >>= 1;
  } while (len);
  std::memcpy(even, odd, sizeof(odd));
}

ShiftTable make_shift_table(size_t len) {
  uint32_t op[32];
  zeros_operator(op, len);
  ShiftTable table{};
  for (uint32_t n = 0; n < 256; ++n) {
    table[0][n] = gf2_matrix_times(op, n);
    table[1][n] = gf2_matrix_times(op, n << 8);
    table[2][n] = gf2_matrix_times(op, n << 16);
    table[3][n] = gf2_matrix_times(op, n << 24);
  }
  return table;
}

uint32_t shift(const ShiftTable& t, uint32_t crc) {
  return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

const ShiftTable& long_shift() {
  static const ShiftTable kTable = make_shift_table(kLongBlock);
  return kTable;
}
const ShiftTable& short_shift() {
  static const ShiftTable kTable = make_shift_table(kShortBlock);
  return kTable;
}

uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

__attribute__((target("sse4.2"))) uint64_t three_way(const unsigned char*& next, size_t& len, uint64_t crc0,
                                                     size_t block, const ShiftTable& table) {
  while (len >= 3 * block) {
    uint64_t crc1 = 0;
    uint64_t crc2 = 0;
    const unsigned char* end = next + block;
    do {
      crc0 = _mm_crc32_u64(crc0, load64(next));
      crc1 = _mm_crc32_u64(crc1, load64(next + block));
      crc2 = _mm_crc32_u64(crc2, load64(next + 2 * block));
      next += 8;
    } while (next < end);
    crc0 = shift(table, static_cast<uint32_t>(crc0)) ^ crc1;
    crc0 = shift(table, static_cast<uint32_t>(crc0)) ^ crc2;
    next += 2 * block;
    len -= 3 * block;
  }
  return crc0;
}

__attribute__((target("sse4.2"))) uint32_t extend_hardware(uint32_t crc, const void* data, size_t len) {
  auto next = static_cast<const unsigned char*>(data);
  uint64_t crc0 = ~crc;
  while (len && (reinterpret_cast<uintptr_t>(next) & 7) != 0) {
    crc0 = _mm_crc32_u8(static_cast<uint32_t>(crc0), *next++);
    --len;
  }
  crc0 = three_way(next, len, crc0, kLongBlock, long_shift());
  crc0 = three_way(next, len, crc0, kShortBlock, short_shift());
  while (len >= 8) {
    crc0 = _mm_crc32_u64(crc0, load64(next));
    next += 8;
    len -= 8;
  }
  while (len) {
    crc0 = _mm_crc32_u8(static_cast<uint32_t>(crc0), *next++);
    --len;
  }
  return ~static_cast<uint32_t>(crc0);
}

bool cpu_has_sse42() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx & bit_SSE4_2) != 0;
}

const bool kHasHardware = cpu_has_sse42();

#else
const bool kHasHardware = false;
uint32_t extend_hardware(uint32_t crc, const void* data, size_t len) { return crc32c_extend_portable(crc, data, len); }
#endif

}  // namespace

uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t size) {
  auto p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = kByteTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size) {
  return kHasHardware ? extend_hardware(crc, data, size) : crc32c_extend_portable(crc, data, size);
}

bool crc32c_uses_hardware() { return kHasHardware; }

}  // namespace sluice
