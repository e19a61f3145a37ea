// Names of WAL channels. A collection's shards are virtual channels named
// "<physical channel>_<collection id>v<shard>" (RootCoord makes them), several of which
// share one physical channel of the WAL.
#pragma once

#include <string>

namespace quiver {

// "quiver-dml_3_445v0" → "quiver-dml_3".
inline std::string PhysicalChannelOf(const std::string& vchannel) {
  auto cut = vchannel.rfind('_');
  return cut == std::string::npos ? vchannel : vchannel.substr(0, cut);
}

}  // namespace quiver
