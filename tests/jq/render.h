// Test helper: an Output as one comparable string ("<empty>", "<error: msg>", or compact JSON).
#ifndef PORTOLAN_TESTS_JQ_RENDER_H_
#define PORTOLAN_TESTS_JQ_RENDER_H_

#include <string>

#include "engine/jq/jq.h"

namespace portolan::jq::testing {

inline std::string Render(const Output& out) {
  switch (out.kind) {
    case Output::Kind::kValue: return json::Write(out.value);
    case Output::Kind::kEmpty: return "<empty>";
    case Output::Kind::kError: return "<error: " + out.error + ">";
  }
  return "?";
}

}  // namespace portolan::jq::testing

#endif  // PORTOLAN_TESTS_JQ_RENDER_H_
