#include "npy.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace wick_runner {
namespace {

struct DtypeCode {
  const char* code;  // without the byte-order character
  wick::ScalarType type;
};
const DtypeCode kCodes[] = {
    {"f4", wick::ScalarType::Float32}, {"f8", wick::ScalarType::Float64}, {"f2", wick::ScalarType::Float16},
    {"i1", wick::ScalarType::Int8},    {"i2", wick::ScalarType::Int16},   {"i4", wick::ScalarType::Int32},
    {"i8", wick::ScalarType::Int64},   {"u1", wick::ScalarType::UInt8},   {"b1", wick::ScalarType::Bool},
    {"c8", wick::ScalarType::ComplexFloat}, {"c16", wick::ScalarType::ComplexDouble},
};
constexpr const char* kSupported =
    "float32, float64, float16, int8, int16, int32, int64, uint8, bool, complex64, complex128";

// NumPy's name for a dtype code, for messages about the ones Wick lacks.
std::string numpy_name(const std::string& code) {
  if (code.size() < 2) return "";
  const char kind = code[0];
  const std::string bytes = code.substr(1);
  const char* base = kind == 'f' ? "float" : kind == 'i' ? "int" : kind == 'u' ? "uint" : kind == 'c' ? "complex"
                   : kind == 'b' ? "bool" : nullptr;
  if (base == nullptr) return "";
  for (char c : bytes) {
    if (c < '0' || c > '9') return "";
  }
  if (bytes.empty() || bytes.size() > 3) return "";
  return std::string(base) + std::to_string(std::atoi(bytes.c_str()) * 8);
}

// The text after `'key':` in a header dict, up to the end of its value:
// a parenthesized tuple, a quoted string or a bare word. Empty if absent.
bool field(const std::string& header, const std::string& key, std::string* value) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) return false;
  size_t colon = header.find(':', k);
  if (colon == std::string::npos) return false;
  size_t start = header.find_first_not_of(' ', colon + 1);
  if (start == std::string::npos) return false;
  size_t end;
  if (header[start] == '(') {
    end = header.find(')', start);
    if (end == std::string::npos) return false;
    *value = header.substr(start, end - start + 1);
  } else if (header[start] == '\'') {
    end = header.find('\'', start + 1);
    if (end == std::string::npos) return false;
    *value = header.substr(start + 1, end - start - 1);
  } else {
    end = header.find_first_of(",}", start);
    if (end == std::string::npos) return false;
    *value = header.substr(start, end - start);
    while (!value->empty() && value->back() == ' ') value->pop_back();
  }
  return true;
}

// Parses "(2, 3)", "(5,)" or "()" into dims; false if an item is not a
// non-negative integer that fits in int64.
bool parse_shape(const std::string& tuple, std::vector<int64_t>* dims) {
  dims->clear();
  if (tuple.size() < 2 || tuple.front() != '(' || tuple.back() != ')') return false;
  size_t i = 1;
  const size_t last = tuple.size() - 1;
  while (i < last) {
    while (i < last && tuple[i] == ' ') ++i;
    if (i == last) break;
    if (tuple[i] < '0' || tuple[i] > '9') return false;
    int64_t v = 0;
    while (i < last && tuple[i] >= '0' && tuple[i] <= '9') {
      const int digit = tuple[i] - '0';
      if (v > (INT64_MAX - digit) / 10) return false;  // would overflow
      v = v * 10 + digit;
      ++i;
    }
    if (tuple[i] == 'L') ++i;  // Python 2 longs in old files
    dims->push_back(v);
    while (i < last && tuple[i] == ' ') ++i;
    if (i < last && tuple[i] != ',') return false;
    ++i;
  }
  return true;
}

}  // namespace

std::string parse_npy(const uint8_t* bytes, size_t size, const std::string& name, NpyArray* out) {
  const std::string file = "'" + name + "'";
  if (size < 8 || std::memcmp(bytes, "\x93NUMPY", 6) != 0) return file + " is not a .npy file (no \\x93NUMPY magic)";
  const uint8_t major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3) {
    return file + " is .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
           ", which wick-run does not read (it reads versions 1.0, 2.0 and 3.0)";
  }
  // Version 1 has a 2-byte header length; 2 and 3 (UTF-8 header) a 4-byte one.
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (size < 8 + len_bytes) return file + " is truncated inside its header length";
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) header_len |= static_cast<size_t>(bytes[8 + i]) << (8 * i);
  const size_t header_start = 8 + len_bytes;
  if (header_len > size - header_start) {
    return file + " is truncated: its header says " + std::to_string(header_len) + " bytes, the file holds " +
           std::to_string(size - header_start);
  }
  const std::string header(reinterpret_cast<const char*>(bytes + header_start), header_len);
  if (header.find('{') == std::string::npos) return file + " has a header that is not a dictionary";

  std::string descr;
  if (!field(header, "descr", &descr)) return file + " has no 'descr' (dtype) in its header";
  if (descr.size() < 2) return file + " has dtype '" + descr + "', which is not a NumPy dtype code";
  const char order = descr[0];
  const std::string code = descr.substr(1);
  if (order == '>' && code != "i1" && code != "u1" && code != "b1") {
    return file + " is big-endian (dtype '" + descr + "'); save it little-endian (array.astype('<" + code + "'))";
  }
  if (order != '<' && order != '|' && order != '=' && order != '>') {
    return file + " has dtype '" + descr + "', which is not a NumPy dtype code";
  }
  bool found = false;
  for (const auto& c : kCodes) {
    if (code == c.code) {
      out->dtype = c.type;
      found = true;
    }
  }
  if (!found) {
    const std::string numpy = numpy_name(code);
    return file + " has dtype '" + descr + "'" + (numpy.empty() ? "" : " (" + numpy + ")") +
           ", which Wick does not support; supported: " + kSupported;
  }
  std::string fortran;
  if (field(header, "fortran_order", &fortran) && fortran != "False") {
    return file + " is Fortran-ordered; save it C-ordered (numpy.ascontiguousarray)";
  }
  std::string shape;
  if (!field(header, "shape", &shape)) return file + " has no 'shape' in its header";
  if (!parse_shape(shape, &out->shape)) return file + " has shape " + shape + ", which is not a tuple of sizes";
  // Sizes are checked against the bytes present before any product is
  // formed, so no shape, however large, overflows.
  const size_t data_start = header_start + header_len;
  const uint64_t available = size - data_start;
  const uint64_t element = wick::element_size(out->dtype);
  uint64_t nbytes = element;
  bool empty = false;
  for (int64_t d : out->shape) empty = empty || d == 0;
  for (int64_t d : out->shape) {
    if (empty) break;
    const uint64_t dim = static_cast<uint64_t>(d);
    if (nbytes > available / dim) {
      return file + " has shape " + shape + ", larger than the " + std::to_string(available) +
             " bytes of data it holds";
    }
    nbytes *= dim;
  }
  if (empty) nbytes = 0;
  if (available < nbytes) return file + " holds fewer bytes than its shape says";
  out->data.assign(bytes + data_start, bytes + data_start + nbytes);
  return "";
}

std::string read_npy(const std::string& path, NpyArray* out) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "cannot open '" + path + "': " + std::strerror(errno);
  if (S_ISDIR(st.st_mode)) return "'" + path + "' is a directory, not a .npy file";
  if (!S_ISREG(st.st_mode)) return "'" + path + "' is not a regular file";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return "cannot open '" + path + "': " + std::strerror(errno);
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  const size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed || got != bytes.size()) return "cannot read '" + path + "'";
  return parse_npy(bytes.data(), bytes.size(), path, out);
}

std::string write_npy(const std::string& path, const NpyArray& array) {
  const char* code = nullptr;
  for (const auto& c : kCodes)
    if (c.type == array.dtype) code = c.code;
  if (code == nullptr) return std::string("cannot write dtype ") + wick::scalar_type_name(array.dtype);
  const char order = (array.dtype == wick::ScalarType::Int8 || array.dtype == wick::ScalarType::UInt8 ||
                      array.dtype == wick::ScalarType::Bool) ? '|' : '<';
  std::string shape = "(";
  for (size_t i = 0; i < array.shape.size(); ++i) shape += std::to_string(array.shape[i]) + (array.shape.size() == 1 ? "," : i + 1 < array.shape.size() ? ", " : "");
  shape += ")";
  std::string header = std::string("{'descr': '") + order + code + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  if (!f) return "cannot write '" + path + "'";
  uint16_t len = static_cast<uint16_t>(header.size());
  f.write("\x93NUMPY\x01\x00", 8);
  f.put(static_cast<char>(len & 0xff));
  f.put(static_cast<char>(len >> 8));
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(reinterpret_cast<const char*>(array.data.data()), static_cast<std::streamsize>(array.data.size()));
  return f ? "" : "write to '" + path + "' failed";
}

}  // namespace wick_runner
