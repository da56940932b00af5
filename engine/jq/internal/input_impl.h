// The libjq value behind a jq::Input (shared by jq.cc and parse_inputs.cc).
#ifndef PORTOLAN_ENGINE_JQ_INTERNAL_INPUT_IMPL_H_
#define PORTOLAN_ENGINE_JQ_INTERNAL_INPUT_IMPL_H_

#include <memory>

#include "engine/jq/jq.h"

extern "C" {
#include <jv.h>
}

namespace portolan::jq {

struct Input::Impl {
  jv value;
  explicit Impl(jv v) : value(v) {}
  ~Impl() { jv_free(value); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
};

// Wraps a jv (ownership passes to the Input).
class InputBuilder {
 public:
  static Input Wrap(jv v) {
    Input in;
    in.impl_ = std::make_unique<Input::Impl>(v);
    return in;
  }
};

}  // namespace portolan::jq

#endif  // PORTOLAN_ENGINE_JQ_INTERNAL_INPUT_IMPL_H_
