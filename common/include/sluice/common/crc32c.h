// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by Kafka's record
// batch v2. Uses the SSE4.2 crc32 instruction when the CPU has it, else a table.
// Thread-safety: all functions are safe to call concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sluice {

// Continues a CRC: crc32c_extend(crc32c(a), b) == crc32c(a ++ b). Start with 0.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size);

inline uint32_t crc32c(std::span<const std::byte> data) { return crc32c_extend(0, data.data(), data.size()); }

// The table-driven implementation, exposed so tests can compare it with the hardware path.
uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t size);

// True when crc32c_extend uses the SSE4.2 instruction.
bool crc32c_uses_hardware();

}  // namespace sluice
