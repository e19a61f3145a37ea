#include "index/distance.h"

#include <immintrin.h>

namespace quiver::index {
namespace {

// Baseline: independent partial sums so the compiler can keep several adds in flight.
float L2SqrGeneric(const float* a, const float* b, size_t dim) {
  float sum[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    for (size_t j = 0; j < 4; ++j) {
      const float diff = a[i + j] - b[i + j];
      sum[j] += diff * diff;
    }
  }
  for (; i < dim; ++i) {
    const float diff = a[i] - b[i];
    sum[0] += diff * diff;
  }
  return (sum[0] + sum[1]) + (sum[2] + sum[3]);
}

float InnerProductGeneric(const float* a, const float* b, size_t dim) {
  float sum[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    for (size_t j = 0; j < 4; ++j) sum[j] += a[i + j] * b[i + j];
  }
  for (; i < dim; ++i) sum[0] += a[i] * b[i];
  return (sum[0] + sum[1]) + (sum[2] + sum[3]);
}

#if defined(__x86_64__)

__attribute__((target("avx2,fma"))) float HorizontalSum(__m256 v) {
  const __m128 pair = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 quad = _mm_add_ps(pair, _mm_movehl_ps(pair, pair));
  return _mm_cvtss_f32(_mm_add_ss(quad, _mm_shuffle_ps(quad, quad, 1)));
}

// The tail (dim % 8 elements) is loaded under a mask, so no element is read twice or past the end.
__attribute__((target("avx2,fma"))) __m256i TailMask(size_t remaining) {
  static const int kLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLanes + 8 - remaining));
}

__attribute__((target("avx2,fma"))) float L2SqrAvx2(const float* a, const float* b, size_t dim) {
  __m256 sum0 = _mm256_setzero_ps();
  __m256 sum1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    sum0 = _mm256_fmadd_ps(d0, d0, sum0);
    sum1 = _mm256_fmadd_ps(d1, d1, sum1);
  }
  for (; i + 8 <= dim; i += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    sum0 = _mm256_fmadd_ps(d, d, sum0);
  }
  if (i < dim) {
    const __m256i mask = TailMask(dim - i);
    const __m256 d = _mm256_sub_ps(_mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask));
    sum1 = _mm256_fmadd_ps(d, d, sum1);
  }
  return HorizontalSum(_mm256_add_ps(sum0, sum1));
}

__attribute__((target("avx2,fma"))) float InnerProductAvx2(const float* a, const float* b, size_t dim) {
  __m256 sum0 = _mm256_setzero_ps();
  __m256 sum1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    sum0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), sum0);
    sum1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), sum1);
  }
  for (; i + 8 <= dim; i += 8) sum0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), sum0);
  if (i < dim) {
    const __m256i mask = TailMask(dim - i);
    sum1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask), sum1);
  }
  return HorizontalSum(_mm256_add_ps(sum0, sum1));
}

// GCC 12's AVX-512 headers trip its own -Wuninitialized (_mm256_undefined_pd inside
// _mm512_reduce_add_ps); the warning is about the header, not this code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"

__attribute__((target("avx512f"))) float L2SqrAvx512(const float* a, const float* b, size_t dim) {
  __m512 sum0 = _mm512_setzero_ps();
  __m512 sum1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    sum0 = _mm512_fmadd_ps(d0, d0, sum0);
    sum1 = _mm512_fmadd_ps(d1, d1, sum1);
  }
  for (; i + 16 <= dim; i += 16) {
    const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    sum0 = _mm512_fmadd_ps(d, d, sum0);
  }
  if (i < dim) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (dim - i)) - 1);
    const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i));
    sum1 = _mm512_fmadd_ps(d, d, sum1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(sum0, sum1));
}

__attribute__((target("avx512f"))) float InnerProductAvx512(const float* a, const float* b, size_t dim) {
  __m512 sum0 = _mm512_setzero_ps();
  __m512 sum1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    sum0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), sum0);
    sum1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), sum1);
  }
  for (; i + 16 <= dim; i += 16) sum0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), sum0);
  if (i < dim) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (dim - i)) - 1);
    sum1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i), sum1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(sum0, sum1));
}

#pragma GCC diagnostic pop

#endif  // __x86_64__

std::vector<DistanceKernels> DetectKernels() {
  std::vector<DistanceKernels> kernels;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) kernels.push_back({"avx512", L2SqrAvx512, InnerProductAvx512});
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    kernels.push_back({"avx2", L2SqrAvx2, InnerProductAvx2});
  }
#endif
  kernels.push_back({"generic", L2SqrGeneric, InnerProductGeneric});
  return kernels;
}

}  // namespace

const std::vector<DistanceKernels>& SupportedDistanceKernels() {
  static const std::vector<DistanceKernels> kernels = DetectKernels();
  return kernels;
}

float L2Sqr(const float* a, const float* b, size_t dim) { return SupportedDistanceKernels()[0].l2sqr(a, b, dim); }

float InnerProduct(const float* a, const float* b, size_t dim) {
  return SupportedDistanceKernels()[0].inner_product(a, b, dim);
}

}  // namespace quiver::index
