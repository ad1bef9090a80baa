#include "wick/runtime/program.h"

#include <cstring>

#include "program_generated.h"

namespace wick {

Error Program::load(const void* data, size_t size, Program* out, const ProgramLoadOptions& load_options) {
  *out = Program{};
  if (data == nullptr) return fail(Error::InvalidArgument, "program data is null");
  const uint8_t* bytes = static_cast<const uint8_t*>(data);
  // Flatbuffers addresses the buffer with 32-bit offsets and expects the
  // root to be 4-byte aligned; check both before handing it the bytes.
  if (size < 8) return fail(Error::InvalidProgram, "file of %zu bytes is too small to be a Wick program", size);
  if (reinterpret_cast<uintptr_t>(bytes) % 8 != 0) {
    return fail(Error::InvalidArgument, "program buffer must be 8-byte aligned");
  }
  if (!fb::ProgramBufferHasIdentifier(bytes)) {
    char id[5] = {0};
    for (int i = 0; i < 4; ++i) {
      char c = static_cast<char>(bytes[4 + i]);
      id[i] = (c >= 32 && c < 127) ? c : '?';
    }
    return fail(Error::InvalidProgram, "not a Wick program: file identifier is '%s', expected '%s'", id,
                fb::ProgramIdentifier());
  }
  // A damaged file is reported as such before the flatbuffer verifier sees it.
  WICK_TRY(verify_metadata_checksum(bytes, size, load_options.verify_checksums));
  // The flatbuffer occupies the front of the file; segments follow it. The
  // verifier gets the whole file as its bound: offsets past it are rejected.
  flatbuffers::Verifier::Options options;
  options.max_depth = 32;
  options.max_tables = 10000000;
  flatbuffers::Verifier verifier(bytes, size, options);
  if (!fb::VerifyProgramBuffer(verifier)) {
    return fail(Error::InvalidProgram, "program file is corrupt: flatbuffer structure failed verification");
  }
  const fb::Program* program = fb::GetProgram(bytes);
  WICK_TRY(verify_program(program, size));
  WICK_TRY(verify_segment_checksums(bytes, size, program, load_options.verify_checksums));
  out->data_ = bytes;
  out->size_ = size;
  out->program_ = program;
  return Error::Ok;
}

bool Program::has_checksums() const { return program_ != nullptr && program_->checksum() != fb::ChecksumKind::Unverified; }

size_t Program::num_methods() const { return program_ ? program_->methods()->size() : 0; }

const fb::Method* Program::method(size_t index) const { return program_->methods()->Get(static_cast<uint32_t>(index)); }

const char* Program::method_name(size_t index) const { return method(index)->name()->c_str(); }

Error Program::find_method(const char* name, size_t* index) const {
  for (size_t i = 0; i < num_methods(); ++i) {
    if (std::strcmp(method_name(i), name) == 0) {
      *index = i;
      return Error::Ok;
    }
  }
  return fail(Error::NotFound, "program has no method named '%s'", name);
}

size_t Program::delegate_backends(const char** names, size_t capacity) const {
  size_t count = 0;
  for (size_t i = 0; i < num_methods(); ++i) {
    const auto* delegates = method(i)->delegates();
    for (uint32_t d = 0; delegates != nullptr && d < delegates->size(); ++d) {
      const char* name = delegates->Get(d)->backend()->c_str();
      bool seen = false;
      for (size_t k = 0; k < count && k < capacity && !seen; ++k) seen = std::strcmp(names[k], name) == 0;
      if (seen) continue;
      if (count < capacity) names[count] = name;
      ++count;
    }
  }
  return count;
}

const uint8_t* Program::segment(uint32_t index, size_t* size) const {
  const fb::Segment* seg = program_->segments()->Get(index);
  *size = static_cast<size_t>(seg->size());
  return data_ + program_->segment_base() + seg->offset();
}

}  // namespace wick
