// aten::_fft_r2c.out and aten::_fft_c2r.out: discrete Fourier transforms of
// real signals over any set of dims (float32 <-> complex64, float64 <->
// complex128), with PyTorch's normalization codes: 0 none, 1 1/sqrt(n),
// 2 1/n, n being the product of the signal's sizes over the transformed dims.
//
// Every 1-D transform copies one line into scratch, transforms it in double
// precision and writes it back: an iterative radix-2 FFT for power-of-two
// lengths; a direct DFT over a table of the n roots of unity for short other
// lengths (exact to rounding, no trigonometry in the inner loop); Bluestein's
// algorithm (the DFT as a convolution done with radix-2 FFTs) for long ones.
// Scratch holds the tables and line buffers of the longest transformed dim; a
// c2r over several dims also keeps its intermediate spectrum there, since the
// input is read-only and the real output is too small to hold it.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

struct Cx {
  double re, im;
};

inline Cx mul(Cx a, Cx b) { return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re}; }

// w[j] = exp(-2 pi i j / n) (forward) or its conjugate (inverse), j < n. Each
// root is computed directly, not by repeated multiplication, so that its
// error stays one rounding whatever n is.
void fill_roots(Cx* w, int64_t n, bool inverse) {
  const double step = 6.283185307179586476925286766559 / static_cast<double>(n);  // 2 pi / n
  for (int64_t j = 0; j < n; ++j) {
    const double a = step * static_cast<double>(j);
    w[j] = {std::cos(a), inverse ? std::sin(a) : -std::sin(a)};
  }
}

void radix2(Cx* x, const Cx* w, int64_t n) {
  for (int64_t i = 1, j = 0; i < n; ++i) {  // bit-reversal permutation
    int64_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      Cx t = x[i];
      x[i] = x[j];
      x[j] = t;
    }
  }
  for (int64_t len = 2; len <= n; len <<= 1) {
    const int64_t half = len >> 1, stride = n / len;
    for (int64_t start = 0; start < n; start += len) {
      for (int64_t k = 0; k < half; ++k) {
        const Cx t = mul(w[k * stride], x[start + k + half]);
        const Cx u = x[start + k];
        x[start + k] = {u.re + t.re, u.im + t.im};
        x[start + k + half] = {u.re - t.re, u.im - t.im};
      }
    }
  }
}

inline bool is_pow2(int64_t n) { return (n & (n - 1)) == 0; }

// Other lengths below this use the direct DFT; from it on, Bluestein (whose
// three length-m FFTs cost less than n^2 from about here).
constexpr int64_t kDirectMax = 64;

// Bluestein's convolution length: a power of two >= 2n - 1.
int64_t conv_len(int64_t n) {
  int64_t m = 1;
  while (m < 2 * n - 1) m <<= 1;
  return m;
}

// Scratch entries (Cx) for lines of any length up to `longest`.
int64_t plan_entries(int64_t longest) {
  return longest < kDirectMax ? 3 * longest : 3 * conv_len(longest) + 2 * longest;
}

// One length's transform: its tables (laid out in scratch and filled once per
// dim) and the line buffer the caller fills with n points.
struct Plan {
  int64_t n = 0;
  int64_t m = 0;          // > 0: Bluestein with convolution length m
  Cx* w = nullptr;        // roots of n (radix-2, direct), or of m (Bluestein's FFTs)
  Cx* chirp = nullptr;    // Bluestein: exp(-+ pi i k^2 / n), n entries
  Cx* kernel = nullptr;   // Bluestein: FFT of the conjugate chirp, scaled 1/m
  Cx* line = nullptr;     // n entries (m for Bluestein)
  Cx* tmp = nullptr;      // the direct DFT's output, n entries

  Plan(Cx* scratch, int64_t len, bool inverse) : n(len) {
    if (is_pow2(n) || n < kDirectMax) {
      w = scratch;
      line = w + n;
      tmp = line + n;
      fill_roots(w, n, inverse);
      return;
    }
    m = conv_len(n);
    w = scratch;
    kernel = w + m;
    line = kernel + m;
    chirp = line + m;  // 3m + n of plan_entries' 3m + 2n
    fill_roots(w, m, false);  // forward FFTs; the inverse one by conjugation
    // jk = (j^2 + k^2 - (k-j)^2) / 2 turns the DFT into a convolution with
    // the chirp; k^2 mod 2n keeps each angle exact whatever k is.
    for (int64_t k = 0, r = 0; k < n; ++k) {
      const double a = 3.141592653589793238462643383279 * static_cast<double>(r) / static_cast<double>(n);
      chirp[k] = {std::cos(a), inverse ? std::sin(a) : -std::sin(a)};
      r += 2 * k + 1;  // (k+1)^2 = k^2 + 2k + 1
      if (r >= 2 * n) r %= 2 * n;
    }
    for (int64_t j = 0; j < m; ++j) kernel[j] = {0.0, 0.0};
    kernel[0] = {chirp[0].re, -chirp[0].im};
    for (int64_t k = 1; k < n; ++k) kernel[k] = kernel[m - k] = {chirp[k].re, -chirp[k].im};
    radix2(kernel, w, m);
    const double inv_m = 1.0 / static_cast<double>(m);
    for (int64_t j = 0; j < m; ++j) kernel[j] = {kernel[j].re * inv_m, kernel[j].im * inv_m};
  }

  // Transforms `line` in place; only its first `bins` outputs are needed.
  void run(int64_t bins) {
    if (is_pow2(n)) {
      radix2(line, w, n);
      return;
    }
    if (m == 0) {  // direct DFT
      for (int64_t k = 0; k < bins; ++k) {
        double re = 0.0, im = 0.0;
        int64_t r = 0;  // (j * k) mod n, kept without overflow
        for (int64_t j = 0; j < n; ++j) {
          re += line[j].re * w[r].re - line[j].im * w[r].im;
          im += line[j].re * w[r].im + line[j].im * w[r].re;
          r += k;
          if (r >= n) r -= n;
        }
        tmp[k] = {re, im};
      }
      std::memcpy(line, tmp, static_cast<size_t>(bins) * sizeof(Cx));
      return;
    }
    for (int64_t k = 0; k < n; ++k) line[k] = mul(line[k], chirp[k]);
    for (int64_t k = n; k < m; ++k) line[k] = {0.0, 0.0};
    radix2(line, w, m);
    for (int64_t j = 0; j < m; ++j) line[j] = {line[j].re, -line[j].im};  // inverse FFT = conj(FFT(conj))
    for (int64_t j = 0; j < m; ++j) line[j] = mul(line[j], {kernel[j].re, -kernel[j].im});
    radix2(line, w, m);
    for (int64_t k = 0; k < bins; ++k) line[k] = mul({line[k].re, -line[k].im}, chirp[k]);
  }
};

// A contiguous shape seen as (outer, len, inner) around one dim.
struct Lines {
  int64_t outer = 1, len = 1, inner = 1;
  Lines(const int64_t* sizes, int rank, int dim) {
    for (int d = 0; d < dim; ++d) outer *= sizes[d];
    len = sizes[dim];
    for (int d = dim + 1; d < rank; ++d) inner *= sizes[d];
  }
  int64_t base(int64_t o, int64_t i) const { return o * len * inner + i; }
};

// Complex elements stored as (re, im) pairs of T.
template <typename T>
inline Cx load_cx(const T* p, int64_t e) {
  return {static_cast<double>(p[2 * e]), static_cast<double>(p[2 * e + 1])};
}
template <typename T>
inline void store_cx(T* p, int64_t e, Cx v, double scale) {
  p[2 * e] = static_cast<T>(v.re * scale);
  p[2 * e + 1] = static_cast<T>(v.im * scale);
}

// Complex-to-complex transform in place along `dim` of contiguous complex
// data `p` (shape `sizes`), with scratch for plan_entries(sizes[dim]).
template <typename T>
void c2c_along(T* p, const int64_t* sizes, int rank, int dim, bool inverse, double scale, Cx* scratch) {
  const Lines L(sizes, rank, dim);
  Plan plan(scratch, L.len, inverse);
  for (int64_t o = 0; o < L.outer; ++o) {
    for (int64_t i = 0; i < L.inner; ++i) {
      const int64_t b = L.base(o, i);
      for (int64_t k = 0; k < L.len; ++k) plan.line[k] = load_cx(p, b + k * L.inner);
      plan.run(L.len);
      for (int64_t k = 0; k < L.len; ++k) store_cx(p, b + k * L.inner, plan.line[k], scale);
    }
  }
}

// ---- argument checks shared by both ops ---------------------------------------

// Normalizes and checks `dim` (non-empty, in range, no repeats) into `dims`.
Error get_dims(const KernelContext& ctx, Value* const* args, int rank, int* dims, int* count) {
  const int64_t* raw;
  int n;
  WICK_TRY(get_int_list(ctx, args, 1, &raw, &n));
  if (n < 1 || n > rank) {
    return fail(Error::InvalidArgument, "%s: dim must list between 1 and %d dims (the input's rank), got %d",
                ctx.op_name, rank, n);
  }
  for (int k = 0; k < n; ++k) {
    if (raw[k] < -rank || raw[k] >= rank) {
      return fail(Error::InvalidArgument, "%s: dim %lld is out of range for a tensor of rank %d", ctx.op_name,
                  static_cast<long long>(raw[k]), rank);
    }
    dims[k] = static_cast<int>(raw[k] < 0 ? raw[k] + rank : raw[k]);
    for (int j = 0; j < k; ++j) {
      if (dims[j] == dims[k]) {
        return fail(Error::InvalidArgument, "%s: dim %d is listed twice", ctx.op_name, dims[k]);
      }
    }
  }
  *count = n;
  return Error::Ok;
}

Error get_normalization(const KernelContext& ctx, Value* const* args, double signal_numel, double* scale) {
  int64_t norm;
  WICK_TRY(get_int(ctx, args, 2, &norm));
  switch (norm) {
    case 0: *scale = 1.0; return Error::Ok;
    case 1: *scale = 1.0 / std::sqrt(signal_numel); return Error::Ok;
    case 2: *scale = 1.0 / signal_numel; return Error::Ok;
    default:
      return fail(Error::InvalidArgument,
                  "%s: normalization must be 0 (none), 1 (1/sqrt(n)) or 2 (1/n), got %lld", ctx.op_name,
                  static_cast<long long>(norm));
  }
}

// The longest of `t`'s transformed dims (all of its dims when the dim list
// cannot be read: scratch functions may not report errors, only over-reserve).
int64_t longest_transformed(const Tensor& t, const Value* dim_list) {
  int64_t m = 1;
  if (dim_list != nullptr && dim_list->tag == ValueTag::IntList && dim_list->ints.data != nullptr &&
      dim_list->ints.size > 0) {
    for (int k = 0; k < dim_list->ints.size; ++k) {
      int64_t d = dim_list->ints.data[k];
      if (d < 0) d += t.dim;
      if (d < 0 || d >= t.dim) return longest_transformed(t, nullptr);
      m = t.sizes[d] > m ? t.sizes[d] : m;
    }
    return m;
  }
  for (int d = 0; d < t.dim; ++d) m = t.sizes[d] > m ? t.sizes[d] : m;
  return m;
}

ScalarType complex_of(ScalarType t) {
  return t == ScalarType::Float64 ? ScalarType::ComplexDouble : ScalarType::ComplexFloat;
}

// ---- r2c --------------------------------------------------------------------------

// (self, dim, normalization, onesided, out)
size_t r2c_scratch(Value* const* args, int num_args) {
  const Tensor* self = tensor_or_null(args, num_args, 0);
  if (self == nullptr || num_args < 2) return 0;
  return static_cast<size_t>(plan_entries(longest_transformed(*self, args[1]))) * sizeof(Cx);
}

template <typename T>
void r2c_compute(const Tensor& self, Tensor& out, const int* dims, int ndims, double scale, Cx* scratch) {
  const int rank = self.dim;
  const int last = dims[ndims - 1];
  const int64_t n = self.sizes[last];
  // The half-spectrum dim first (real input -> complex out), then the other
  // dims in place in out; the scale goes into the last pass.
  const Lines in(self.sizes, rank, last), res(out.sizes, rank, last);
  const T* x = self.data_as<const T>();
  T* y = out.data_as<T>();
  const int64_t bins = res.len;  // n / 2 + 1 when onesided, else n
  // The upper bins of a real signal's spectrum mirror the lower ones
  // (X[n-k] = conj X[k]), so only the lower half is computed (but by radix-2).
  const int64_t valid = is_pow2(n) ? n : n / 2 + 1;
  Plan plan(scratch, n, false);
  Cx* line = plan.line;
  const double s = ndims == 1 ? scale : 1.0;
  for (int64_t o = 0; o < in.outer; ++o) {
    for (int64_t i = 0; i < in.inner; ++i) {
      const int64_t bi = in.base(o, i), bo = res.base(o, i);
      for (int64_t k = 0; k < n; ++k) line[k] = {static_cast<double>(x[bi + k * in.inner]), 0.0};
      plan.run(valid);
      for (int64_t k = 0; k < bins; ++k) {
        const Cx v = k < valid ? line[k] : Cx{line[n - k].re, -line[n - k].im};
        store_cx(y, bo + k * res.inner, v, s);
      }
    }
  }
  for (int d = 0; d < ndims - 1; ++d) {
    c2c_along(y, out.sizes, rank, dims[d], false, d == ndims - 2 ? scale : 1.0, scratch);
  }
}

// Multiplies *signal by the sizes of dims[0..count) (the normalization's n),
// refusing empty transformed dims.
Error multiply_signal(const KernelContext& ctx, const Tensor& self, const int* dims, int count, double* signal) {
  for (int k = 0; k < count; ++k) {
    if (self.sizes[dims[k]] < 1) {
      return fail(Error::InvalidArgument, "%s: cannot transform dim %d of size 0 (input shape %s)", ctx.op_name,
                  dims[k], shape_str(self));
    }
    *signal *= static_cast<double>(self.sizes[dims[k]]);
  }
  return Error::Ok;
}

Error fft_r2c_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *out;
  bool onesided;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_bool(ctx, args, 3, &onesided));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  if (self->dtype != ScalarType::Float32 && self->dtype != ScalarType::Float64) {
    return fail(Error::InvalidArgument, "%s: input must be float32 or float64, got %s", ctx.op_name,
                scalar_type_name(self->dtype));
  }
  WICK_TRY(check_dtype(ctx, *out, complex_of(self->dtype), "out"));
  WICK_TRY(check_rank(ctx, *self, 1, kMaxDims, "self"));
  int dims[kMaxDims], ndims;
  WICK_TRY(get_dims(ctx, args, self->dim, dims, &ndims));
  double signal = 1.0;
  WICK_TRY(multiply_signal(ctx, *self, dims, ndims, &signal));
  double scale = 1.0;
  WICK_TRY(get_normalization(ctx, args, signal, &scale));
  int64_t sizes[kMaxDims];
  for (int d = 0; d < self->dim; ++d) sizes[d] = self->sizes[d];
  const int last = dims[ndims - 1];
  if (onesided) sizes[last] = sizes[last] / 2 + 1;
  WICK_TRY(resize(ctx, *out, sizes, self->dim));
  if (out->numel() == 0) return Error::Ok;
  WICK_TRY(check_scratch(ctx, static_cast<size_t>(plan_entries(longest_transformed(*self, args[1]))) * sizeof(Cx)));
  Cx* scratch = static_cast<Cx*>(ctx.scratch);
  if (self->dtype == ScalarType::Float32) r2c_compute<float>(*self, *out, dims, ndims, scale, scratch);
  else r2c_compute<double>(*self, *out, dims, ndims, scale, scratch);
  return Error::Ok;
}

// ---- c2r --------------------------------------------------------------------------

// (self, dim, normalization, last_dim_size, out). The signal sizes are out's;
// over several dims the intermediate spectrum (at most self's numel, complex
// double) follows the plan's entries.
size_t c2r_scratch(Value* const* args, int num_args) {
  const Tensor* self = tensor_or_null(args, num_args, 0);
  const Tensor* out = tensor_or_null(args, num_args, 4);
  if (self == nullptr || out == nullptr) return 0;
  size_t bytes = static_cast<size_t>(plan_entries(longest_transformed(*out, args[1]))) * sizeof(Cx);
  const bool several = args[1] != nullptr && args[1]->tag == ValueTag::IntList && args[1]->ints.size > 1;
  if (several) bytes += static_cast<size_t>(self->numel()) * sizeof(Cx);
  return bytes;
}

// Hermitian-extends the half spectrum (n / 2 + 1 points from `load`) to n
// points, inverse-transforms it and writes the real part times `scale`. The
// imaginary parts of the DC and (even n) Nyquist bins drop out, as in
// PyTorch: a real signal's spectrum has none.
template <typename Load, typename T>
void c2r_line(Load load, Plan& plan, T* y, int64_t y_base, int64_t y_stride, double scale) {
  const int64_t n = plan.n, half = n / 2 + 1;
  Cx* line = plan.line;
  for (int64_t k = 0; k < half; ++k) line[k] = load(k);
  for (int64_t k = half; k < n; ++k) line[k] = {line[n - k].re, -line[n - k].im};
  plan.run(n);
  for (int64_t k = 0; k < n; ++k) y[y_base + k * y_stride] = static_cast<T>(line[k].re * scale);
}

template <typename T>
void c2r_compute(const Tensor& self, Tensor& out, const int* dims, int ndims, double scale, Cx* scratch,
                 int64_t plan_size) {
  const int rank = self.dim;
  const int last = dims[ndims - 1];
  const int64_t n = out.sizes[last], half = n / 2 + 1;
  const T* x = self.data_as<const T>();
  T* y = out.data_as<T>();
  const Lines in(self.sizes, rank, last), res(out.sizes, rank, last);
  if (ndims == 1) {
    Plan plan(scratch, n, true);
    for (int64_t o = 0; o < in.outer; ++o) {
      for (int64_t i = 0; i < in.inner; ++i) {
        const int64_t b = in.base(o, i);
        c2r_line([&](int64_t k) { return load_cx(x, b + k * in.inner); }, plan, y, res.base(o, i), res.inner, scale);
      }
    }
    return;
  }
  // Several dims: copy the used half spectrum into scratch, inverse c2c over
  // every dim but the last listed, then c2r along that one into out.
  int64_t mid_sizes[kMaxDims];
  for (int d = 0; d < rank; ++d) mid_sizes[d] = self.sizes[d];
  mid_sizes[last] = half;
  Cx* mid = scratch + plan_size;
  const Lines m(mid_sizes, rank, last);
  for (int64_t o = 0; o < in.outer; ++o) {
    for (int64_t i = 0; i < in.inner; ++i) {
      for (int64_t k = 0; k < half; ++k) mid[m.base(o, i) + k * m.inner] = load_cx(x, in.base(o, i) + k * in.inner);
    }
  }
  double* mid_raw = reinterpret_cast<double*>(mid);
  for (int d = 0; d < ndims - 1; ++d) c2c_along(mid_raw, mid_sizes, rank, dims[d], true, 1.0, scratch);
  Plan plan(scratch, n, true);
  for (int64_t o = 0; o < m.outer; ++o) {
    for (int64_t i = 0; i < m.inner; ++i) {
      const int64_t b = m.base(o, i);
      c2r_line([&](int64_t k) { return mid[b + k * m.inner]; }, plan, y, res.base(o, i), res.inner, scale);
    }
  }
}

Error fft_c2r_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *out;
  int64_t n;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 3, &n));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  if (!is_complex(self->dtype)) {
    return fail(Error::InvalidArgument, "%s: input must be complex64 or complex128, got %s", ctx.op_name,
                scalar_type_name(self->dtype));
  }
  const ScalarType real = self->dtype == ScalarType::ComplexDouble ? ScalarType::Float64 : ScalarType::Float32;
  WICK_TRY(check_dtype(ctx, *out, real, "out"));
  WICK_TRY(check_rank(ctx, *self, 1, kMaxDims, "self"));
  int dims[kMaxDims], ndims;
  WICK_TRY(get_dims(ctx, args, self->dim, dims, &ndims));
  const int last = dims[ndims - 1];
  if (n < 1) {
    return fail(Error::InvalidArgument, "%s: last_dim_size must be at least 1, got %lld", ctx.op_name,
                static_cast<long long>(n));
  }
  // PyTorch accepts the half spectrum (n / 2 + 1 points) or a full-length
  // one, of which it reads the first n / 2 + 1 points.
  const int64_t have = self->sizes[last];
  if (have != n / 2 + 1 && have != n) {
    return fail(Error::InvalidArgument,
                "%s: dim %d of the input has %lld points; a real output of %lld points along it needs %lld "
                "(last_dim_size / 2 + 1)",
                ctx.op_name, last, static_cast<long long>(have), static_cast<long long>(n),
                static_cast<long long>(n / 2 + 1));
  }
  double signal = static_cast<double>(n);
  WICK_TRY(multiply_signal(ctx, *self, dims, ndims - 1, &signal));
  double scale = 1.0;
  WICK_TRY(get_normalization(ctx, args, signal, &scale));
  int64_t sizes[kMaxDims];
  for (int d = 0; d < self->dim; ++d) sizes[d] = self->sizes[d];
  sizes[last] = n;
  WICK_TRY(resize(ctx, *out, sizes, self->dim));
  if (out->numel() == 0) return Error::Ok;
  const int64_t plan_size = plan_entries(longest_transformed(*out, args[1]));
  size_t need = static_cast<size_t>(plan_size) * sizeof(Cx);
  if (ndims > 1) need += static_cast<size_t>(out->numel() / n * (n / 2 + 1)) * sizeof(Cx);
  WICK_TRY(check_scratch(ctx, need));
  Cx* scratch = static_cast<Cx*>(ctx.scratch);
  if (real == ScalarType::Float32) c2r_compute<float>(*self, *out, dims, ndims, scale, scratch, plan_size);
  else c2r_compute<double>(*self, *out, dims, ndims, scale, scratch, plan_size);
  return Error::Ok;
}

}  // namespace

// r2c is dispatched on its real input and writes a complex out; c2r is
// dispatched on its complex input.
WICK_REGISTER_KERNELS(fft,
                      {"aten::_fft_r2c.out", kF32 | dtype_bit(ScalarType::Float64), &fft_r2c_out, &r2c_scratch,
                       kComplexDtypes},
                      {"aten::_fft_c2r.out", kComplexDtypes, &fft_c2r_out, &c2r_scratch})

}  // namespace portable
}  // namespace wick
