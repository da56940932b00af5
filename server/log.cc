#include "server/log.h"

#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "engine/base/json.h"
#include "engine/base/time.h"

namespace portolan::server {
namespace {

constexpr char kTextPattern[] = "%Y-%m-%dT%H:%M:%S.%eZ %l %n %v";
constexpr char kDefaultLoggerName[] = "portolan";

// The access record being logged on this thread, for the json formatter. Loggers are synchronous,
// so the formatter runs on the thread that called LogAccess().
thread_local const AccessRecord* t_access = nullptr;

std::string_view View(spdlog::string_view_t s) { return std::string_view(s.data(), s.size()); }

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    json::Value line = json::Value::MakeObject();
    line.Set("time", FormatIsoTime(static_cast<double>(ms) / 1000.0));
    line.Set("level", View(spdlog::level::to_string_view(msg.level)));
    line.Set("logger", View(msg.logger_name));
    line.Set("msg", View(msg.payload));
    if (const AccessRecord* r = t_access) {
      line.Set("method", r->method);
      line.Set("path", r->path);
      line.Set("status", r->status);
      line.Set("bytes", static_cast<uint64_t>(r->bytes));
      line.Set("ms", std::round(r->ms * 1000.0) / 1000.0);
      line.Set("client", r->client);
    }
    std::string text = json::Write(line);
    text.push_back('\n');
    dest.append(text.data(), text.data() + text.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// The one sink behind every Portolan logger: stderr, or a test capture function.
class OutputSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void SetOutput(std::function<void(std::string_view)> write) {
    std::lock_guard<std::mutex> lock(mutex_);
    write_ = std::move(write);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    if (write_) {
      write_(std::string_view(formatted.data(), formatted.size()));
    } else {
      std::fwrite(formatted.data(), 1, formatted.size(), stderr);
      std::fflush(stderr);
    }
  }
  void flush_() override {
    if (!write_) std::fflush(stderr);
  }

 private:
  std::function<void(std::string_view)> write_;
};

std::unique_ptr<spdlog::formatter> MakeFormatter(bool json) {
  if (json) return std::make_unique<JsonFormatter>();
  return std::make_unique<spdlog::pattern_formatter>(kTextPattern, spdlog::pattern_time_type::utc);
}

struct LogState {
  std::mutex mu;  // guards level and logger creation
  std::shared_ptr<OutputSink> sink;
  spdlog::level::level_enum level = spdlog::level::info;
  bool default_installed = false;
};

LogState& State() {
  // Leaked on purpose: loggers may be used from threads still running during static destruction.
  static LogState* state = [] {
    auto* s = new LogState;
    s->sink = std::make_shared<OutputSink>();
    s->sink->set_formatter(MakeFormatter(false));
    return s;
  }();
  return *state;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Requires State().mu.
std::shared_ptr<spdlog::logger> CreateLocked(LogState& state, const std::string& name) {
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, state.sink);
  logger->set_level(state.level);
  try {
    spdlog::register_logger(logger);
  } catch (const std::exception&) {
    // Registered concurrently by someone else: use theirs.
    if (auto existing = spdlog::get(name)) return existing;
  }
  return logger;
}

}  // namespace

Status ConfigureLogging(std::string_view level, std::string_view format) {
  const std::string level_name = Lower(level);
  spdlog::level::level_enum lvl;
  if (level_name == "trace") {
    lvl = spdlog::level::trace;
  } else if (level_name == "debug") {
    lvl = spdlog::level::debug;
  } else if (level_name == "info") {
    lvl = spdlog::level::info;
  } else if (level_name == "warn" || level_name == "warning") {
    lvl = spdlog::level::warn;
  } else if (level_name == "error") {
    lvl = spdlog::level::err;
  } else if (level_name == "critical") {
    lvl = spdlog::level::critical;
  } else if (level_name == "off") {
    lvl = spdlog::level::off;
  } else {
    return InvalidArgument("unknown log level '" + std::string(level) +
                           "' (expected trace, debug, info, warn, error or off)");
  }
  const std::string format_name = Lower(format);
  if (format_name != "text" && format_name != "json") {
    return InvalidArgument("unknown log format '" + std::string(format) +
                           "' (expected text or json)");
  }

  LogState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  state.level = lvl;
  state.sink->set_formatter(MakeFormatter(format_name == "json"));
  if (!state.default_installed) {
    auto logger = std::make_shared<spdlog::logger>(kDefaultLoggerName, state.sink);
    if (auto existing = spdlog::get(kDefaultLoggerName)) logger = existing;
    spdlog::set_default_logger(logger);
    state.default_installed = true;
  }
  // Sets the level of every registered logger (ours and the default) and of later spdlog ones.
  spdlog::set_level(lvl);
  return Status::Ok();
}

std::shared_ptr<spdlog::logger> Logger(std::string_view name) {
  const std::string key(name);
  if (auto existing = spdlog::get(key)) return existing;
  LogState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  return CreateLocked(state, key);
}

void LogAccess(const AccessRecord& r) {
  static const std::shared_ptr<spdlog::logger> logger = Logger("http");
  if (!logger->should_log(spdlog::level::info)) return;
  t_access = &r;
  logger->info("{} {} {} {}B {:.1f}ms {}", r.method, r.path, r.status, r.bytes, r.ms, r.client);
  t_access = nullptr;
}

void SetLogOutputForTesting(std::function<void(std::string_view line)> write) {
  State().sink->SetOutput(std::move(write));
}

}  // namespace portolan::server
