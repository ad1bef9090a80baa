// Integrity of a program file's bytes (docs/format.md, "Integrity"): the
// checksum footer over the metadata, each segment's CRC-32, and zero padding
// everywhere else, so a single flipped bit anywhere in a checksummed file is
// an error at load, never different numbers.
#include <cstdio>
#include <cstring>

#include "program_generated.h"
#include "wick/runtime/checksum.h"
#include "wick/runtime/program.h"

namespace wick {
namespace {

constexpr size_t kFooterSize = 16;
constexpr char kFooterMagic[4] = {'W', 'K', 'C', 'K'};

uint64_t read_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

bool has_footer(const uint8_t* bytes, size_t size) {
  return size >= kFooterSize && std::memcmp(bytes + size - kFooterSize, kFooterMagic, 4) == 0;
}

// What segment `index` holds, for messages: the first user found.
void describe_segment(const fb::Program* program, uint32_t index, char* out, size_t capacity) {
  std::snprintf(out, capacity, "used by no method");
  for (uint32_t m = 0; m < program->methods()->size(); ++m) {
    const fb::Method* method = program->methods()->Get(m);
    const auto* delegates = method->delegates();
    for (uint32_t d = 0; delegates != nullptr && d < delegates->size(); ++d) {
      if (delegates->Get(d)->segment() != index) continue;
      std::snprintf(out, capacity, "the blob of delegate %u, backend '%s', of method '%s'", d,
                    delegates->Get(d)->backend()->c_str(), method->name()->c_str());
      return;
    }
    const auto* values = method->values();
    for (uint32_t v = 0; v < values->size(); ++v) {
      const fb::Tensor* t = values->Get(v)->kind_as_Tensor();
      if (t == nullptr || t->constant_segment() != static_cast<int32_t>(index)) continue;
      std::snprintf(out, capacity, "constant tensors of method '%s'", method->name()->c_str());
      return;
    }
  }
}

Error corrupt_padding(uint64_t offset, const char* where) {
  return fail(Error::InvalidProgram,
              "program file is corrupt: byte %llu (padding %s) is not zero; export or copy the file again",
              static_cast<unsigned long long>(offset), where);
}

}  // namespace

Error verify_metadata_checksum(const uint8_t* bytes, size_t size, bool verify_checksums) {
  if (!has_footer(bytes, size)) return Error::Ok;  // an unverified file, or one whose footer is gone (checked later)
  const uint8_t* footer = bytes + size - kFooterSize;
  const uint64_t covered = read_le(footer + 8, 8);
  if (covered < 8 || covered > size - kFooterSize) {
    return fail(Error::InvalidProgram,
                "program file is corrupt: its checksum footer covers %llu bytes of a %zu-byte file",
                static_cast<unsigned long long>(covered), size);
  }
  if (!verify_checksums) return Error::Ok;
  const uint32_t recorded = static_cast<uint32_t>(read_le(footer + 4, 4));
  const uint32_t actual = crc32(bytes, static_cast<size_t>(covered));
  if (actual != recorded) {
    return fail(Error::InvalidProgram,
                "program file is corrupt: its metadata (bytes 0 to %llu) fail their checksum (CRC-32 %08x, the file "
                "records %08x); the file was damaged after export: export or copy it again",
                static_cast<unsigned long long>(covered), actual, recorded);
  }
  return Error::Ok;
}

Error verify_segment_checksums(const uint8_t* bytes, size_t size, const fb::Program* program, bool verify_checksums) {
  const bool footer = has_footer(bytes, size);
  if (program->checksum() == fb::ChecksumKind::Unverified) {
    if (footer) {
      return fail(Error::InvalidProgram,
                  "program file is corrupt: it ends with a checksum footer but its header declares no checksums");
    }
    return Error::Ok;  // written before checksums: loaded unverified (docs/format.md)
  }
  if (program->checksum() != fb::ChecksumKind::Crc32) {
    return fail(Error::InvalidProgram,
                "program file uses checksum kind %u, which this runtime does not know (it reads CRC-32, kind 1); the "
                "file is corrupt or comes from a newer Wick",
                static_cast<unsigned>(program->checksum()));
  }
  if (!footer) {
    return fail(Error::InvalidProgram,
                "program file is corrupt or truncated: it declares checksums but does not end with the 16-byte "
                "checksum footer");
  }
  const uint64_t base = program->segment_base();
  const uint64_t footer_at = size - kFooterSize;
  if (read_le(bytes + footer_at + 8, 8) != base) {
    return fail(Error::InvalidProgram,
                "program file is corrupt: its checksum footer covers %llu bytes, but segments start at %llu",
                static_cast<unsigned long long>(read_le(bytes + footer_at + 8, 8)),
                static_cast<unsigned long long>(base));
  }
  if (base > footer_at) return fail(Error::InvalidProgram, "program file is corrupt: segments start inside its footer");
  // Segments in file order; every byte between them (and up to the footer)
  // is zero, so no byte of the file escapes a check.
  uint64_t cursor = base;
  const uint32_t count = program->segments() != nullptr ? program->segments()->size() : 0;
  for (uint32_t i = 0; i < count; ++i) {
    const fb::Segment* seg = program->segments()->Get(i);
    const uint64_t start = base + seg->offset();
    if (start < cursor) {
      return fail(Error::InvalidProgram, "program file is corrupt: segment %u overlaps the one before it", i);
    }
    const uint64_t end = start + seg->size();  // verify_program checked it lies inside the file
    if (end > footer_at) {
      return fail(Error::InvalidProgram, "program file is corrupt or truncated: segment %u runs into the footer", i);
    }
    for (uint64_t b = cursor; b < start; ++b) {
      if (bytes[b] != 0) return corrupt_padding(b, "before a segment");
    }
    if (verify_checksums) {
      const uint32_t actual = crc32(bytes + start, static_cast<size_t>(seg->size()));
      if (actual != seg->crc32()) {
        char what[256];
        describe_segment(program, i, what, sizeof(what));
        return fail(Error::InvalidProgram,
                    "program file is corrupt: segment %u (%s) fails its checksum (CRC-32 %08x, the file records "
                    "%08x); the file was damaged after export: export or copy it again",
                    i, what, actual, seg->crc32());
      }
    }
    cursor = end;
  }
  for (uint64_t b = cursor; b < footer_at; ++b) {
    if (bytes[b] != 0) return corrupt_padding(b, "before the footer");
  }
  return Error::Ok;
}

}  // namespace wick
