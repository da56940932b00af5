// libjq 1.6 behind engine/jq/jq.h (with parse_inputs.cc, the only code that touches jv).
//
// Reference counting follows jv.h: every jv_* function consumes its jv arguments and returns
// a new reference, except jv_copy, jv_get_kind, jv_number_value, jv_string_value and the
// object iterator accessors, which borrow.
#include "engine/jq/jq.h"

#include <cfloat>
#include <cmath>
#include <limits>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/jq/internal/dialect.h"
#include "engine/jq/internal/input_impl.h"
#include "engine/jq/internal/prelude.h"

extern "C" {
#include <jq.h>
#include <jv.h>
}

namespace portolan::jq {


struct Program::Impl {
  jq_state* jq = nullptr;
  std::vector<std::string> errors;  // compile messages from the error callback
  ~Impl() {
    if (jq != nullptr) jq_teardown(&jq);
  }
};

namespace {

// Outputs nested deeper than this are reported as errors: converting (and later destroying)
// them recursively could overflow the stack.
constexpr int kMaxOutputDepth = 1000;

jv ToJv(const json::Value& v) {
  switch (v.type()) {
    case json::Type::kNull:
      return jv_null();
    case json::Type::kBool:
      return jv_bool(v.as_bool());
    case json::Type::kNumber:
      return jv_number(v.as_number());
    case json::Type::kString: {
      const std::string& s = v.as_string();
      return jv_string_sized(s.data(), static_cast<int>(s.size()));
    }
    case json::Type::kArray: {
      const json::Array& a = v.as_array();
      jv out = jv_array_sized(static_cast<int>(a.size()));
      for (const json::Value& e : a) out = jv_array_append(out, ToJv(e));
      return out;
    }
    case json::Type::kObject: {
      jv out = jv_object();
      for (const auto& [key, value] : v.as_object()) {
        out = jv_object_set(out, jv_string_sized(key.data(), static_cast<int>(key.size())),
                            ToJv(value));
      }
      return out;
    }
  }
  return jv_null();
}

std::string StringOf(jv s) {  // borrows
  return std::string(jv_string_value(s), jv_string_length_bytes(jv_copy(s)));
}

// Numbers as jq.py converts them: integral values are integers (json::Value prints them so),
// NaN is null, infinities are ±DBL_MAX, and -0 is 0 (Python's int(-0.0)).
json::Value NumberOf(double d) {
  if (std::isnan(d)) return json::Value();
  if (std::isinf(d)) return json::Value(d > 0 ? DBL_MAX : -DBL_MAX);
  if (d == 0) return json::Value(0.0);
  return json::Value(d);
}

// Borrows `v`. False when the value nests deeper than kMaxOutputDepth.
bool FromJv(jv v, int depth, json::Value* out) {
  if (depth > kMaxOutputDepth) return false;
  switch (jv_get_kind(v)) {
    case JV_KIND_INVALID:
    case JV_KIND_NULL:
      *out = json::Value();
      return true;
    case JV_KIND_FALSE:
      *out = json::Value(false);
      return true;
    case JV_KIND_TRUE:
      *out = json::Value(true);
      return true;
    case JV_KIND_NUMBER:
      *out = NumberOf(jv_number_value(v));
      return true;
    case JV_KIND_STRING:
      *out = json::Value(StringOf(v));
      return true;
    case JV_KIND_ARRAY: {
      const int n = jv_array_length(jv_copy(v));
      json::Array a(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        jv e = jv_array_get(jv_copy(v), i);
        bool ok = FromJv(e, depth + 1, &a[i]);
        jv_free(e);
        if (!ok) return false;
      }
      *out = json::Value(std::move(a));
      return true;
    }
    case JV_KIND_OBJECT: {
      json::Object o;
      o.reserve(static_cast<size_t>(jv_object_length(jv_copy(v))));
      for (int it = jv_object_iter(v); jv_object_iter_valid(v, it);
           it = jv_object_iter_next(v, it)) {
        jv key = jv_object_iter_key(v, it);
        jv value = jv_object_iter_value(v, it);
        o.emplace_back(StringOf(key), json::Value());
        bool ok = FromJv(value, depth + 1, &o.back().second);
        jv_free(key);
        jv_free(value);
        if (!ok) return false;
      }
      *out = json::Value(std::move(o));
      return true;
    }
  }
  return false;
}

// A jq error value as text: strings as they are, anything else as JSON (as jq's CLI does).
std::string MessageOf(jv msg) {  // consumes
  std::string text;
  if (jv_get_kind(msg) == JV_KIND_STRING) {
    text = StringOf(msg);
  } else {
    jv dumped = jv_dump_string(jv_copy(msg), 0);
    text = StringOf(dumped) + " (not a string)";
    jv_free(dumped);
  }
  jv_free(msg);
  return text;
}

void CollectError(void* data, jv msg) {
  auto* errors = static_cast<std::vector<std::string>*>(data);
  if (jv_get_kind(msg) != JV_KIND_STRING) msg = jq_format_error(msg);
  errors->push_back(MessageOf(msg));
}

void DropDebug(void*, jv msg) { jv_free(msg); }

// Oniguruma initializes itself, without a lock, on the first regex compiled in the process
// (onig_reg_init). Compiling one regex up front, once, keeps threads that evaluate regex
// programs for the first time from racing there.
void WarmUpRegex() {
  static std::once_flag once;
  std::call_once(once, [] {
    jq_state* jq = jq_init();
    if (jq == nullptr) return;
    std::vector<std::string> ignored;
    jq_set_error_cb(jq, CollectError, &ignored);
    if (jq_compile(jq, "test(\"a\")")) {
      jq_start(jq, jv_string("a"), 0);
      jv_free(jq_next(jq));
    }
    jq_teardown(&jq);
  });
}

bool UsesRegex(const internal::DialectResult& d) {
  static constexpr std::string_view kRegex[] = {"test",  "match",  "capture", "scan",
                                                "split", "splits", "sub",     "gsub"};
  for (std::string_view name : kRegex) {
    if (d.names.count(name) > 0) return true;
  }
  return d.formats.count("urid") > 0;
}

// libjq compiles, one at a time (see Program::EnsureCompiled).
std::mutex& CompileMutex() {
  static std::mutex mu;
  return mu;
}

// libjq reports each error as "jq: error: <what> at <top-level>, line N:\n<that line>" and ends
// with "jq: K compile error(s)". Keep "<what> at line N", N counted in the program as written
// (the prelude line shifts libjq's count by `shift`); the caller appends the whole program.
std::string CompileMessage(const std::vector<std::string>& errors, int shift) {
  static constexpr std::string_view kShellHint = " (Unix shell quoting issues?)";
  static constexpr std::string_view kAt = " at <top-level>, line ";
  std::string out;
  for (std::string e : errors) {
    if (e.rfind("jq: error: ", 0) == 0) {
      e.erase(0, 11);
    } else if (e.rfind("jq: ", 0) == 0 && e.find("compile error") != std::string::npos) {
      continue;
    }
    e = e.substr(0, e.find('\n'));
    if (size_t hint = e.find(kShellHint); hint != std::string::npos) {
      e.erase(hint, kShellHint.size());
    }
    if (size_t at = e.find(kAt); at != std::string::npos) {
      size_t num = at + kAt.size();
      size_t end = num;
      while (end < e.size() && e[end] >= '0' && e[end] <= '9') ++end;
      int line = end > num ? std::stoi(e.substr(num, end - num)) : 0;
      if (line > shift) line -= shift;
      e = e.substr(0, at) + " at line " + std::to_string(line) + e.substr(end);
    }
    while (!e.empty() && (e.back() == ':' || e.back() == ' ')) e.pop_back();
    if (!out.empty()) out += "; ";
    out += e;
  }
  return out.empty() ? "unknown error" : out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Input

Input::Input() = default;
Input::Input(const json::Value& value) : impl_(std::make_unique<Impl>(ToJv(value))) {}
Input::~Input() = default;
Input::Input(Input&&) noexcept = default;
Input& Input::operator=(Input&&) noexcept = default;
Input::Input(const Input& other)
    : impl_(other.impl_ ? std::make_unique<Impl>(jv_copy(other.impl_->value)) : nullptr) {}
Input& Input::operator=(const Input& other) {
  if (this != &other) {
    impl_ = other.impl_ ? std::make_unique<Impl>(jv_copy(other.impl_->value)) : nullptr;
  }
  return *this;
}

Result<Input> Input::FromText(std::string_view text) {
  if (text.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return InvalidArgument("JSON text too large for libjq (" + std::to_string(text.size()) +
                           " bytes)");
  }
  // The parser API rather than jv_parse_sized: the latter appends the whole text to its
  // error messages and needs a NUL-terminated buffer.
  jv_parser* parser = jv_parser_new(0);
  jv_parser_set_buf(parser, text.data(), static_cast<int>(text.size()), /*is_partial=*/0);
  jv value = jv_parser_next(parser);
  Status status;
  if (jv_is_valid(value)) {
    jv extra = jv_parser_next(parser);
    if (jv_is_valid(extra)) {
      status = InvalidArgument("Unexpected extra JSON values");
    } else if (jv_invalid_has_msg(jv_copy(extra))) {
      status = InvalidArgument(MessageOf(jv_invalid_get_msg(jv_copy(extra))));
    }
    jv_free(extra);
  } else if (jv_invalid_has_msg(jv_copy(value))) {
    status = InvalidArgument(MessageOf(jv_invalid_get_msg(jv_copy(value))));
  } else {
    status = InvalidArgument("Expected a JSON value, got no input");
  }
  jv_parser_free(parser);
  if (!status.ok()) {
    jv_free(value);
    return status;
  }
  Input input;
  input.impl_ = std::make_unique<Impl>(value);
  return input;
}

json::Value Input::ToJson() const {
  json::Value out;
  if (impl_) FromJv(impl_->value, 0, &out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Program

Program::Program() : impl_(std::make_unique<Impl>()) {}
Program::~Program() = default;

Result<std::unique_ptr<Program>> Program::Prepare(std::string_view source,
                                                  const CompileOptions& options) {
  std::unique_ptr<Program> program(new Program());
  program->source_ = std::string(source);
  program->options_ = options;

  if (source.find('\0') != std::string_view::npos) {
    // jq_compile takes a C string: it would compile only the text before the NUL.
    return InvalidArgument("jq program contains a NUL byte, in `" + program->source_ + "`");
  }
  internal::DialectResult dialect = internal::Rewrite(source);
  if (dialect.uses_modules) {
    return InvalidArgument("jq modules (import/include) are not supported, in `" +
                           program->source_ + "`");
  }
  // libjq compiles an empty program as `.`; the env prefix below needs an expression.
  program->rewritten_ = dialect.has_code ? std::move(dialect.text) : ".";

  // The prelude and the env lockdown go on one line of their own before the program, so
  // libjq's line numbers for the program are off by exactly one (CompileMessage undoes it).
  std::string prefix = internal::PreludeFor(dialect);
  if (!options.allow_env) {
    if (!prefix.empty()) prefix.push_back(' ');
    prefix += "def env: {}; {} as $ENV |";
  }
  program->shift_ = prefix.empty() ? 0 : 1;
  program->compiled_ = prefix.empty() ? program->rewritten_ : prefix + "\n" + program->rewritten_;

  // Regex support is initialised here, on the loading thread, not on a worker's first use.
  if (UsesRegex(dialect)) WarmUpRegex();
  return program;
}

Result<std::unique_ptr<Program>> Program::Compile(std::string_view source,
                                                  const CompileOptions& options) {
  PORTOLAN_ASSIGN_OR_RETURN(std::unique_ptr<Program> program, Prepare(source, options));
  PORTOLAN_RETURN_IF_ERROR(program->EnsureCompiled());
  return program;
}

bool Program::is_compiled() const { return impl_->jq != nullptr; }

Status Program::EnsureCompiled() {
  Impl& impl = *impl_;
  if (impl.jq != nullptr) return Status::Ok();
  // Prepared programs may compile on worker threads; one compile at a time, as on the thread
  // that loads a configuration (libjq 1.6 makes no promise about concurrent compiles).
  std::lock_guard<std::mutex> lock(CompileMutex());
  jq_state* jq = jq_init();
  if (jq == nullptr) return Internal("jq_init failed (out of memory)");
  impl.errors.clear();
  jq_set_error_cb(jq, CollectError, &impl.errors);
  jq_set_debug_cb(jq, DropDebug, nullptr);
  if (!jq_compile(jq, compiled_.c_str())) {
    jq_teardown(&jq);
    return InvalidArgument("jq compile error: " + CompileMessage(impl.errors, shift_) + ", in `" +
                           source_ + "`" +
                           (rewritten_ != source_ ? " (rewritten as `" + rewritten_ + "`)" : ""));
  }
  impl.errors.clear();
  impl.jq = jq;
  return Status::Ok();
}

bool Program::CompileTogether(std::span<Program* const> programs) {
  if (programs.empty()) return true;
  // Each program becomes the body of a definition, on lines of its own so that a comment in
  // it cannot reach the separators. A program that only compiles alone (one made of
  // definitions only, say) fails here and is compiled alone by the caller.
  std::string text;
  for (size_t i = 0; i < programs.size(); ++i) {
    text += "def __portolan_check_" + std::to_string(i) + ":\n" + programs[i]->compiled_ + "\n;\n";
  }
  text += ".";
  std::vector<std::string> errors;
  std::lock_guard<std::mutex> lock(CompileMutex());
  jq_state* jq = jq_init();
  if (jq == nullptr) return false;
  jq_set_error_cb(jq, CollectError, &errors);
  jq_set_debug_cb(jq, DropDebug, nullptr);
  const bool ok = jq_compile(jq, text.c_str()) != 0;
  jq_teardown(&jq);
  return ok;
}

Result<std::unique_ptr<Program>> Program::Clone() const { return Prepare(source_, options_); }

Output Program::Evaluate(const Input& input) {
  Output out;
  if (impl_->jq == nullptr) {  // prepared or cloned: libjq compiles on first use
    Status compiled = EnsureCompiled();
    if (!compiled.ok()) {
      out.kind = Output::Kind::kError;
      out.error = compiled.message();
      return out;
    }
  }
  jq_state* jq = impl_->jq;
  jq_start(jq, jv_copy(input.impl().value), 0);
  // Once: later outputs and their errors are never computed. The prelude replaces `halt` and
  // `halt_error`, so the state is never halted (see prelude.cc).
  jv result = jq_next(jq);
  if (jv_is_valid(result)) {
    if (FromJv(result, 0, &out.value)) {
      out.kind = Output::Kind::kValue;
    } else {
      out.value = json::Value();
      out.kind = Output::Kind::kError;
      out.error = "output nested more than " + std::to_string(kMaxOutputDepth) + " levels deep";
    }
    jv_free(result);
  } else if (jv_invalid_has_msg(jv_copy(result))) {
    out.kind = Output::Kind::kError;
    out.error = MessageOf(jv_invalid_get_msg(result));
  } else {
    jv_free(result);  // no output; also `error(null)`, which libjq 1.6 cannot tell apart
  }
  // Restart on null so the suspended program drops its references into the input now: jv
  // reference counts are not atomic, and the caller may hand the input to another thread.
  jq_start(jq, jv_null(), 0);
  return out;
}

}  // namespace portolan::jq
