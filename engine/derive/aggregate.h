// Aggregation functions (spec §7.3, DESIGN §2) as incremental state: each target entity makes a
// Contribution to each source entity that aggregates it; AggState adds and removes
// contributions in any order and Finalize() gives the same value as a fresh computation over
// the same set (sums are exact, so the order of additions and removals never shows).
//
// Thread-safety: plain value types.
#ifndef PORTOLAN_ENGINE_DERIVE_AGGREGATE_H_
#define PORTOLAN_ENGINE_DERIVE_AGGREGATE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/json.h"
#include "engine/base/status.h"
#include "engine/model/blueprint.h"

namespace portolan::derive {

// The exact sum of a multiset of finite doubles (a Kulisch-style fixed-point accumulator over
// the whole double range). Value() is the correctly rounded sum, independent of the order of
// Add/Subtract calls.
class ExactSum {
 public:
  void Add(double v) { Accumulate(v, false); }
  void Subtract(double v) { Accumulate(v, true); }
  // Adds another accumulator's sum.
  void Merge(const ExactSum& other);
  double Value() const;
  void Clear();

 private:
  // Limb i holds 32 bits of weight 2^(32*i - 1074); signed 64-bit storage defers carries.
  static constexpr int kLimbs = 70;
  void Accumulate(double v, bool negate);
  void Normalize(std::array<int64_t, kLimbs>* limbs) const;
  std::array<int64_t, kLimbs> limbs_{};
  int64_t ops_since_normalize_ = 0;
};

// A calculationSpec resolved for evaluation.
struct AggSpec {
  enum class Func { kCount, kSum, kAverage, kMin, kMax, kMedian };
  Func func = Func::kCount;
  bool by_property = false;
  double unit_seconds = 0;  // averageOf hour/day/week/month(30 d); 0 for total or no average
  std::string property;     // by_property
  std::string measure_time_by = "$createdAt";
  std::string average_of;  // as written ("" when absent)

  bool time_average() const { return func == Func::kAverage && unit_seconds > 0; }
  bool needs_value() const { return by_property && func != Func::kCount; }
  bool needs_time() const { return time_average(); }
  // Functions that keep the sorted values (min/max/median) or times (time averages).
  bool keeps_sorted() const {
    return func == Func::kMin || func == Func::kMax || func == Func::kMedian || time_average();
  }
  const char* FuncName() const;
};

// Resolves a model spec. `count` carrying averageOf/measureTimeBy (Port's DORA guide does this)
// is a plain count. Errors: unknown func/averageOf, by-property without a property.
Result<AggSpec> ResolveSpec(const model::CalculationSpec& spec);

// What one target entity adds to an aggregation (after its query matched).
struct Contribution {
  bool included = false;  // counts in this aggregation at all
  double value = 0;       // the numeric property value (by property)
  double time = 0;        // measureTimeBy (time averages)

  bool operator==(const Contribution& o) const {
    return included == o.included && (!included || (value == o.value && time == o.time));
  }
  bool operator!=(const Contribution& o) const { return !(*this == o); }
};

// The contribution of a target: `matched` (the query), its property value and its time.
// By-property functions skip non-numbers; time averages skip entities without a time (they
// are left out of the numerator and of the span alike).
Contribution Contribute(const AggSpec& spec, bool matched, const json::Value& value,
                        std::optional<double> time);

// How Finalize() arrived at its value (for Explain).
struct Breakdown {
  int64_t included = 0;    // |M| or number of numeric values
  double numerator = 0;    // count or sum
  double denominator = 1;  // 1, number of values, or periods
  int64_t periods = 0;     // time averages
  double span_from = 0;    // time averages: min time
  double span_to = 0;      // max time, or now with span_end_now
  double span_seconds = 0;
};

class AggState {
 public:
  void Add(const AggSpec& spec, const Contribution& c);
  void Remove(const AggSpec& spec, const Contribution& c);
  // Bulk loading (full recompute): append without keeping order, then Seal() once.
  void AddUnsorted(const AggSpec& spec, const Contribution& c);
  void Seal();
  // Adds another (unsealed or sealed) state's contributions; Seal() afterwards.
  void Merge(const AggState& other);

  // The value: count/sum of an empty set -> 0; average/min/max/median of an empty set -> null.
  json::Value Finalize(const AggSpec& spec, double now, bool span_end_now,
                       Breakdown* breakdown = nullptr) const;

  int64_t count() const { return count_; }

 private:
  int64_t count_ = 0;           // included contributions
  ExactSum sum_;                // of values (by property)
  std::vector<double> sorted_;  // values (min/max/median) or times (time averages), ascending
};

}  // namespace portolan::derive

#endif  // PORTOLAN_ENGINE_DERIVE_AGGREGATE_H_
