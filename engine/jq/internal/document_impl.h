// The simdjson DOM behind a jq::Document (shared by document.cc and the native evaluator).
#ifndef PORTOLAN_ENGINE_JQ_INTERNAL_DOCUMENT_IMPL_H_
#define PORTOLAN_ENGINE_JQ_INTERNAL_DOCUMENT_IMPL_H_

#include <simdjson.h>

#include <optional>

#include "engine/jq/document.h"

namespace portolan::jq {

struct Document::Impl {
  simdjson::dom::element root;
  mutable std::optional<Input> input;  // built on first use
};

}  // namespace portolan::jq

#endif  // PORTOLAN_ENGINE_JQ_INTERNAL_DOCUMENT_IMPL_H_
