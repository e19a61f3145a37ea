// Everything hnsw_graph_impl.inc depends on, included *before* a SIMD level's
// `#pragma GCC target`: code defined after the pragma is compiled for that level, and
// templates take the target of their definition. Standard-library templates defined here
// therefore stay baseline even when instantiated by AVX-512 code, so the linker can never
// pick an AVX-512 copy of, say, std::vector<float>::resize for the whole program.
#pragma once

#include <algorithm>
#include <assert.h>
#include <atomic>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <deque>
#include <fstream>
#include <iostream>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <stdexcept>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <x86intrin.h>
#endif

#include "index/dense_common.h"
#include "index/hnsw_graph.h"
