#include "mapping/replay.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "engine/base/pipeline.h"
#include "engine/jq/expr.h"
#include "mapping/payload.h"
#include "mapping/payload_stream.h"

namespace portolan::mapping {

namespace {

// One batch of item texts, mapped on a worker.
struct MappedBatch {
  ItemBatch batch;  // kept for a re-map and for error locations
  MapResult result;
  Status status;  // an item that is not valid JSON or not an object ends the run here
};

MappedBatch MapBatch(Mapper* m, const std::string& kind, ItemBatch batch, RunState* run) {
  std::vector<std::string_view> texts;
  texts.reserve(batch.items.size());
  for (const auto& item : batch.items) texts.push_back(item.text);
  MappedBatch out;
  std::optional<Mapper::TextFailure> failure;
  static_assert(kItemPadding >= jq::DocParser::kPadding);
  out.result = m->MapTexts(kind, texts, run, &failure);
  if (failure) out.status = ItemParseError(batch.items[failure->position], failure->status);
  out.batch = std::move(batch);
  return out;
}

// --items-path: the files are parsed whole to find the path.
Status ReplayWhole(Mapper* mapper, const std::vector<std::string>& payloads,
                   const ReplayOptions& options,
                   const std::function<Status(MapResult)>& on_batch) {
  size_t items = 0;
  auto tick = [&] {
    ++items;
    if (options.on_progress) options.on_progress(items);
  };
  MapStream stream(mapper, options.kind, on_batch);
  PayloadOptions po;
  po.items_path = options.items_path;
  Status s = mapper->config().options().engine == jq::Engine::kLibjq
                 ? ReadPayloadInputs(payloads, po,
                                     [&](jq::Input item, const ItemSource&) {
                                       tick();
                                       return stream.Add(std::move(item));
                                     })
                 : ReadPayloads(payloads, po, [&](json::Value item, const ItemSource&) {
                     tick();
                     return stream.Add(std::move(item));
                   });
  if (s.ok()) s = stream.Finish();
  return s;
}

}  // namespace

size_t ReplayThreads(const std::vector<std::string>& payloads) {
  uintmax_t bytes = 0;
  for (const auto& p : payloads) {
    std::error_code ec;
    uintmax_t size = p == "-" ? 0 : std::filesystem::file_size(p, ec);
    bytes += p == "-" || ec ? (64u << 20) : size;
  }
  if (bytes < (16u << 20)) return 1;
  return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
}

Status ReplayFiles(Mapper* mapper, const std::vector<std::string>& payloads,
                   const ReplayOptions& options,
                   const std::function<Status(MapResult)>& on_batch) {
  PayloadOptions po;
  po.items_path = options.items_path;
  if (!CanStream(po)) return ReplayWhole(mapper, payloads, options, on_batch);

  const size_t threads = options.threads > 0 ? options.threads : ReplayThreads(payloads);
  std::vector<std::unique_ptr<Mapper>> clones;
  std::vector<Mapper*> states;
  if (threads == 1) {
    states.push_back(mapper);
  } else {
    for (size_t i = 0; i < threads; ++i) {
      PORTOLAN_ASSIGN_OR_RETURN(Mapper clone, mapper->Clone());
      clones.push_back(std::make_unique<Mapper>(std::move(clone)));
      states.push_back(clones.back().get());
    }
  }
  const std::string& kind = options.kind;
  size_t items = 0;
  RunState run;  // the sequential run: which resources a batch error abandoned
  // One thread: the pipeline runs the work inline and in order, so it maps on `run` itself.
  const bool inline_run = states.size() == 1;
  OrderedPipeline<ItemBatch, MappedBatch, Mapper*> pipeline(
      states,
      [&](Mapper*& m, ItemBatch batch) -> Result<MappedBatch> {
        if (inline_run) {
          run.next_index = batch.first_index;
          return MapBatch(m, kind, std::move(batch), &run);
        }
        RunState local;
        local.next_index = batch.first_index;
        return MapBatch(m, kind, std::move(batch), &local);
      },
      [&](MappedBatch mapped) -> Status {
        if (!inline_run) {  // (inline, the work mapped on `run` itself)
          if (!run.abandoned.empty()) {
            // A batch error abandoned a resource: map again in order on `mapper` (only here
            // can it be used: the workers have clones of it).
            run.next_index = mapped.batch.first_index;
            mapped = MapBatch(mapper, kind, std::move(mapped.batch), &run);
          } else {
            for (const auto& e : mapped.result.errors) {
              if (e.scope == ItemError::Scope::kBatch) run.abandoned.insert(e.resource);
            }
          }
        }
        items += mapped.batch.items.size();
        if (options.on_progress) options.on_progress(items);
        PORTOLAN_RETURN_IF_ERROR(on_batch(std::move(mapped.result)));
        return mapped.status;
      });
  StreamOptions so;
  so.batch_size = MapStream::kDefaultBatchSize;
  Status s = StreamPayloads(payloads, so,
                            [&](ItemBatch batch) { return pipeline.Submit(std::move(batch)); });
  // An error of the pipeline belongs to an earlier item than one the reader found.
  Status finished = pipeline.Finish();
  if (!finished.ok()) s = finished;
  return s;
}

Status CheckKind(const Mapper& mapper, const std::string& kind) {
  if (!kind.empty() && mapper.ResourcesFor(kind).empty()) {
    std::string kinds;
    for (const auto& r : mapper.config().resources) kinds += (kinds.empty() ? "" : ", ") + r.kind;
    return InvalidArgument("--kind " + kind + ": the mapping " + mapper.config().name() +
                           " has no resource of that kind (it has: " + kinds + ")");
  }
  return Status::Ok();
}

std::vector<std::string> CompileProblems(const Mapper& mapper) {
  std::vector<std::string> out;
  for (const auto& p : mapper.config().CompileProblems()) {
    out.push_back(mapper.config().Describe(p));
  }
  return out;
}

}  // namespace portolan::mapping
