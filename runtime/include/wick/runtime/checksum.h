// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320: zlib's crc32), the
// checksum of program segments. Any single flipped bit, and any burst of up
// to 32 bits, changes it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wick {

// CRC-32 of `size` bytes, continuing from `crc` (0 to start), so
// crc32(b, crc32(a)) == crc32(a + b), as zlib.crc32 in Python.
uint32_t crc32(const void* data, size_t size, uint32_t crc = 0);

}  // namespace wick
