// OrderedPipeline: a parallel map that keeps order. The calling thread Submit()s inputs; worker
// threads, each with its own State (say, a cloned jq mapper), turn them into outputs; the
// consumer receives the outputs strictly in submission order, on the calling thread (inside
// Submit and Finish), so it needs no locking.
//
//   std::vector<Mapper> states = ...;  // one per worker
//   OrderedPipeline<Batch, Rows, Mapper> pipeline(
//       std::move(states),
//       [](Mapper& m, Batch b) -> Result<Rows> { return m.Map(b); },   // on a worker thread
//       [&](Rows rows) -> Status { return store.Write(rows); });       // on this thread
//   for (...) PORTOLAN_RETURN_IF_ERROR(pipeline.Submit(std::move(batch)));
//   PORTOLAN_RETURN_IF_ERROR(pipeline.Finish());
//
// Bounded: at most max_in_flight inputs are submitted but not yet consumed (queued, being worked
// on, or done and waiting for their turn); Submit blocks (consuming outputs) until there is room.
//
// Errors: the first non-OK status wins and stops everything: a worker's error surfaces in order
// (every output before the failing input is consumed first, none after), as does a consumer
// error; the workers are then stopped and joined, inputs still in flight are dropped, and every
// later Submit / Finish returns the same status. The destructor stops and joins too (dropping
// what is in flight), so abandoning a pipeline early is safe.
//
// With a single state (and Options::inline_single_worker, the default), no thread is started:
// Submit runs the work and the consumer inline.
//
// Thread-safety: Submit, Finish and the destructor must be called from one thread at a time (the
// consumer runs on it). Work functions run concurrently, each with its own State.
#ifndef PORTOLAN_ENGINE_BASE_PIPELINE_H_
#define PORTOLAN_ENGINE_BASE_PIPELINE_H_

#include <cassert>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "engine/base/status.h"

namespace portolan {

template <class In, class Out, class State>
class OrderedPipeline {
 public:
  using Work = std::function<Result<Out>(State& state, In input)>;
  using Consume = std::function<Status(Out output)>;

  struct Options {
    size_t max_in_flight = 0;  // 0 = 2 * workers + 2
    bool inline_single_worker = true;
  };

  // One worker per state (at least one state).
  OrderedPipeline(std::vector<State> states, Work work, Consume consume)
      : OrderedPipeline(std::move(states), std::move(work), std::move(consume), Options()) {}
  OrderedPipeline(std::vector<State> states, Work work, Consume consume, Options options)
      : states_(std::move(states)), work_(std::move(work)), consume_(std::move(consume)) {
    assert(!states_.empty());
    inline_ = states_.size() == 1 && options.inline_single_worker;
    capacity_ = options.max_in_flight > 0 ? options.max_in_flight : 2 * states_.size() + 2;
    if (inline_) return;
    slots_.resize(capacity_);
    threads_.reserve(states_.size());
    for (size_t i = 0; i < states_.size(); ++i) {
      threads_.emplace_back([this, i] { WorkerLoop(states_[i]); });
    }
  }

  OrderedPipeline(const OrderedPipeline&) = delete;
  OrderedPipeline& operator=(const OrderedPipeline&) = delete;

  ~OrderedPipeline() { Shutdown(); }

  size_t workers() const { return states_.size(); }
  size_t max_in_flight() const { return capacity_; }

  // Queues `input`, first consuming outputs (waiting for them if needed) while max_in_flight
  // inputs are pending, then any that are ready. Returns the pipeline's first error, if any.
  Status Submit(In input) {
    if (!error_.ok()) return error_;
    if (finished_) return Fail(Internal("OrderedPipeline::Submit after Finish"));
    if (inline_) {
      Result<Out> out = work_(states_[0], std::move(input));
      if (!out.ok()) return Fail(out.status());
      Status s = consume_(std::move(out).value());
      if (!s.ok()) return Fail(std::move(s));
      return Status::Ok();
    }
    while (submitted_ - consumed_ >= capacity_) {
      PORTOLAN_RETURN_IF_ERROR(ConsumeNext(/*wait=*/true, nullptr));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      Slot& slot = slots_[submitted_ % capacity_];
      slot.input.emplace(std::move(input));
      ++submitted_;
    }
    work_cv_.notify_one();
    bool ready = true;
    while (ready && consumed_ < submitted_) {
      PORTOLAN_RETURN_IF_ERROR(ConsumeNext(/*wait=*/false, &ready));
    }
    return Status::Ok();
  }

  // Consumes every remaining output in order, then stops the workers. Returns the first error.
  Status Finish() {
    if (!error_.ok()) return error_;
    if (finished_) return Status::Ok();
    while (consumed_ < submitted_) PORTOLAN_RETURN_IF_ERROR(ConsumeNext(/*wait=*/true, nullptr));
    finished_ = true;
    Shutdown();
    return Status::Ok();
  }

 private:
  struct Slot {
    std::optional<In> input;  // queued, not yet claimed by a worker
    std::optional<Out> output;
    Status status;
    bool done = false;
  };

  void WorkerLoop(State& state) {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      work_cv_.wait(lock, [this] { return stop_ || claimed_ < submitted_; });
      if (stop_) return;
      const uint64_t seq = claimed_++;
      Slot& slot = slots_[seq % capacity_];
      const bool skip = seq > failed_seq_;  // an earlier input failed: this one is not needed
      lock.unlock();
      // The slot is this worker's until it is marked done: the caller wrote it before
      // submitted_ moved past it and leaves it alone until then.
      std::optional<Out> output;
      Status status;
      if (!skip) {
        Result<Out> out = work_(state, std::move(*slot.input));
        if (out.ok()) {
          output.emplace(std::move(out).value());
        } else {
          status = out.status();
        }
      }
      slot.input.reset();
      lock.lock();
      slot.output = std::move(output);
      slot.status = std::move(status);
      if (!slot.status.ok() && seq < failed_seq_) failed_seq_ = seq;
      slot.done = true;
      if (seq == consumed_) done_cv_.notify_one();
    }
  }

  // Consumes the next output in order. Without `wait`, sets *ready = false (and returns OK) if
  // it is not done yet.
  Status ConsumeNext(bool wait, bool* ready) {
    std::optional<Out> out;
    Status status;
    {
      std::unique_lock<std::mutex> lock(mu_);
      Slot& slot = slots_[consumed_ % capacity_];
      if (!slot.done) {
        if (!wait) {
          *ready = false;
          return Status::Ok();
        }
        done_cv_.wait(lock, [&slot] { return slot.done; });
      }
      out = std::move(slot.output);
      slot.output.reset();
      status = std::move(slot.status);
      slot.status = Status::Ok();
      slot.done = false;
      ++consumed_;
    }
    if (ready) *ready = true;
    if (!status.ok()) return Fail(std::move(status));
    Status s = consume_(std::move(*out));
    if (!s.ok()) return Fail(std::move(s));
    return Status::Ok();
  }

  Status Fail(Status s) {
    error_ = s;
    Shutdown();
    return s;
  }

  // Stops the workers (after their current input) and joins them; drops what is in flight.
  void Shutdown() {
    if (threads_.empty()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    slots_.clear();
  }

  std::vector<State> states_;
  Work work_;
  Consume consume_;
  bool inline_ = false;
  size_t capacity_ = 0;

  std::mutex mu_;
  std::condition_variable work_cv_;  // workers: an input was submitted, or stop
  std::condition_variable done_cv_;  // caller: the next output in order is done
  std::vector<Slot> slots_;          // ring: input `seq` lives in slots_[seq % capacity_]
  uint64_t submitted_ = 0;           // written by the caller under mu_
  uint64_t claimed_ = 0;             // under mu_
  uint64_t consumed_ = 0;            // written by the caller under mu_
  uint64_t failed_seq_ = UINT64_MAX;  // under mu_: the first input whose work failed
  bool stop_ = false;                 // under mu_
  std::vector<std::thread> threads_;

  // Caller thread only.
  Status error_;
  bool finished_ = false;
};

}  // namespace portolan

#endif  // PORTOLAN_ENGINE_BASE_PIPELINE_H_
