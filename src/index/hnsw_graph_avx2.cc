// HnswGraph compiled for AVX2 + FMA (see hnsw_graph_impl.inc).
#include "index/hnsw_graph_prelude.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define USE_SSE
#define USE_AVX
#define QUIVER_HNSW_LEVEL avx2
#include "index/hnsw_graph_impl.inc"
#pragma GCC pop_options
#endif
