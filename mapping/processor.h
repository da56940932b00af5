// The entity processor: raw items -> entity bodies, as Ocean's JQEntityProcessor does it
// (ocean-mapping spec §3, §4): itemsToParse fan-out, selector, one jq program per field (first
// output, error -> null), truthy identifier and blueprint, icon and team coercion.
//
// Each item is converted to a jq::Input once and shared by every program of every resource of
// the kind; no program is compiled after load. Items are mapped in batches: Map() maps one batch;
// MapStream feeds items one at a time and hands each batch to a sink, for inputs too large to
// hold. Within a batch, results are grouped by resource (resource order, then item order), as
// Ocean maps resource by resource.
//
// Thread-safety: a Mapper is not thread-safe (its jq programs are not); Clone() one per thread.
#ifndef PORTOLAN_MAPPING_PROCESSOR_H_
#define PORTOLAN_MAPPING_PROCESSOR_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/json.h"
#include "engine/base/status.h"
#include "engine/jq/document.h"
#include "mapping/config.h"

namespace portolan::mapping {

// An error that Ocean records as an exception of the batch (spec §3.7). Any of them makes the
// run "failed": a resync then skips its delete phase (sync.h).
struct ItemError {
  enum class Scope {
    kItem,   // the selector failed on this item (error, no output, not a boolean)
    kBatch,  // icon came out as a list or object: the resource's batch is dropped (§3.7)
  };
  size_t resource = 0;            // index in MappingConfig::resources
  std::string kind;               // the resource's kind
  size_t index = 0;               // position of the raw item in the run (0-based)
  std::optional<size_t> element;  // position in the itemsToParse array, when fanned out
  Scope scope = Scope::kItem;
  std::string message;  // Ocean's wording, e.g. "Expected boolean value for ..."

  // "resources[0] (pull-request) item 3: <message>"
  std::string ToString() const;
};

// Something Ocean only logs as a WARNING (itemsToParse problems): the item is skipped but the
// run is not failed.
struct ItemWarning {
  size_t resource = 0;
  std::string kind;
  size_t index = 0;
  std::string message;

  std::string ToString() const;
};

// A mapped field that came out null for at least one item (Ocean's misconfigured_entity_keys).
struct MisconfiguredField {
  size_t resource = 0;
  std::string path;    // "properties.createdAt", "relations.owner.rules.value"
  std::string jq;      // the program text ("null" for an explicit YAML null)
  std::string reason;  // first cause seen: "null", "no output", a jq error or compile error
};

// Where an entity came from.
struct EntityOrigin {
  size_t resource = 0;
  size_t index = 0;
  std::optional<size_t> element;
};

struct MapResult {
  // Entity bodies: {identifier, title?, blueprint, icon?, team?, properties?, relations?} with
  // only the mapped keys, nulls kept. `origins` is parallel to `entities`.
  std::vector<json::Value> entities;
  std::vector<EntityOrigin> origins;
  std::vector<ItemError> errors;
  // Unioned across items, sorted by (resource, path), one record per path.
  std::vector<MisconfiguredField> misconfigured;
  // Ocean's "N transformations of batch failed due to empty, null or missing values": items
  // the selector filtered out plus items whose identifier or blueprint was falsy.
  size_t skipped = 0;
  size_t filtered = 0;  // the part of `skipped` the selector filtered out
  std::vector<ItemWarning> warnings;

  bool failed() const { return !errors.empty(); }
  // path -> jq text for one resource.
  std::map<std::string, std::string> MisconfiguredOf(size_t resource) const;
  // Appends a later batch of the same run (misconfigured fields are unioned).
  void Merge(MapResult&& later);
};

// What carries over between the batches of one run.
struct RunState {
  size_t next_index = 0;       // run position of the next batch's first item
  std::set<size_t> abandoned;  // resources dropped after a batch error (Ocean abandons the kind)
};

// One raw item as the jq programs see it (processor.cc).
struct ItemRef;

class Mapper {
 public:
  // Loads and compiles a mapping (see MappingConfig::LoadFile / LoadText for the errors).
  static Result<Mapper> Load(const std::string& path, const LoadOptions& options = {});
  static Result<Mapper> LoadText(std::string_view yaml, std::string_view name = "mapping",
                                 const LoadOptions& options = {});
  explicit Mapper(MappingConfig config) : config_(std::move(config)) {}

  const MappingConfig& config() const { return config_; }
  // A fresh Mapper for another thread (recompiles from the same text).
  Result<Mapper> Clone() const;

  // Indexes of the resources that map `kind`, in config order (all of them when `kind` is "").
  std::vector<size_t> ResourcesFor(std::string_view kind) const;

  // Maps one batch of raw items with every resource of `kind` ("" = every resource). Never
  // fails as a whole: item problems are in the result.
  MapResult Map(std::string_view kind, std::span<const json::Value> items);
  // The same as one batch of a longer run: item indexes continue from `run->next_index`, and
  // resources abandoned by an earlier batch error stay abandoned.
  MapResult Map(std::string_view kind, std::span<const json::Value> items, RunState* run);
  // The same for items already converted to jq inputs (the payload fast path, see
  // ReadPayloadInputs): no json::Value is built unless itemsToParse needs the parent.
  MapResult Map(std::string_view kind, std::span<const jq::Input> inputs, RunState* run);

  // The streaming path: each text is one raw item, parsed once (simdjson) and read in place by
  // the native evaluator (jq::Engine), converted for libjq only when a program needs it. Maps
  // the texts in order until one is not valid JSON or not an object; that one is reported in
  // `*failure` (its position in `texts` and the error, with line and column inside the text),
  // and the result holds the items before it. Each text must be followed by
  // jq::DocParser::kPadding readable bytes (as payload_stream.h's items are): it is parsed in
  // place.
  struct TextFailure {
    size_t position = 0;
    Status status;
  };
  MapResult MapTexts(std::string_view kind, std::span<const std::string_view> texts,
                     RunState* run, std::optional<TextFailure>* failure);

 private:
  struct Parsers {
    jq::DocParser items;   // the raw items
    jq::DocParser merged;  // itemsToParse elements merged into their parent
  };
  MapResult MapItems(std::string_view kind, size_t count, const json::Value* items,
                     RunState* run,
                     const std::function<Result<ItemRef>(size_t)>& item_at);
  MappingConfig config_;
  std::unique_ptr<Parsers> parsers_ = std::make_unique<Parsers>();
};

// Streams items through a Mapper in batches of `batch_size`; `sink` receives each batch's
// result (entities in order, indexes counted over the whole stream). A non-OK status from the
// sink stops the stream and is returned by Add()/Finish().
class MapStream {
 public:
  static constexpr size_t kDefaultBatchSize = 200;
  using Sink = std::function<Status(MapResult)>;

  MapStream(Mapper* mapper, std::string kind, Sink sink, size_t batch_size = kDefaultBatchSize);

  Status Add(json::Value item);
  Status Add(jq::Input item);  // use one of the two Add()s per stream
  // Maps what is buffered. Call once at the end.
  Status Finish();
  const RunState& run() const { return run_; }

 private:
  Status Flush();

  Mapper* mapper_;
  std::string kind_;
  Sink sink_;
  size_t batch_size_;
  std::vector<json::Value> buffer_;
  std::vector<jq::Input> inputs_;
  RunState run_;
};

}  // namespace portolan::mapping

#endif  // PORTOLAN_MAPPING_PROCESSOR_H_
