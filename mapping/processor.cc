#include "mapping/processor.h"

#include <algorithm>
#include <functional>
#include <tuple>
#include <utility>

#include "engine/jq/jq.h"
#include "mapping/internal/python.h"

namespace portolan::mapping {

// One raw item as the programs see it: a parsed Document (native evaluation, libjq when needed)
// or a libjq Input.
struct ItemRef {
  const jq::Document* doc = nullptr;
  const jq::Input* input = nullptr;

  jq::Output Run(jq::Expr& e) const { return doc ? e.Evaluate(*doc) : e.Evaluate(*input); }
  json::Value ToJson() const { return doc ? doc->ToJson() : input->ToJson(); }
};

namespace {

using internal::PythonRepr;
using internal::PythonReprString;
using internal::PythonStr;
using internal::PythonTypeName;

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string Origin(size_t resource, const std::string& kind, size_t index,
                   std::optional<size_t> element) {
  std::string out =
      "resources[" + std::to_string(resource) + "] (" + kind + ") item " + std::to_string(index);
  if (element) out += " element " + std::to_string(*element);
  return out;
}

// What one resource produced in one batch.
struct ResourceOut {
  std::vector<json::Value> entities;
  std::vector<EntityOrigin> origins;
  std::vector<ItemError> errors;
  std::vector<ItemWarning> warnings;
  std::map<std::string, std::pair<std::string, std::string>> misconfigured;  // path -> jq, why
  size_t skipped = 0;
  size_t filtered = 0;
  std::optional<ItemError> batch_error;
};

class ResourceMapper {
 public:
  // `merge_parser` parses the merged items of an itemsToParse fan-out when items are Documents.
  ResourceMapper(const ResourceConfig& r, ResourceOut* out, jq::DocParser* merge_parser)
      : r_(r), out_(out), merge_parser_(merge_parser) {}

  // One raw item, fanned out by itemsToParse when configured.
  // `item` is the raw item as JSON when the caller has it; otherwise it is rebuilt from `input`
  // if needed (itemsToParse without the top-level transform).
  void MapRaw(const json::Value* item, const ItemRef& input, size_t index) {
    if (!r_.items_to_parse) {
      MapItem(input, index, std::nullopt);
      return;
    }
    // Both programs run on the original parent (spec §4.2).
    jq::Output items = Run(*r_.items_to_parse, input);
    json::Value transformed_value;
    const json::Value* parent = item;
    if (r_.top_level_transform) {
      jq::Output transformed = Run(*r_.top_level_transform, input);
      if (!transformed.has_value() || transformed.value.is_null()) {
        Warn(index, "top-level transform " + PythonReprString(r_.top_level_transform->text) +
                        " returned None" + Why(transformed) + "; skipping the item");
        return;
      }
      transformed_value = std::move(transformed.value);
      parent = &transformed_value;
    } else if (!parent) {
      transformed_value = input.ToJson();
      parent = &transformed_value;
    }
    if (!items.has_value() || !items.value.is_array()) {
      json::Value v = items.ValueOrNull();
      Warn(index, "Failed to parse items for JQ expression " +
                      PythonReprString(r_.items_to_parse->text) + ", Expected list but got " +
                      PythonTypeName(v) + Why(items) + "; skipping the item");
      return;
    }
    if (!parent->is_object()) {
      Warn(index, "itemsToParse: the item is a " + PythonTypeName(*parent) +
                      ", not an object, so elements cannot be merged into it; skipping the item");
      return;
    }
    const json::Array& elements = items.value.as_array();
    for (size_t k = 0; k < elements.size() && !out_->batch_error; ++k) {
      // Shallow copy of the parent with the element under itemsToParseName (overwriting).
      json::Value merged = *parent;
      merged.Set(r_.items_to_parse_name, elements[k]);
      if (input.doc) {
        // Written and parsed again: the element keeps the native path.
        auto doc = merge_parser_->Parse(merged);
        if (doc.ok()) {
          MapItem(ItemRef{*doc, nullptr}, index, k);
          continue;
        }
      }
      jq::Input merged_input(merged);
      MapItem(ItemRef{nullptr, &merged_input}, index, k);
    }
  }

 private:
  static jq::Output Run(const JqExpr& e, const ItemRef& input) {
    if (!e.compiled()) {
      jq::Output o;
      o.kind = jq::Output::Kind::kError;
      o.error = e.compile_error;
      return o;
    }
    return input.Run(*e.program);
  }

  static std::string Why(const jq::Output& o) {
    if (o.kind == jq::Output::Kind::kError) return " (" + FirstLine(o.error) + ")";
    if (o.kind == jq::Output::Kind::kEmpty) return " (no output)";
    return "";
  }

  void Warn(size_t index, std::string message) {
    out_->warnings.push_back({r_.index, r_.kind, index, std::move(message)});
  }

  void Fail(size_t index, std::optional<size_t> element, std::string message,
            ItemError::Scope scope = ItemError::Scope::kItem) {
    ItemError e;
    e.resource = r_.index;
    e.kind = r_.kind;
    e.index = index;
    e.element = element;
    e.scope = scope;
    e.message = std::move(message);
    if (scope == ItemError::Scope::kBatch) {
      out_->batch_error = std::move(e);
    } else {
      out_->errors.push_back(std::move(e));
    }
  }

  // Selector first (spec §3.2), then the mapping (§3.3), then the entity checks (§3.1, §3.4).
  void MapItem(const ItemRef& input, size_t index, std::optional<size_t> element) {
    jq::Output sel = Run(r_.selector, input);
    if (sel.kind == jq::Output::Kind::kError) {
      Fail(index, element,
           "Selector query failed for pattern " + PythonReprString(r_.selector.text) + ": " +
               sel.error);
      return;
    }
    if (sel.kind == jq::Output::Kind::kEmpty) {
      Fail(index, element,
           "Selector query failed for pattern " + PythonReprString(r_.selector.text) +
               ": StopIteration (the selector produced no output)");
      return;
    }
    if (!sel.value.is_bool()) {
      Fail(index, element,
           "Expected boolean value for pattern " + PythonReprString(r_.selector.text) +
               ", got value:" + PythonStr(sel.value) + " of type: <class '" +
               PythonTypeName(sel.value) + "'> instead");
      return;
    }
    if (!sel.value.as_bool()) {
      ++out_->filtered;
      ++out_->skipped;
      return;
    }
    json::Value entity = Eval(r_.mappings, input);
    if (!entity.Get("identifier").Truthy() || !entity.Get("blueprint").Truthy()) {
      ++out_->skipped;
      return;
    }
    if (json::Value* icon = entity.Find("icon")) {
      if (icon->is_array() || icon->is_object()) {
        Fail(index, element,
             "icon: str type expected, got " + PythonTypeName(*icon) + " " + PythonRepr(*icon) +
                 " (Ocean: pydantic ValidationError fails the batch); the resource's entities of "
                 "this batch are dropped and its later batches are not mapped",
             ItemError::Scope::kBatch);
        return;
      }
      if (icon->is_number() || icon->is_bool()) *icon = PythonStr(*icon);
    }
    if (json::Value* team = entity.Find("team")) {
      if (team->is_number() || team->is_bool()) *team = PythonStr(*team);
    }
    out_->entities.push_back(std::move(entity));
    out_->origins.push_back({r_.index, index, element});
  }

  json::Value Eval(const FieldNode& node, const ItemRef& input) {
    switch (node.kind) {
      case FieldNode::Kind::kLeaf: {
        const JqExpr& e = node.leaf;
        jq::Output o = Run(e, input);
        if (o.has_value() && !o.value.is_null()) return std::move(o.value);
        if (!out_->misconfigured.count(e.path)) {  // the first cause per path is kept
          std::string reason = e.is_null                            ? "explicit null in the YAML"
                               : !e.compiled()                      ? FirstLine(e.compile_error)
                               : o.kind == jq::Output::Kind::kError ? FirstLine(o.error)
                               : o.kind == jq::Output::Kind::kEmpty ? "no output"
                                                                    : "null";
          out_->misconfigured.emplace(e.path, std::make_pair(e.text, std::move(reason)));
        }
        return json::Value();
      }
      case FieldNode::Kind::kObject: {
        json::Object obj;
        obj.reserve(node.members.size());
        for (const auto& [key, child] : node.members) obj.emplace_back(key, Eval(child, input));
        return json::Value(std::move(obj));
      }
      case FieldNode::Kind::kList: {
        json::Array arr;
        arr.reserve(node.elements.size());
        for (const auto& child : node.elements) arr.push_back(Eval(child, input));
        return json::Value(std::move(arr));
      }
    }
    return json::Value();
  }

  const ResourceConfig& r_;
  ResourceOut* out_;
  jq::DocParser* merge_parser_;
};

}  // namespace

std::string ItemError::ToString() const {
  return Origin(resource, kind, index, element) + ": " + message;
}

std::string ItemWarning::ToString() const {
  return Origin(resource, kind, index, std::nullopt) + ": " + message;
}

std::map<std::string, std::string> MapResult::MisconfiguredOf(size_t resource) const {
  std::map<std::string, std::string> out;
  for (const auto& m : misconfigured) {
    if (m.resource == resource) out.emplace(m.path, m.jq);
  }
  return out;
}

void MapResult::Merge(MapResult&& later) {
  for (auto& e : later.entities) entities.push_back(std::move(e));
  for (auto& o : later.origins) origins.push_back(o);
  for (auto& e : later.errors) errors.push_back(std::move(e));
  for (auto& w : later.warnings) warnings.push_back(std::move(w));
  skipped += later.skipped;
  filtered += later.filtered;
  for (auto& m : later.misconfigured) {
    auto it = std::lower_bound(misconfigured.begin(), misconfigured.end(), m,
                               [](const MisconfiguredField& a, const MisconfiguredField& b) {
                                 return std::tie(a.resource, a.path) < std::tie(b.resource, b.path);
                               });
    if (it == misconfigured.end() || it->resource != m.resource || it->path != m.path) {
      misconfigured.insert(it, std::move(m));
    }
  }
}

Result<Mapper> Mapper::Load(const std::string& path, const LoadOptions& options) {
  PORTOLAN_ASSIGN_OR_RETURN(MappingConfig config, MappingConfig::LoadFile(path, options));
  return Mapper(std::move(config));
}

Result<Mapper> Mapper::LoadText(std::string_view yaml, std::string_view name,
                                const LoadOptions& options) {
  PORTOLAN_ASSIGN_OR_RETURN(MappingConfig config, MappingConfig::LoadText(yaml, name, options));
  return Mapper(std::move(config));
}

Result<Mapper> Mapper::Clone() const {
  return LoadText(config_.text(), config_.name(), config_.options());
}

std::vector<size_t> Mapper::ResourcesFor(std::string_view kind) const {
  std::vector<size_t> out;
  for (const auto& r : config_.resources) {
    if (kind.empty() || r.kind == kind) out.push_back(r.index);
  }
  return out;
}

MapResult Mapper::Map(std::string_view kind, std::span<const json::Value> items) {
  RunState run;
  return Map(kind, items, &run);
}

MapResult Mapper::Map(std::string_view kind, std::span<const json::Value> items, RunState* run) {
  if (!config_.any_native()) {
    std::vector<jq::Input> inputs;
    inputs.reserve(items.size());
    for (const auto& item : items) inputs.emplace_back(item);
    return MapItems(kind, inputs.size(), items.data(), run, [&](size_t i) -> Result<ItemRef> {
      return ItemRef{nullptr, &inputs[i]};
    });
  }
  // Each item becomes a Document (written and parsed once) for the native evaluator.
  return MapItems(kind, items.size(), items.data(), run, [&](size_t i) -> Result<ItemRef> {
    PORTOLAN_ASSIGN_OR_RETURN(const jq::Document* doc, parsers_->items.Parse(items[i]));
    return ItemRef{doc, nullptr};
  });
}

MapResult Mapper::Map(std::string_view kind, std::span<const jq::Input> inputs, RunState* run) {
  return MapItems(kind, inputs.size(), nullptr, run,
                  [&](size_t i) -> Result<ItemRef> { return ItemRef{nullptr, &inputs[i]}; });
}

MapResult Mapper::MapTexts(std::string_view kind, std::span<const std::string_view> texts,
                           RunState* run, std::optional<TextFailure>* failure) {
  // With no program in the native subset, parsing for it would only add a conversion.
  const bool libjq = !config_.any_native();
  std::optional<jq::Input> input;  // the libjq engine's item
  return MapItems(kind, texts.size(), nullptr, run, [&](size_t i) -> Result<ItemRef> {
    if (!libjq) {
      auto doc = parsers_->items.ParsePadded(texts[i]);
      if (doc.ok()) {
        if ((*doc)->type() == json::Type::kObject) return ItemRef{*doc, nullptr};
        Status bad = InvalidArgument(std::string("items must be JSON objects, got ") +
                                     ((*doc)->type() == json::Type::kArray ? "an " : "a ") +
                                     json::TypeName((*doc)->type()));
        if (failure) *failure = TextFailure{i, bad};
        return bad;
      }
      // simdjson rejects some JSON libjq reads (integers beyond 64 bits): such an item goes
      // to libjq below, which also gives the error message for text that is not JSON.
    }
    Status bad;
    {
      // RapidJSON straight into libjq values (jq::ParseInputs), the libjq engine's fast path.
      input.reset();
      bool array = false;
      Status parsed = jq::ParseInputs(texts[i], [&](jq::Input in, int, long element) -> Status {
        if (element >= 0) array = true;
        if (!input) input.emplace(std::move(in));
        return Status::Ok();
      });
      if (!parsed.ok()) {
        bad = parsed;
      } else if (array || !input) {
        bad = InvalidArgument("items must be JSON objects, got an array");
      } else if (input->type() == json::Type::kObject) {
        return ItemRef{nullptr, &*input};
      } else {
        bad = InvalidArgument(std::string("items must be JSON objects, got a ") +
                              json::TypeName(input->type()));
      }
    }
    if (failure) *failure = TextFailure{i, bad};
    return bad;
  });
}

MapResult Mapper::MapItems(std::string_view kind, size_t count, const json::Value* items,
                           RunState* run, const std::function<Result<ItemRef>(size_t)>& item_at) {
  std::vector<size_t> selected;
  for (size_t r : ResourcesFor(kind)) {
    if (!run->abandoned.count(r)) selected.push_back(r);
  }
  std::vector<ResourceOut> outs(selected.size());
  // Item-major so that each item is parsed or converted once for all resources; the output is
  // regrouped by resource below.
  size_t mapped = 0;
  for (; mapped < count; ++mapped) {
    Result<ItemRef> item = item_at(mapped);
    if (!item.ok()) break;  // the caller reports it (MapTexts)
    for (size_t s = 0; s < selected.size(); ++s) {
      if (outs[s].batch_error) continue;
      ResourceMapper(config_.resources[selected[s]], &outs[s], &parsers_->merged)
          .MapRaw(items ? &items[mapped] : nullptr, *item, run->next_index + mapped);
    }
  }
  run->next_index += mapped;

  MapResult result;
  for (size_t s = 0; s < selected.size(); ++s) {
    ResourceOut& out = outs[s];
    if (out.batch_error) {
      run->abandoned.insert(selected[s]);
    } else {
      for (auto& e : out.entities) result.entities.push_back(std::move(e));
      for (auto& o : out.origins) result.origins.push_back(o);
    }
    for (auto& e : out.errors) result.errors.push_back(std::move(e));
    if (out.batch_error) result.errors.push_back(std::move(*out.batch_error));
    for (auto& w : out.warnings) result.warnings.push_back(std::move(w));
    for (auto& [path, jq_why] : out.misconfigured) {
      result.misconfigured.push_back({selected[s], path, jq_why.first, jq_why.second});
    }
    result.skipped += out.skipped;
    result.filtered += out.filtered;
  }
  return result;
}

MapStream::MapStream(Mapper* mapper, std::string kind, Sink sink, size_t batch_size)
    : mapper_(mapper),
      kind_(std::move(kind)),
      sink_(std::move(sink)),
      batch_size_(batch_size == 0 ? 1 : batch_size) {
  buffer_.reserve(batch_size_);
}

Status MapStream::Add(json::Value item) {
  buffer_.push_back(std::move(item));
  if (buffer_.size() >= batch_size_) return Flush();
  return Status::Ok();
}

Status MapStream::Add(jq::Input item) {
  inputs_.push_back(std::move(item));
  if (inputs_.size() >= batch_size_) return Flush();
  return Status::Ok();
}

Status MapStream::Finish() {
  return buffer_.empty() && inputs_.empty() ? Status::Ok() : Flush();
}

Status MapStream::Flush() {
  // Items arrive either as JSON or as jq inputs; keep their order by flushing one kind before
  // the other starts (callers use one kind per stream).
  MapResult result = !buffer_.empty() ? mapper_->Map(kind_, buffer_, &run_)
                                      : mapper_->Map(kind_, inputs_, &run_);
  buffer_.clear();
  inputs_.clear();
  return sink_(std::move(result));
}

}  // namespace portolan::mapping
