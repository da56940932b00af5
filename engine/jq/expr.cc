#include "engine/jq/expr.h"

namespace portolan::jq {

Result<Engine> ParseEngine(std::string_view name) {
  if (name == "auto") return Engine::kAuto;
  if (name == "native") return Engine::kNative;
  if (name == "libjq") return Engine::kLibjq;
  return InvalidArgument("unknown jq engine \"" + std::string(name) +
                         "\" (expected auto, native or libjq)");
}

Result<std::unique_ptr<Expr>> Expr::Make(std::unique_ptr<Program> program,
                                         const CompileOptions& options, Engine engine) {
  std::unique_ptr<Expr> expr(new Expr());
  expr->options_ = options;
  expr->engine_ = engine;
  if (engine != Engine::kLibjq) {
    expr->native_ = native::Program::Parse(program->rewritten());
    if (!expr->native_ && engine == Engine::kNative) {
      return InvalidArgument("outside the native jq subset (engine/jq/README.md lists it): " +
                             program->source());
    }
  }
  expr->program_ = std::move(program);
  return expr;
}

Result<std::unique_ptr<Expr>> Expr::Compile(std::string_view source, const CompileOptions& options,
                                            Engine engine) {
  PORTOLAN_ASSIGN_OR_RETURN(std::unique_ptr<Program> program, Program::Compile(source, options));
  return Make(std::move(program), options, engine);
}

std::vector<Result<std::unique_ptr<Expr>>> Expr::CompileAll(std::span<const std::string> sources,
                                                            const CompileOptions& options,
                                                            Engine engine) {
  std::vector<Result<std::unique_ptr<Expr>>> out;
  out.reserve(sources.size());
  std::vector<Program*> deferred;  // native programs: libjq only checks that they compile
  for (const std::string& source : sources) {
    Result<std::unique_ptr<Program>> program = Program::Prepare(source, options);
    if (!program.ok()) {
      out.push_back(program.status());
      continue;
    }
    Program* p = program->get();
    out.push_back(Make(std::move(*program), options, engine));
    if (!out.back().ok()) continue;
    if ((*out.back())->is_native()) {
      deferred.push_back(p);
    } else {
      Status compiled = p->EnsureCompiled();  // libjq runs it: compile now
      if (!compiled.ok()) out.back() = compiled;
    }
  }
  if (Program::CompileTogether(deferred)) return out;
  // Some program does not compile: compile each alone for its own message.
  for (auto& expr : out) {
    if (!expr.ok() || (*expr)->program().is_compiled()) continue;
    Status compiled = (*expr)->program().EnsureCompiled();
    if (!compiled.ok()) expr = compiled;
  }
  return out;
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
  PORTOLAN_ASSIGN_OR_RETURN(std::unique_ptr<Program> program, program_->Clone());
  return Make(std::move(program), options_, engine_);
}

}  // namespace portolan::jq
