// LeaderElection: at most one leader at a time among the candidates of an election (the
// coordinators). Built only on MetaKV, so it works on the embedded store and on etcd.
//
// The leader is whoever holds the key "election/<name>" (value: its candidate id). A
// candidate creates it with a "key absent" compare, attached to a lease it keeps alive
// from a background thread, so the key vanishes when the leader resigns, dies, or cannot
// renew its lease. Waiting candidates watch the key and race to create it again.
//
// Contract:
// - Campaign() returns OK once this candidate leads; until its leadership ends, no other
//   candidate's Campaign() returns OK.
// - Leadership ends with Resign() (or destruction), or it is lost: the lease expired or was
//   revoked, was not renewed within its TTL (store unreachable), or the key was removed.
//   A loss is reported once through `on_lost`, from a background thread, no later than one
//   TTL after the last successful renewal (before the store can let anyone else win); the
//   leader must stop acting as leader then. IsLeader() turns false at the same moment.
//   `on_lost` may call Resign() or Campaign() again, but must not destroy the election.
// - After a failed Campaign or a loss, Campaign() may be called again (with a new lease).
// - Leader() and Observe() report whoever holds the key; any process may call them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "meta/meta_kv.h"

namespace quiver::meta {

// The candidate id leading `election` now, nullopt when nobody does.
StatusOr<std::optional<std::string>> CurrentLeader(MetaKV* kv, const std::string& election);

// Calls `on_change` with the current leader at once (from the calling thread), then with
// each new leader (nullopt: vacant) from the watch thread, until the handle is destroyed.
// Consecutive reports always differ.
StatusOr<std::unique_ptr<WatchHandle>> ObserveLeader(MetaKV* kv, const std::string& election,
                                                     std::function<void(const std::optional<std::string>&)> on_change);

class LeaderElection {
 public:
  using LostCallback = std::function<void(const Status& why)>;

  // `kv` must outlive the election. The lease is renewed every lease_ttl / 3.
  LeaderElection(MetaKV* kv, std::string election, std::string candidate_id, std::chrono::milliseconds lease_ttl);
  // Stops a running Campaign and resigns.
  ~LeaderElection();
  LeaderElection(const LeaderElection&) = delete;
  LeaderElection& operator=(const LeaderElection&) = delete;

  // Blocks until this candidate leads (OK, also when it already does), `timeout` passes
  // (kServiceUnavailable), Stop() is called (kServiceNotReady), or the store fails. One
  // Campaign at a time per election object.
  Status Campaign(std::chrono::milliseconds timeout, LostCallback on_lost);
  bool IsLeader() const;
  // Gives up leadership (deleting the key at once) or stops campaigning; OK if neither.
  Status Resign();
  // Makes a running and every later Campaign return kServiceNotReady.
  void Stop();

  StatusOr<std::optional<std::string>> Leader() const { return CurrentLeader(kv_, election_); }
  // The lease holding the leader key while campaigning or leading (kNoLease otherwise).
  LeaseId lease() const;
  const std::string& candidate_id() const { return candidate_id_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Session;

  Status StartSession();
  Status EndSession();
  Status BecomeLeader(const std::shared_ptr<Session>& session);
  // Waits until the leader key is gone (OK), or the deadline, Stop() or a lease loss.
  Status WaitForVacancy(Clock::time_point deadline);
  void KeepAliveLoop(std::shared_ptr<Session> session);
  void Lose(const std::shared_ptr<Session>& session, const Status& why);

  MetaKV* const kv_;
  const std::string election_;
  const std::string key_;
  const std::string candidate_id_;
  const std::chrono::milliseconds ttl_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool stopped_ = false;
  std::shared_ptr<Session> session_;  // the current lease, while campaigning or leading
  LostCallback on_lost_;
  std::unique_ptr<WatchHandle> leader_watch_;
};

}  // namespace quiver::meta
