#include "wal/wal_factory.h"

#include "wal/local/local_wal.h"
#include "wal/nats/nats_wal.h"

namespace quiver::wal {

StatusOr<std::unique_ptr<Wal>> OpenLocalWal(const std::string& dir, LocalWalOptions options) {
  auto wal = LocalWal::Open(dir, options);
  if (!wal.ok()) return wal.status();
  return std::unique_ptr<Wal>(std::move(*wal));
}

StatusOr<std::unique_ptr<Wal>> OpenNatsWal(const NatsWalOptions& options) {
  auto wal = nats::NatsWal::Open(options);
  if (!wal.ok()) return wal.status();
  return std::unique_ptr<Wal>(std::move(*wal));
}

}  // namespace quiver::wal
