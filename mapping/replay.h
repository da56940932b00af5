// Replaying payload files through a mapping: the streamed, threaded run behind `portolan map`,
// `ingest` and `sync` (and any other caller that maps files).
//
// Payloads are streamed (payload_stream.h) in batches of item texts, which worker threads map
// with their own clone of the mapper; results reach `on_batch` in input order. Ocean's batch
// rule (a batch error abandons the resource for the rest of the run) is sequential: a batch
// mapped in parallel after such an error is mapped again, in order, with the run's state. With
// `items_path` the files are parsed whole to find the path, on the calling thread.
#ifndef PORTOLAN_MAPPING_REPLAY_H_
#define PORTOLAN_MAPPING_REPLAY_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "mapping/processor.h"

namespace portolan::mapping {

struct ReplayOptions {
  std::string kind;        // "" = every resource
  std::string items_path;  // "items" for {"items": [...]}
  // Mapping threads; 0 = one per core (at most 4) for inputs of 16 MB or more, one otherwise.
  size_t threads = 0;
  // Called now and then with the number of items mapped so far (progress display).
  std::function<void(size_t items)> on_progress;
};

// The threads a replay of these files uses when ReplayOptions::threads is 0.
size_t ReplayThreads(const std::vector<std::string>& payloads);

// Maps every item of `payloads` (files; "-" is standard input). Stops at the first error of
// `on_batch`, or at an item that is not valid JSON or not an object (after handing over the
// batches before it).
Status ReplayFiles(Mapper* mapper, const std::vector<std::string>& payloads,
                   const ReplayOptions& options,
                   const std::function<Status(MapResult)>& on_batch);

// Checks that the mapping has a resource of `kind` ("" always passes); the error lists the kinds
// it has.
Status CheckKind(const Mapper& mapper, const std::string& kind);

// Compile problems of the mapping, one line each (field path, jq text, jq's message).
std::vector<std::string> CompileProblems(const Mapper& mapper);

}  // namespace portolan::mapping

#endif  // PORTOLAN_MAPPING_REPLAY_H_
