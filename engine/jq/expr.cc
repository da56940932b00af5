#include "engine/jq/expr.h"

namespace portolan::jq {

Result<Engine> ParseEngine(std::string_view name) {
  if (name == "auto") return Engine::kAuto;
  if (name == "native") return Engine::kNative;
  if (name == "libjq") return Engine::kLibjq;
  return InvalidArgument("unknown jq engine \"" + std::string(name) +
                         "\" (expected auto, native or libjq)");
}

const char* EngineName(Engine engine) {
  switch (engine) {
    case Engine::kAuto: return "auto";
    case Engine::kNative: return "native";
    case Engine::kLibjq: return "libjq";
  }
  return "auto";
}

Result<std::unique_ptr<Expr>> Expr::Compile(std::string_view source, const CompileOptions& options,
                                            Engine engine) {
  PORTOLAN_ASSIGN_OR_RETURN(std::unique_ptr<Program> program, Program::Compile(source, options));
  std::unique_ptr<Expr> expr(new Expr());
  expr->options_ = options;
  expr->engine_ = engine;
  if (engine != Engine::kLibjq) {
    expr->native_ = native::Program::Parse(program->rewritten());
    if (!expr->native_ && engine == Engine::kNative) {
      return InvalidArgument("outside the native jq subset (engine/jq/README.md lists it): " +
                             std::string(source));
    }
  }
  expr->program_ = std::move(program);
  return expr;
}

Output Expr::Evaluate(const Document& input) {
  if (native_) {
    Output out;
    switch (native_->Evaluate(input, &out.value)) {
      case native::Program::Outcome::kValue:
        out.kind = Output::Kind::kValue;
        return out;
      case native::Program::Outcome::kEmpty:
        out.kind = Output::Kind::kEmpty;
        return out;
      case native::Program::Outcome::kFallback:
        ++fallbacks_;
        break;
    }
  }
  return program_->Evaluate(input.input());
}

Result<std::unique_ptr<Expr>> Expr::Clone() const {
  return Compile(program_->source(), options_, engine_);
}

}  // namespace portolan::jq
