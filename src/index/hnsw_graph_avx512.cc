// HnswGraph compiled for AVX-512 (see hnsw_graph_impl.inc).
#include "index/hnsw_graph_prelude.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")
#define USE_SSE
#define USE_AVX
#define USE_AVX512
#define QUIVER_HNSW_LEVEL avx512
#include "index/hnsw_graph_impl.inc"
#pragma GCC pop_options
#endif
