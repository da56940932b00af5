// Server logging on spdlog: one output (stderr) shared by every logger, two line formats, and the
// HTTP access log.
//
// Contract:
//  - Text lines: "2026-12-04T16:00:00.123Z info http GET /v1/x 200 123B 0.4ms 127.0.0.1:5555"
//    (UTC time with milliseconds, level, logger name, message).
//  - JSON lines: one object per line with "time", "level", "logger", "msg"; access lines add
//    "method", "path", "status", "bytes", "ms" and "client".
//  - Loggers obtained through Logger() (and the default logger, named "portolan") all write
//    through the same sink, so ConfigureLogging() re-formats and re-levels all of them at once.
//    Without a ConfigureLogging() call the output is text at info level on stderr.
//  - Everything here is thread-safe (spdlog's multi-threaded sinks); loggers are synchronous, a
//    line is written before the logging call returns.
//  - The access log never carries query strings, header values or bodies: callers pass the path
//    without its query (bearer tokens and webhook secrets may ride in query strings).
#ifndef PORTOLAN_SERVER_LOG_H_
#define PORTOLAN_SERVER_LOG_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "engine/base/status.h"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace portolan::server {

// Sets the level (trace | debug | info | warn | error | off; "warning" and "critical" are accepted
// too, all case-insensitive) and the line format ("text" | "json") of every Portolan logger, and
// installs the default spdlog logger ("portolan", so spdlog::info(...) goes to the same output).
// Unknown names return InvalidArgument and change nothing. May be called again (tests); the first
// call should happen before other threads log through spdlog's default logger.
Status ConfigureLogging(std::string_view level, std::string_view format);

// The logger with this name ("http", "intake", ...), created on first use on the shared output
// with the configured level. A logger registered with spdlog under this name by other means is
// returned as is.
std::shared_ptr<spdlog::logger> Logger(std::string_view name);

// One access-log line. Views are only read during LogAccess().
struct AccessRecord {
  std::string_view method;  // "GET"
  std::string_view path;    // the request path WITHOUT its query string; "-" when unknown
  int status = 0;
  size_t bytes = 0;         // response body bytes
  double ms = 0;            // from the request's first byte to the response written
  std::string_view client;  // peer address, "127.0.0.1:53422"
};

// Logs `r` at info level on the "http" logger: text "GET /v1/x 200 123B 0.4ms 127.0.0.1:5555",
// or, in the json format, the same message plus the record's fields.
void LogAccess(const AccessRecord& r);

// Redirects every logger's output to `write` (called with each complete line, newline included,
// under the sink's lock); an empty function restores stderr. For tests capturing log output.
void SetLogOutputForTesting(std::function<void(std::string_view line)> write);

}  // namespace portolan::server

#endif  // PORTOLAN_SERVER_LOG_H_
