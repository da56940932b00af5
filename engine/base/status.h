// Status and Result<T>: the error type of every fallible Portolan function.
// Names follow Abseil (ok(), code(), message(), value()) so a later switch is mechanical.
#ifndef PORTOLAN_ENGINE_BASE_STATUS_H_
#define PORTOLAN_ENGINE_BASE_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace portolan {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad blueprint / mapping / payload, jq compile error, schema violation
  kNotFound,            // missing entity, blueprint or related entity
  kAlreadyExists,       // identifier taken
  kFailedPrecondition,  // relation target missing, dependency cycle, required relation
  kUnimplemented,
  kInternal,            // a bug or an I/O failure
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Port API error code for this status ("blueprint_schema_mismatch", "not_found", ...).
  // Empty unless set; see engine/store for the codes used.
  const std::string& port_error() const { return port_error_; }
  Status& set_port_error(std::string e) {
    port_error_ = std::move(e);
    return *this;
  }

  // Prefixes the message with context ("deployment.json: ").
  Status WithContext(const std::string& prefix) const {
    Status s = *this;
    if (!ok()) s.message_ = prefix + message_;
    return s;
  }

  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string port_error_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok());
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace portolan

#define PORTOLAN_RETURN_IF_ERROR(expr)         \
  do {                                         \
    ::portolan::Status _st = (expr);           \
    if (!_st.ok()) return _st;                 \
  } while (0)

#define PORTOLAN_CONCAT_INNER_(a, b) a##b
#define PORTOLAN_CONCAT_(a, b) PORTOLAN_CONCAT_INNER_(a, b)
#define PORTOLAN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()
#define PORTOLAN_ASSIGN_OR_RETURN(lhs, expr) \
  PORTOLAN_ASSIGN_OR_RETURN_IMPL_(PORTOLAN_CONCAT_(_res_, __LINE__), lhs, expr)

#endif  // PORTOLAN_ENGINE_BASE_STATUS_H_
