#pragma once

namespace quiver {

inline constexpr char kQuiverVersion[] = "0.1.0";
// The Milvus release whose API Quiver speaks; GetVersion reports it because SDKs compare
// it to decide which features the server has.
inline constexpr char kMilvusApiVersion[] = "v2.6.6";

}  // namespace quiver
