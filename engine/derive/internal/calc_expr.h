// A native evaluator for the jq subset that calculation properties are usually written in
// (Port's DORA tiers, ratios, URL building): literals, `.a.b` paths, `$var`, `E as $v | E`,
// `|`, `//`, `or`, `and`, comparisons, `+ - * / %`, unary `-`, `if/elif/else/end`, and the
// zero-argument builtins null true false not empty now floor ceil round sqrt fabs length
// tostring tonumber type. Not part of the public interface.
//
// Why: libjq costs ~7 µs per evaluation plus ~7 µs to convert the input document, which would
// dominate an incremental recompute (DESIGN §3 plans native evaluation of simple expressions).
// Parsing also tells which `.properties.<key>` a calculation reads, so a calculation is only
// re-evaluated when one of them changed.
//
// Contract: for a program Parse() accepts, Evaluate() returns exactly what libjq 1.6 (with
// first-output semantics) returns, or kUnsupported for a runtime case outside the subset (the
// caller then runs libjq). tests/derive/calc_expr_test.cc checks this differentially.
// Semantics mirrored: jq's operand order (right operand of a binary operator first), errors
// propagating through `//`, `and`/`or` short-circuit, jq's total order for comparisons.
//
// Thread-safety: a parsed CalcExpr is immutable; Evaluate() is safe from several threads.
#ifndef PORTOLAN_ENGINE_DERIVE_INTERNAL_CALC_EXPR_H_
#define PORTOLAN_ENGINE_DERIVE_INTERNAL_CALC_EXPR_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "engine/base/json.h"
#include "engine/store/entity.h"

namespace portolan::derive::internal {

class CalcExpr {
 public:
  // The input document, read lazily from the entity (spec §4.2 shape: identifier, title, icon,
  // blueprint, team, properties = raw + derived except calculations, relations, createdAt,
  // updatedAt).
  struct Doc {
    const store::Entity* entity = nullptr;
    const std::unordered_set<std::string>* calc_keys = nullptr;  // excluded from properties
    double now = 0;
    // The whole document, for programs that use it as a value (`.`, `.properties`).
    std::function<json::Value()> materialize;
  };

  enum class Outcome { kValue, kEmpty, kError, kUnsupported };

  // Parses a program (Port dialect: single-quoted strings are rewritten first); nullptr when it
  // uses anything outside the subset.
  static std::unique_ptr<CalcExpr> Parse(std::string_view source);
  ~CalcExpr();

  // First output: a value, no output, or an error; kUnsupported: ask libjq.
  Outcome Evaluate(const Doc& doc, json::Value* out) const;

  // Keys read as .properties.<key>; reads_all() when the program reads the document or the
  // properties object as a whole.
  const std::vector<std::string>& property_reads() const { return property_reads_; }
  bool reads_all() const { return reads_all_; }
  bool uses_now() const { return uses_now_; }

  struct Node;

 private:
  CalcExpr() = default;
  std::unique_ptr<Node> root_;
  std::vector<std::string> property_reads_;
  bool reads_all_ = false;
  bool uses_now_ = false;
  int slots_ = 0;  // variables
};

}  // namespace portolan::derive::internal

#endif  // PORTOLAN_ENGINE_DERIVE_INTERNAL_CALC_EXPR_H_
