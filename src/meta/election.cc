#include "meta/election.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <future>
#include <utility>

namespace quiver::meta {
namespace {

std::string LeaderKey(const std::string& election) { return "election/" + election; }

// The leader key's entry, if the key exists (a prefix scan also finds longer keys).
StatusOr<std::optional<KeyValue>> ReadLeaderKey(MetaKV* kv, const std::string& key) {
  auto scanned = kv->Scan(key, 1);
  if (!scanned.ok()) return scanned.status();
  if (scanned->empty() || scanned->front().key != key) return std::optional<KeyValue>();
  return std::optional<KeyValue>(std::move(scanned->front()));
}

}  // namespace

StatusOr<std::optional<std::string>> CurrentLeader(MetaKV* kv, const std::string& election) {
  auto held = ReadLeaderKey(kv, LeaderKey(election));
  if (!held.ok()) return held.status();
  if (!held->has_value()) return std::optional<std::string>();
  return std::optional<std::string>((*held)->value);
}

StatusOr<std::unique_ptr<WatchHandle>> ObserveLeader(MetaKV* kv, const std::string& election,
                                                     std::function<void(const std::optional<std::string>&)> on_change) {
  const std::string key = LeaderKey(election);
  auto revision = kv->CurrentRevision();
  if (!revision.ok()) return revision.status();
  auto held = ReadLeaderKey(kv, key);
  if (!held.ok()) return held.status();
  // Watching from the key's own revision replays nothing older than what is reported now.
  const int64_t from = held->has_value() ? (*held)->mod_revision : *revision;
  auto last = std::make_shared<std::optional<std::string>>();
  if (held->has_value()) *last = (*held)->value;
  on_change(*last);
  return kv->Watch(key, from, [key, last, on_change = std::move(on_change)](const WatchEvent& event) {
    if (event.kv.key != key) return;
    std::optional<std::string> leader;
    if (event.type == WatchEvent::Type::kPut) leader = event.kv.value;
    if (leader == *last) return;
    *last = leader;
    on_change(leader);
  });
}

struct LeaderElection::Session {
  LeaseId lease = kNoLease;
  std::thread keeper;
  // Guarded by the election's mutex:
  Clock::time_point valid_until;  // the lease surely lives until then (last renewal sent + TTL)
  bool leader = false;
  bool lost = false;   // the lease is gone, or leadership was lost
  bool ended = false;  // EndSession ran: the keeper stops
};

LeaderElection::LeaderElection(MetaKV* kv, std::string election, std::string candidate_id,
                               std::chrono::milliseconds lease_ttl)
    : kv_(kv),
      election_(std::move(election)),
      key_(LeaderKey(election_)),
      candidate_id_(std::move(candidate_id)),
      ttl_(lease_ttl) {}

LeaderElection::~LeaderElection() {
  Stop();
  Status resigned = Resign();
  if (!resigned.ok()) spdlog::warn("election {}: {} could not resign: {}", election_, candidate_id_, resigned.reason());
}

Status LeaderElection::Campaign(std::chrono::milliseconds timeout, LostCallback on_lost) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    std::shared_ptr<Session> session;
    {
      std::lock_guard lock(mu_);
      if (stopped_) return Status(Code::kServiceNotReady, "election " + election_ + ": stopped");
      if (session_ && session_->leader) return Status::OK();
      if (session_ && !session_->lost) session = session_;
    }
    if (!session) {
      Status ended = EndSession();  // the lease of a lost session, if any
      if (!ended.ok()) spdlog::warn("election {}: ending a lost lease failed: {}", election_, ended.reason());
      QUIVER_RETURN_IF_ERROR(StartSession());
      continue;
    }
    auto won = kv_->Txn({{key_, std::nullopt}}, {Op::Put(key_, candidate_id_, session->lease)});
    if (won.ok() && *won) {
      {
        std::lock_guard lock(mu_);
        on_lost_ = std::move(on_lost);
      }
      return BecomeLeader(session);
    }
    if (!won.ok() && won.status().code() != Code::kIoKeyNotFound) return won.status();
    if (!won.ok()) {
      Lose(session, won.status());  // the lease expired: campaign again with a new one
      continue;
    }
    QUIVER_RETURN_IF_ERROR(WaitForVacancy(deadline));
  }
}

Status LeaderElection::StartSession() {
  auto session = std::make_shared<Session>();
  const auto sent = Clock::now();
  auto lease = kv_->GrantLease(ttl_);
  if (!lease.ok()) return lease.status();
  session->lease = *lease;
  session->valid_until = sent + ttl_;
  session->keeper = std::thread([this, session] { KeepAliveLoop(session); });
  std::lock_guard lock(mu_);
  session_ = std::move(session);
  return Status::OK();
}

Status LeaderElection::BecomeLeader(const std::shared_ptr<Session>& session) {
  auto held = ReadLeaderKey(kv_, key_);
  if (held.ok() && (!held->has_value() || (*held)->lease != session->lease)) {
    held = Status(Code::kServiceUnavailable, "the leader key changed right after " + candidate_id_ + " won");
  }
  std::unique_ptr<WatchHandle> watch;
  if (held.ok()) {
    {
      std::lock_guard lock(mu_);
      session->leader = true;
    }
    // Any later change of the key means someone removed or replaced this leader.
    auto watched = kv_->Watch(
        key_, (*held)->mod_revision,
        [this, session](const WatchEvent& event) {
          if (event.kv.key == key_) Lose(session, Status(Code::kIoFailed, "the leader key was deleted or overwritten"));
        },
        [this, session](const Status& broken) { Lose(session, broken); });
    if (!watched.ok()) held = watched.status();
    if (watched.ok()) watch = std::move(*watched);
  }
  if (!held.ok()) {
    Status ended = EndSession();  // never leave a key behind that nobody considers its own
    if (!ended.ok()) spdlog::warn("election {}: resigning failed: {}", election_, ended.reason());
    return held.status();
  }
  std::lock_guard lock(mu_);
  if (session->leader) leader_watch_ = std::move(watch);  // else lost already, and reported
  spdlog::info("election {}: {} is the leader", election_, candidate_id_);
  return Status::OK();
}

Status LeaderElection::WaitForVacancy(Clock::time_point deadline) {
  auto held = ReadLeaderKey(kv_, key_);
  if (!held.ok()) return held.status();
  if (!held->has_value()) return Status::OK();
  bool vacant = false;
  auto wake = [this, &vacant] {
    {
      std::lock_guard lock(mu_);
      vacant = true;
    }
    changed_.notify_all();
  };
  auto watch = kv_->Watch(
      key_, (*held)->mod_revision,
      [&](const WatchEvent& event) {
        if (event.kv.key == key_ && event.type == WatchEvent::Type::kDelete) wake();
      },
      [&](const Status&) { wake(); });  // look again
  if (!watch.ok()) return watch.status();
  std::unique_lock lock(mu_);
  const bool woken =
      changed_.wait_until(lock, deadline, [&] { return vacant || stopped_ || !session_ || session_->lost; });
  lock.unlock();
  watch->reset();  // outside the lock: a running callback may be waiting for it
  if (woken) return Status::OK();
  return Status(Code::kServiceUnavailable, fmt::format("election {}: {} did not become the leader in time; {} leads",
                                                       election_, candidate_id_, (*held)->value));
}

void LeaderElection::KeepAliveLoop(std::shared_ptr<Session> session) {
  auto next_renewal = Clock::now() + ttl_ / 3;
  std::unique_lock lock(mu_);
  while (true) {
    changed_.wait_until(lock, next_renewal, [&] { return session->ended || session->lost; });
    if (session->ended || session->lost) return;
    const auto valid_until = session->valid_until;
    lock.unlock();
    const auto sent = Clock::now();
    // Asynchronous, so that a renewal stuck in the store's retries cannot outlast the lease.
    auto renewal = std::async(std::launch::async, [kv = kv_, lease = session->lease] { return kv->KeepAlive(lease); });
    if (renewal.wait_until(valid_until) != std::future_status::ready) {
      Lose(session, Status(Code::kIoFailed, "the lease was not renewed within its TTL: the store did not answer"));
      return;
    }
    Status renewed = renewal.get();
    if (renewed.code() == Code::kIoKeyNotFound) {
      Lose(session, renewed);
      return;
    }
    lock.lock();
    if (renewed.ok()) {
      session->valid_until = sent + ttl_;
      next_renewal = sent + ttl_ / 3;
    } else {
      spdlog::warn("election {}: renewing the lease of {} failed, retrying: {}", election_, candidate_id_,
                   renewed.reason());
      next_renewal = Clock::now() + ttl_ / 10;
    }
  }
}

void LeaderElection::Lose(const std::shared_ptr<Session>& session, const Status& why) {
  LostCallback on_lost;
  std::unique_ptr<WatchHandle> watch;
  bool was_leader = false;
  {
    std::lock_guard lock(mu_);
    if (session->lost || session->ended) return;
    session->lost = true;
    was_leader = std::exchange(session->leader, false);
    if (was_leader) {
      on_lost = std::move(on_lost_);
      watch = std::move(leader_watch_);
    }
  }
  changed_.notify_all();
  if (!was_leader) return;
  spdlog::warn("election {}: {} is no longer the leader: {}", election_, candidate_id_, why.reason());
  watch.reset();
  if (on_lost) on_lost(why);
}

Status LeaderElection::EndSession() {
  std::shared_ptr<Session> session;
  std::unique_ptr<WatchHandle> watch;
  {
    std::lock_guard lock(mu_);
    session = std::exchange(session_, nullptr);
    if (!session) return Status::OK();
    session->ended = true;
    session->leader = false;
    watch = std::move(leader_watch_);
    on_lost_ = nullptr;
  }
  changed_.notify_all();
  watch.reset();
  if (session->keeper.get_id() == std::this_thread::get_id()) {
    session->keeper.detach();  // on_lost, run by the keeper, resigned: the keeper ends after it
  } else {
    session->keeper.join();
  }
  Status revoked = kv_->RevokeLease(session->lease);  // deletes the leader key at once
  return revoked.code() == Code::kIoKeyNotFound ? Status::OK() : revoked;
}

bool LeaderElection::IsLeader() const {
  std::lock_guard lock(mu_);
  return session_ && session_->leader && Clock::now() < session_->valid_until;
}

Status LeaderElection::Resign() { return EndSession(); }

void LeaderElection::Stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  changed_.notify_all();
}

LeaseId LeaderElection::lease() const {
  std::lock_guard lock(mu_);
  return session_ ? session_->lease : kNoLease;
}

}  // namespace quiver::meta
