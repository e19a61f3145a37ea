// Distance kernels for float32 vectors.
//
// One binary runs on any x86-64 CPU: each kernel is compiled for AVX-512, AVX2+FMA and the
// baseline, and the widest set the CPU supports is picked once, at first use.
#pragma once

#include <cstddef>
#include <vector>

namespace quiver::index {

float L2Sqr(const float* a, const float* b, size_t dim);         // sum of (a[i]-b[i])^2
float InnerProduct(const float* a, const float* b, size_t dim);  // sum of a[i]*b[i]

struct DistanceKernels {
  const char* name;  // "avx512", "avx2", "generic"
  float (*l2sqr)(const float*, const float*, size_t);
  float (*inner_product)(const float*, const float*, size_t);
};

// Every kernel set this CPU can run, widest first; the first one is what L2Sqr and
// InnerProduct use.
const std::vector<DistanceKernels>& SupportedDistanceKernels();

}  // namespace quiver::index
