// HnswGraph compiled for the x86-64 baseline, SSE2 (see hnsw_graph_impl.inc); on other
// architectures, hnswlib's plain C++ loops.
#include "index/hnsw_graph_prelude.h"

#if defined(__x86_64__)
#define USE_SSE
#endif
#define QUIVER_HNSW_LEVEL sse
#include "index/hnsw_graph_impl.inc"
