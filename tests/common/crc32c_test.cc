#include "sluice/common/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

namespace sluice {
namespace {

std::vector<uint8_t> filled(size_t n, uint8_t value) { return std::vector<uint8_t>(n, value); }

uint32_t hw(const std::vector<uint8_t>& v) { return crc32c_extend(0, v.data(), v.size()); }
uint32_t portable(const std::vector<uint8_t>& v) { return crc32c_extend_portable(0, v.data(), v.size()); }

// RFC 3720 (iSCSI), appendix B.4: CRC-32C test vectors.
TEST(Crc32c, Rfc3720ThirtyTwoZeroBytes) {
  auto data = filled(32, 0x00);
  EXPECT_EQ(hw(data), 0x8A9136AAu);
  EXPECT_EQ(portable(data), 0x8A9136AAu);
}

TEST(Crc32c, Rfc3720ThirtyTwoOnesBytes) {
  auto data = filled(32, 0xFF);
  EXPECT_EQ(hw(data), 0x62A8AB43u);
  EXPECT_EQ(portable(data), 0x62A8AB43u);
}

TEST(Crc32c, Rfc3720AscendingBytes) {
  std::vector<uint8_t> data(32);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(hw(data), 0x46DD794Eu);
  EXPECT_EQ(portable(data), 0x46DD794Eu);
}

TEST(Crc32c, Rfc3720DescendingBytes) {
  std::vector<uint8_t> data(32);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(hw(data), 0x113FDB5Cu);
  EXPECT_EQ(portable(data), 0x113FDB5Cu);
}

TEST(Crc32c, CheckValueOfDigitString) {
  std::string_view s = "123456789";
  EXPECT_EQ(crc32c_extend(0, s.data(), s.size()), 0xE3069283u);
  EXPECT_EQ(crc32c_extend_portable(0, s.data(), s.size()), 0xE3069283u);
  EXPECT_EQ(crc32c(std::as_bytes(std::span(s.data(), s.size()))), 0xE3069283u);
}

TEST(Crc32c, EmptyInputIsZeroAndExtendOfEmptyKeepsCrc) {
  EXPECT_EQ(crc32c_extend(0, nullptr, 0), 0u);
  EXPECT_EQ(crc32c_extend_portable(0, nullptr, 0), 0u);
  EXPECT_EQ(crc32c_extend(0xE3069283u, nullptr, 0), 0xE3069283u);
  EXPECT_EQ(crc32c_extend_portable(0xE3069283u, nullptr, 0), 0xE3069283u);
}

TEST(Crc32c, ReportsWhetherHardwareIsUsed) {
  // Informational: the comparison tests below only exercise two paths with hardware.
  RecordProperty("hardware", crc32c_uses_hardware() ? "yes" : "no");
}

// The hardware path has alignment prologue, 3-way blocks of 8192 and 256 bytes, an
// 8-byte loop and a byte tail; compare it with the table for lengths that cross each.
TEST(Crc32c, HardwareMatchesPortableForManyLengthsAndMisalignments) {
  std::mt19937_64 rng(12345);
  constexpr size_t kMax = 100000;
  std::vector<uint8_t> buffer(kMax + 16);
  for (auto& b : buffer) b = static_cast<uint8_t>(rng());

  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 80; ++n) lengths.push_back(n);
  for (size_t block : {size_t{256}, size_t{8192}}) {
    for (size_t k : {size_t{1}, size_t{2}, size_t{3}, size_t{4}, size_t{6}, size_t{7}}) {
      for (int d = -9; d <= 9; ++d) lengths.push_back(static_cast<size_t>(static_cast<long>(k * block) + d));
    }
  }
  for (size_t n : {size_t{4095}, size_t{4096}, size_t{65536}, size_t{99999}, kMax}) lengths.push_back(n);
  std::uniform_int_distribution<size_t> any_length(0, kMax);
  for (int i = 0; i < 200; ++i) lengths.push_back(any_length(rng));

  std::uniform_int_distribution<uint32_t> any_crc;
  for (size_t len : lengths) {
    for (size_t misalign = 0; misalign < 16; ++misalign) {
      const uint8_t* p = buffer.data() + misalign;
      uint32_t seed = (misalign % 2 == 0) ? 0 : any_crc(rng);
      ASSERT_EQ(crc32c_extend(seed, p, len), crc32c_extend_portable(seed, p, len))
          << "length " << len << ", misalignment " << misalign << ", seed " << seed;
    }
  }
}

TEST(Crc32c, ExtendChainsLikeOneCall) {
  std::mt19937_64 rng(777);
  std::vector<uint8_t> data(70000);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  const uint32_t whole = crc32c_extend(0, data.data(), data.size());
  ASSERT_EQ(whole, crc32c_extend_portable(0, data.data(), data.size()));

  std::uniform_int_distribution<size_t> cut(0, data.size());
  for (int i = 0; i < 50; ++i) {
    size_t a = cut(rng);
    size_t b = cut(rng);
    if (a > b) std::swap(a, b);
    uint32_t crc = crc32c_extend(0, data.data(), a);
    crc = crc32c_extend(crc, data.data() + a, b - a);
    crc = crc32c_extend(crc, data.data() + b, data.size() - b);
    EXPECT_EQ(crc, whole) << "cuts at " << a << " and " << b;

    uint32_t pcrc = crc32c_extend_portable(0, data.data(), a);
    pcrc = crc32c_extend(pcrc, data.data() + a, b - a);  // mixing implementations is fine
    pcrc = crc32c_extend_portable(pcrc, data.data() + b, data.size() - b);
    EXPECT_EQ(pcrc, whole) << "cuts at " << a << " and " << b;
  }
}

TEST(Crc32c, ExtendOneByteAtATimeMatchesDigitString) {
  std::string_view s = "123456789";
  uint32_t crc = 0;
  for (char c : s) crc = crc32c_extend(crc, &c, 1);
  EXPECT_EQ(crc, 0xE3069283u);
}

TEST(Crc32c, SingleBitFlipChangesCrc) {
  std::vector<uint8_t> data(1024, 0x5A);
  const uint32_t before = hw(data);
  for (size_t i = 0; i < data.size(); i += 97) {
    for (int bit = 0; bit < 8; ++bit) {
      data[i] ^= static_cast<uint8_t>(1u << bit);
      EXPECT_NE(hw(data), before) << "byte " << i << " bit " << bit;
      data[i] ^= static_cast<uint8_t>(1u << bit);
    }
  }
  EXPECT_EQ(hw(data), before);
}

}  // namespace
}  // namespace sluice
