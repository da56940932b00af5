// Internal: jq definitions that give libjq 1.6 the jq 1.7/1.8 builtins Port mappings use.
#ifndef PORTOLAN_ENGINE_JQ_INTERNAL_PRELUDE_H_
#define PORTOLAN_ENGINE_JQ_INTERNAL_PRELUDE_H_

#include <string>

#include "engine/jq/internal/dialect.h"

namespace portolan::jq::internal {

// The definitions the program refers to (by name or @format), with their dependencies, on one
// line and without a trailing newline; empty when it needs none. Selecting per program keeps
// the compile of a plain `.a.b` as cheap as libjq alone.
std::string PreludeFor(const DialectResult& program);

// Every definition, for tests that check the whole prelude compiles.
std::string FullPrelude();

}  // namespace portolan::jq::internal

#endif  // PORTOLAN_ENGINE_JQ_INTERNAL_PRELUDE_H_
