// One jq program with two engines behind it: the native evaluator (engine/jq/native.h) where
// the program is in its subset, libjq otherwise, chosen per program at compile time and per
// evaluation when the native one reaches a case outside the subset or an error (libjq then
// gives the result and jq's exact error message). The results are libjq's in every case.
//
// Thread-safety: as jq::Program (one thread; Clone() for another).
#ifndef PORTOLAN_ENGINE_JQ_EXPR_H_
#define PORTOLAN_ENGINE_JQ_EXPR_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/jq/document.h"
#include "engine/jq/jq.h"
#include "engine/jq/native.h"

namespace portolan::jq {

enum class Engine {
  kAuto,    // native where the program is in the subset, libjq for the rest (the default)
  kNative,  // the same, but a program outside the subset is a compile error
  kLibjq,   // libjq only
};

// "auto", "native", "libjq".
Result<Engine> ParseEngine(std::string_view name);

class Expr {
 public:
  // Always compiles with libjq (which validates the program and runs what the native engine
  // cannot); also natively unless `engine` is kLibjq. With kNative, a program outside the
  // subset is kInvalidArgument ("outside the native jq subset").
  static Result<std::unique_ptr<Expr>> Compile(std::string_view source,
                                               const CompileOptions& options = {},
                                               Engine engine = Engine::kAuto);

  // Compile for many programs, in order, at the cost of one libjq compile for all those in
  // the native subset: libjq only checks that they compile and compiles each one on its first
  // fallback (programs outside the subset are compiled at once). Errors as Compile's.
  static std::vector<Result<std::unique_ptr<Expr>>> CompileAll(
      std::span<const std::string> sources, const CompileOptions& options = {},
      Engine engine = Engine::kAuto);

  // First output, as Program::Evaluate.
  Output Evaluate(const Document& input);
  Output Evaluate(const Input& input) { return program_->Evaluate(input); }

  bool is_native() const { return native_ != nullptr; }
  Program& program() { return *program_; }
  const std::string& source() const { return program_->source(); }
  // The same program for another thread (libjq's side compiles there on first use).
  Result<std::unique_ptr<Expr>> Clone() const;

  // Evaluations of a native program that went to libjq (errors, runtime cases outside the
  // subset); for diagnostics and benchmarks.
  uint64_t fallbacks() const { return fallbacks_; }

 private:
  Expr() = default;
  static Result<std::unique_ptr<Expr>> Make(std::unique_ptr<Program> program,
                                            const CompileOptions& options, Engine engine);
  std::unique_ptr<Program> program_;
  std::unique_ptr<native::Program> native_;
  CompileOptions options_;
  Engine engine_ = Engine::kAuto;
  uint64_t fallbacks_ = 0;
};

}  // namespace portolan::jq

#endif  // PORTOLAN_ENGINE_JQ_EXPR_H_
