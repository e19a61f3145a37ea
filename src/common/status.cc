#include "common/status.h"

#include "common.pb.h"

namespace quiver {
namespace {

using milvus::proto::common::ErrorCode;

// The legacy enum that Milvus derives from each code (merr.oldCode); SDKs that predate
// `code` test `error_code != Success`, and a few branch on the specific value.
ErrorCode LegacyCode(Code code) {
  switch (code) {
    case Code::kOk: return milvus::proto::common::Success;
    case Code::kServiceNotReady: return milvus::proto::common::NotReadyServe;
    case Code::kCollectionNotFound: return milvus::proto::common::CollectionNotExists;
    case Code::kParameterInvalid: return milvus::proto::common::IllegalArgument;
    case Code::kIndexNotFound: return milvus::proto::common::IndexNotExist;
    default: return milvus::proto::common::UnexpectedError;
  }
}

}  // namespace

std::string Status::ToString() const {
  if (ok()) return "OK";
  return "code " + std::to_string(static_cast<int>(code_)) + ": " + reason_;
}

void Status::ToProto(milvus::proto::common::Status* out) const {
  out->set_code(static_cast<int>(code_));
  out->set_error_code(LegacyCode(code_));
  out->set_reason(reason_);
  out->set_retriable(code_ == Code::kServiceNotReady || code_ == Code::kServiceUnavailable);
}

milvus::proto::common::Status Status::ToProto() const {
  milvus::proto::common::Status out;
  ToProto(&out);
  return out;
}

Status CollectionNotFound(const std::string& name) {
  return {Code::kCollectionNotFound, "collection not found[collection=" + name + "]"};
}
Status DatabaseNotFound(const std::string& name) {
  return {Code::kDatabaseNotFound, "database not found[database=" + name + "]"};
}
Status PartitionNotFound(const std::string& name) {
  return {Code::kPartitionNotFound, "partition not found[partition=" + name + "]"};
}
Status AliasNotFound(const std::string& name) {
  return {Code::kAliasNotFound, "alias not found[alias=" + name + "]"};
}
Status InvalidParameter(const std::string& detail) {
  return {Code::kParameterInvalid, detail + ": invalid parameter"};
}
Status IllegalSchema(const std::string& detail) {
  return {Code::kCollectionIllegalSchema, "illegal collection schema[" + detail + "]"};
}
Status NotImplemented(const std::string& what) {
  return {Code::kServiceUnimplemented, "service unimplemented[" + what + " is not implemented yet in Quiver]"};
}
Status WouldWait(const std::string& what) { return {Code::kWouldWait, what + " would have to wait"}; }
Status Internal(const std::string& detail) {
  return {Code::kServiceInternal, "service internal error: " + detail};
}

}  // namespace quiver
