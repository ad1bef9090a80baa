#include "npy.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace wick_runner {
namespace {

struct DtypeCode {
  const char* code;
  wick::ScalarType type;
};
const DtypeCode kCodes[] = {
    {"<f4", wick::ScalarType::Float32}, {"<f8", wick::ScalarType::Float64}, {"<f2", wick::ScalarType::Float16},
    {"|i1", wick::ScalarType::Int8},    {"<i2", wick::ScalarType::Int16},   {"<i4", wick::ScalarType::Int32},
    {"<i8", wick::ScalarType::Int64},   {"|u1", wick::ScalarType::UInt8},   {"|b1", wick::ScalarType::Bool},
    {"<c8", wick::ScalarType::ComplexFloat}, {"<c16", wick::ScalarType::ComplexDouble},
};

std::string field(const std::string& header, const std::string& key) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) return "";
  size_t colon = header.find(':', k);
  if (colon == std::string::npos) return "";
  size_t start = header.find_first_not_of(' ', colon + 1);
  if (start == std::string::npos) return "";
  if (header[start] == '(') return header.substr(start, header.find(')', start) - start + 1);
  if (header[start] == '\'') return header.substr(start + 1, header.find('\'', start + 1) - start - 1);
  return header.substr(start, header.find_first_of(",}", start) - start);
}

}  // namespace

std::string read_npy(const std::string& path, NpyArray* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot open '" + path + "'";
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) return "'" + path + "' is not a .npy file";
  uint8_t major = bytes[6];
  size_t header_len, header_start;
  if (major == 1) {
    header_len = bytes[8] | (bytes[9] << 8);
    header_start = 10;
  } else {
    if (bytes.size() < 12) return "'" + path + "' is truncated";
    header_len = bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (static_cast<size_t>(bytes[11]) << 24);
    header_start = 12;
  }
  if (header_start + header_len > bytes.size()) return "'" + path + "' is truncated";
  std::string header(reinterpret_cast<char*>(bytes.data() + header_start), header_len);
  std::string descr = field(header, "descr");
  bool found = false;
  for (const auto& c : kCodes) {
    if (descr == c.code || (descr.size() > 1 && descr[0] == '=' && descr.substr(1) == std::string(c.code).substr(1))) {
      out->dtype = c.type;
      found = true;
    }
  }
  if (!found) return "'" + path + "' has unsupported dtype '" + descr + "'";
  if (field(header, "fortran_order") == "True") return "'" + path + "' is Fortran-ordered; save it C-ordered";
  std::string shape = field(header, "shape");
  out->shape.clear();
  int64_t numel = 1;
  for (size_t i = 1; i < shape.size();) {
    size_t end = shape.find_first_of(",)", i);
    std::string item = shape.substr(i, end - i);
    if (item.find_first_not_of(' ') != std::string::npos) {
      int64_t v = std::strtoll(item.c_str(), nullptr, 10);
      out->shape.push_back(v);
      numel *= v;
    }
    if (end == std::string::npos) break;
    i = end + 1;
  }
  size_t nbytes = static_cast<size_t>(numel) * wick::element_size(out->dtype);
  size_t data_start = header_start + header_len;
  if (bytes.size() - data_start < nbytes) return "'" + path + "' holds fewer bytes than its shape says";
  out->data.assign(bytes.begin() + static_cast<long>(data_start), bytes.begin() + static_cast<long>(data_start + nbytes));
  return "";
}

std::string write_npy(const std::string& path, const NpyArray& array) {
  const char* code = nullptr;
  for (const auto& c : kCodes)
    if (c.type == array.dtype) code = c.code;
  if (code == nullptr) return std::string("cannot write dtype ") + wick::scalar_type_name(array.dtype);
  std::string shape = "(";
  for (size_t i = 0; i < array.shape.size(); ++i) shape += std::to_string(array.shape[i]) + (array.shape.size() == 1 ? "," : i + 1 < array.shape.size() ? ", " : "");
  shape += ")";
  std::string header = std::string("{'descr': '") + code + "', 'fortran_order': False, 'shape': " + shape + ", }";
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
