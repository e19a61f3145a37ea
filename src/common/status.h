// Status: the result of every fallible operation in Quiver.
//
// Codes are Milvus's (pkg/util/merr): clients branch on them, so a Quiver error must carry
// the same number Milvus would send for the same situation. ToProto() fills both the newer
// `code`/`reason` pair and the legacy `error_code` enum that older SDK paths still read.
#pragma once

#include <string>
#include <utility>

namespace milvus::proto::common {
class Status;
}

namespace quiver {

// Milvus error codes (merr). Only the ones Quiver produces are listed.
enum class Code : int {
  kOk = 0,
  kServiceNotReady = 1,
  kServiceUnavailable = 2,
  kServiceInternal = 5,
  kServiceUnimplemented = 10,
  kCollectionNotFound = 100,
  kCollectionNotLoaded = 101,
  kCollectionNumLimitExceeded = 102,
  kCollectionIllegalSchema = 105,
  kPartitionNotFound = 200,
  kPartitionNotLoaded = 201,
  kIndexNotFound = 700,
  kIndexNotSupported = 701,
  kIndexDuplicate = 702,
  kDatabaseNotFound = 800,
  kDatabaseNumLimitExceeded = 801,
  kDatabaseInvalidName = 802,
  kIoKeyNotFound = 1000,
  kIoFailed = 1001,
  kParameterInvalid = 1100,
  kParameterMissing = 1101,
  kParameterTooLarge = 1102,
  kAliasNotFound = 1600,
  kAliasCollectionNameConflict = 1601,
  kAliasAlreadyExist = 1602,
  kFieldNotFound = 1700,
  kFieldInvalidName = 1701,
  kOperationNotSupported = 3000,
  // Never sent: a read that was told not to wait (CallContext::may_wait) and would have had
  // to; the caller runs it again where it may wait.
  kWouldWait = 65534,
  kUnexpected = 65535,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string reason) : code_(code), reason_(std::move(reason)) {}

  static Status OK() { return {}; }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& reason() const { return reason_; }
  std::string ToString() const;

  // Writes code, reason and the legacy error_code into a Milvus status message.
  void ToProto(milvus::proto::common::Status* out) const;
  milvus::proto::common::Status ToProto() const;

 private:
  Code code_ = Code::kOk;
  std::string reason_;
};

// Shorthands that build the Milvus-style reason text ("collection not found[collection=x]").
Status CollectionNotFound(const std::string& name);
Status DatabaseNotFound(const std::string& name);
Status PartitionNotFound(const std::string& name);
Status AliasNotFound(const std::string& name);
Status InvalidParameter(const std::string& detail);
Status IllegalSchema(const std::string& detail);
Status NotImplemented(const std::string& what);
Status Internal(const std::string& detail);
Status WouldWait(const std::string& what);

// StatusOr<T>: a value or the error that prevented it.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design
  StatusOr(T value) : value_(std::move(value)) {}          // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return value_; }
  const T& value() const { return value_; }
  T& operator*() { return value_; }
  const T& operator*() const { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

 private:
  Status status_;
  T value_{};
};

}  // namespace quiver

// Returns from the calling function when `expr` yields a non-OK Status.
#define QUIVER_RETURN_IF_ERROR(expr)        \
  do {                                      \
    ::quiver::Status _st = (expr);          \
    if (!_st.ok()) return _st;              \
  } while (0)
