// The jq runtime: Port's jq dialect compiled once on libjq 1.6, evaluated per input with
// first-output semantics. Raw libjq types never leave engine/jq/.
//
// Thread-safety: a Program owns one jq_state and is NOT thread-safe; compile one Program per
// thread (Program::Clone()). An Input is immutable after construction and may be shared by the
// programs of one thread.
#ifndef PORTOLAN_ENGINE_JQ_JQ_H_
#define PORTOLAN_ENGINE_JQ_JQ_H_

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "engine/base/json.h"
#include "engine/base/status.h"

namespace portolan::jq {

struct CompileOptions {
  // `env` and `$ENV` expose the process environment only when true (DESIGN §2).
  bool allow_env = false;
};

// Rewrites Port's dialect to standard jq with a real tokenizer: every single-quoted string
// literal becomes a double-quoted one (also after '.', as in `.properties.'a-b'`); apostrophes
// inside double-quoted strings and comments stay. Also rewrites jq 1.7 syntax libjq 1.6 lacks:
// `if ... then ... end` without `else`, if/reduce/foreach used as terms (wrapped in
// parentheses), `.a.[0]`, `{$k: v}`. Whatever Ocean's regex rewrite compiles, this rewrite
// computes the same (tests/jq/dialect_test.cc), except for quotes inside double-quoted strings,
// which Ocean corrupts and this keeps.
std::string RewriteDialect(std::string_view source);

// A payload converted once to libjq's representation and shared across programs.
class Input {
 public:
  // From parsed JSON.
  explicit Input(const json::Value& value);
  // Parses JSON text with libjq's parser. Errors name line/column when libjq reports them.
  static Result<Input> FromText(std::string_view text);
  ~Input();
  Input(Input&&) noexcept;
  Input& operator=(Input&&) noexcept;
  Input(const Input&);
  Input& operator=(const Input&);

  // Back to json::Value (for tests and for itemsToParse expansion).
  json::Value ToJson() const;
  // The JSON type of the value.
  json::Type type() const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  friend class InputBuilder;
  Input();
  std::unique_ptr<Impl> impl_;
};

// Parses a sequence of JSON values (one document, JSON Lines, or concatenated JSON) straight
// into libjq values, without an intermediate json::Value: the fast path for payload files.
// Elements of a top-level array are handed over one by one (`element` is their index; -1 for a
// value that is not inside a top-level array). UTF-8 is validated; errors read
// "line 3, column 7: <message>" like json::Parse. A non-OK status from `on_input` stops the
// parse and is returned as is.
Status ParseInputs(std::string_view text,
                   const std::function<Status(Input input, int line, long element)>& on_input);

// The outcome of one evaluation: the first output, no output, or an error (with jq's message).
struct Output {
  enum class Kind { kValue, kEmpty, kError };
  Kind kind = Kind::kEmpty;
  json::Value value;  // kValue only; integral numbers come out integral
  std::string error;  // kError only

  bool has_value() const { return kind == Kind::kValue; }
  // Field semantics (Ocean): error or no output -> null.
  json::Value ValueOrNull() const { return has_value() ? value : json::Value(); }
};

class Program {
 public:
  // Compiles `source` (Port dialect) with the prelude definitions it uses (jq 1.7/1.8 builtins,
  // engine/jq/prelude.cc). Errors (kInvalidArgument) carry jq's compile message, with line
  // numbers as written, and the program text. `import`/`include` are rejected. An empty program
  // is `.`, as in libjq.
  static Result<std::unique_ptr<Program>> Compile(std::string_view source,
                                                  const CompileOptions& options = {});
  // Compile's checks and rewrites without libjq's compile (jq_init + jq_compile, ~15 ms),
  // which the first Evaluate (or EnsureCompiled) does. For programs known to compile: by
  // CompileTogether, or as a Clone of a compiled program.
  static Result<std::unique_ptr<Program>> Prepare(std::string_view source,
                                                  const CompileOptions& options = {});
  // One libjq compile for many prepared programs: true when all of them compile (then each
  // compiles alone as well). False says only that some program does not compile together
  // with the others; EnsureCompiled on each one names it.
  static bool CompileTogether(std::span<Program* const> programs);
  ~Program();

  // Compiles a prepared program now; Compile's errors. No-op once compiled.
  Status EnsureCompiled();
  bool is_compiled() const;

  // First output only: jq_next is called once, so errors after the first output are unseen.
  // `error(null)` counts as no output (libjq 1.6 cannot tell them apart); `halt` gives no
  // output and `halt_error` an error with its input as the message.
  Output Evaluate(const Input& input);
  Output Evaluate(const json::Value& input) { return Evaluate(Input(input)); }

  // The same program for another thread, prepared: libjq compiles it on first use there.
  Result<std::unique_ptr<Program>> Clone() const;

  const std::string& source() const { return source_; }        // as written
  const std::string& rewritten() const { return rewritten_; }  // after RewriteDialect()
  // What libjq compiled: the prelude definitions the program uses and, unless
  // CompileOptions::allow_env, the `env`/`$ENV` lockdown, on one line before rewritten().
  const std::string& compiled() const { return compiled_; }

  struct Impl;

 private:
  Program();
  std::string source_;
  std::string rewritten_;
  std::string compiled_;
  int shift_ = 0;  // lines before rewritten() in compiled()
  CompileOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portolan::jq

#endif  // PORTOLAN_ENGINE_JQ_JQ_H_
