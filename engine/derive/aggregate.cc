#include "engine/derive/aggregate.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace portolan::derive {

// ---- ExactSum --------------------------------------------------------------------------------

void ExactSum::Accumulate(double v, bool negate) {
  if (v == 0 || !std::isfinite(v)) return;
  uint64_t bits = std::bit_cast<uint64_t>(v);
  bool negative = (bits >> 63) != 0;
  if (negate) negative = !negative;
  uint64_t exponent = (bits >> 52) & 0x7ff;
  uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1);
  // v = mantissa * 2^(e), with e >= -1074; bit position p = e + 1074 >= 0.
  int p;
  if (exponent == 0) {
    p = 0;  // subnormal: e = -1074
  } else {
    mantissa |= uint64_t{1} << 52;
    p = static_cast<int>(exponent) - 1;  // e = exponent - 1075
  }
  int idx = p / 32;
  int shift = p % 32;
  unsigned __int128 x = static_cast<unsigned __int128>(mantissa) << shift;
  int64_t parts[3] = {static_cast<int64_t>(static_cast<uint64_t>(x) & 0xffffffffu),
                      static_cast<int64_t>(static_cast<uint64_t>(x >> 32) & 0xffffffffu),
                      static_cast<int64_t>(static_cast<uint64_t>(x >> 64))};
  for (int i = 0; i < 3; ++i) {
    if (parts[i] == 0) continue;
    limbs_[static_cast<size_t>(idx + i)] += negative ? -parts[i] : parts[i];
  }
  // Each limb moves by less than 2^32 per call; normalize long before int64 could overflow.
  if (++ops_since_normalize_ >= (int64_t{1} << 29)) {
    Normalize(&limbs_);
    ops_since_normalize_ = 0;
  }
}

void ExactSum::Normalize(std::array<int64_t, kLimbs>* limbs) const {
  auto& l = *limbs;
  for (int i = 0; i + 1 < kLimbs; ++i) {
    int64_t carry = l[static_cast<size_t>(i)] >> 32;  // arithmetic shift: floor division
    l[static_cast<size_t>(i)] -= carry * (int64_t{1} << 32);
    l[static_cast<size_t>(i) + 1] += carry;
  }
}

double ExactSum::Value() const {
  std::array<int64_t, kLimbs> l = limbs_;
  Normalize(&l);
  double sign = 1;
  if (l[kLimbs - 1] < 0) {
    sign = -1;
    for (auto& x : l) x = -x;
    Normalize(&l);
  }
  int k = kLimbs - 1;
  while (k >= 0 && l[static_cast<size_t>(k)] == 0) --k;
  if (k < 0) return 0.0;
  // The top three limbs hold at least 65 significant bits; anything below is a sticky bit, so
  // the conversion of the 96-bit integer rounds exactly as rounding the whole sum would.
  unsigned __int128 hi = 0;
  int low = k - 2;
  for (int i = k; i >= std::max(low, 0); --i) {
    hi = (hi << 32) | static_cast<uint64_t>(l[static_cast<size_t>(i)]);
  }
  if (low < 0) {
    hi <<= 32 * static_cast<unsigned>(-low);  // fewer than three limbs: align as if present
  } else {
    for (int i = low - 1; i >= 0; --i) {
      if (l[static_cast<size_t>(i)] != 0) {
        hi |= 1;
        break;
      }
    }
  }
  return sign * std::ldexp(static_cast<double>(hi), 32 * low - 1074);
}

void ExactSum::Merge(const ExactSum& other) {
  for (size_t i = 0; i < limbs_.size(); ++i) limbs_[i] += other.limbs_[i];
  ops_since_normalize_ += other.ops_since_normalize_ + 1;
  if (ops_since_normalize_ >= (int64_t{1} << 29)) {
    Normalize(&limbs_);
    ops_since_normalize_ = 0;
  }
}

void ExactSum::Clear() {
  limbs_.fill(0);
  ops_since_normalize_ = 0;
}

// ---- AggSpec ---------------------------------------------------------------------------------

const char* AggSpec::FuncName() const {
  switch (func) {
    case Func::kCount:
      return "count";
    case Func::kSum:
      return "sum";
    case Func::kAverage:
      return "average";
    case Func::kMin:
      return "min";
    case Func::kMax:
      return "max";
    case Func::kMedian:
      return "median";
  }
  return "?";
}

Result<AggSpec> ResolveSpec(const model::CalculationSpec& in) {
  AggSpec s;
  if (in.func == "count") {
    s.func = AggSpec::Func::kCount;
  } else if (in.func == "sum") {
    s.func = AggSpec::Func::kSum;
  } else if (in.func == "average") {
    s.func = AggSpec::Func::kAverage;
  } else if (in.func == "min") {
    s.func = AggSpec::Func::kMin;
  } else if (in.func == "max") {
    s.func = AggSpec::Func::kMax;
  } else if (in.func == "median") {
    s.func = AggSpec::Func::kMedian;
  } else {
    return InvalidArgument("unknown calculationSpec func '" + in.func + "'");
  }
  s.by_property = in.calculation_by == "property";
  s.property = in.property;
  if (!in.measure_time_by.empty()) s.measure_time_by = in.measure_time_by;
  if (s.func == AggSpec::Func::kCount) {
    // Lenient: Port's DORA guide ships count with averageOf/measureTimeBy; it is a plain count.
    s.by_property = false;
    return s;
  }
  if (!s.by_property && s.func != AggSpec::Func::kAverage) {
    return InvalidArgument(std::string("func '") + in.func + "' needs calculationBy \"property\"");
  }
  if (s.by_property && s.property.empty()) {
    return InvalidArgument("calculationBy \"property\" needs a 'property'");
  }
  if (s.func == AggSpec::Func::kAverage) {
    s.average_of = in.average_of;
    if (in.average_of == "hour") {
      s.unit_seconds = 3600;
    } else if (in.average_of == "day") {
      s.unit_seconds = 86400;
    } else if (in.average_of == "week") {
      s.unit_seconds = 7 * 86400;
    } else if (in.average_of == "month") {
      s.unit_seconds = 30 * 86400;  // DESIGN §2: month = 30 days
    } else if (in.average_of == "total") {
      s.unit_seconds = 0;
    } else {
      return InvalidArgument("average needs averageOf hour|day|week|month|total, got '" +
                             in.average_of + "'");
    }
  }
  return s;
}

Contribution Contribute(const AggSpec& spec, bool matched, const json::Value& value,
                        std::optional<double> time) {
  Contribution c;
  if (!matched) return c;
  if (spec.needs_value()) {
    if (!value.is_number()) return c;
    c.value = value.as_number();
  }
  if (spec.needs_time()) {
    if (!time) return c;
    c.time = *time;
  }
  c.included = true;
  return c;
}

// ---- AggState --------------------------------------------------------------------------------

namespace {

bool UsesSum(const AggSpec& s) {
  return s.by_property && (s.func == AggSpec::Func::kSum || s.func == AggSpec::Func::kAverage);
}

double SortKey(const AggSpec& s, const Contribution& c) {
  return s.time_average() ? c.time : c.value;
}

}  // namespace

void AggState::Add(const AggSpec& spec, const Contribution& c) {
  if (!c.included) return;
  ++count_;
  if (UsesSum(spec)) sum_.Add(c.value);
  if (spec.keeps_sorted()) {
    double k = SortKey(spec, c);
    sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), k), k);
  }
}

void AggState::AddUnsorted(const AggSpec& spec, const Contribution& c) {
  if (!c.included) return;
  ++count_;
  if (UsesSum(spec)) sum_.Add(c.value);
  if (spec.keeps_sorted()) sorted_.push_back(SortKey(spec, c));
}

void AggState::Seal() { std::sort(sorted_.begin(), sorted_.end()); }

void AggState::Merge(const AggState& other) {
  count_ += other.count_;
  sum_.Merge(other.sum_);
  sorted_.insert(sorted_.end(), other.sorted_.begin(), other.sorted_.end());
}

void AggState::Remove(const AggSpec& spec, const Contribution& c) {
  if (!c.included) return;
  --count_;
  if (UsesSum(spec)) sum_.Subtract(c.value);
  if (spec.keeps_sorted()) {
    double k = SortKey(spec, c);
    auto it = std::lower_bound(sorted_.begin(), sorted_.end(), k);
    if (it != sorted_.end() && *it == k) sorted_.erase(it);
  }
}

json::Value AggState::Finalize(const AggSpec& spec, double now, bool span_end_now,
                               Breakdown* b) const {
  Breakdown local;
  Breakdown& out = b ? *b : local;
  out.included = count_;
  switch (spec.func) {
    case AggSpec::Func::kCount:
      out.numerator = static_cast<double>(count_);
      return static_cast<double>(count_);
    case AggSpec::Func::kSum:
      out.numerator = sum_.Value();
      return out.numerator;
    case AggSpec::Func::kAverage: {
      if (count_ == 0) return json::Value();
      out.numerator = spec.by_property ? sum_.Value() : static_cast<double>(count_);
      if (spec.time_average()) {
        out.span_from = sorted_.front();
        out.span_to = span_end_now ? now : sorted_.back();
        // Times keep milliseconds; rounding the span to them keeps ceil() away from noise.
        double span = std::round((out.span_to - out.span_from) * 1000.0) / 1000.0;
        out.span_seconds = span;
        double periods = std::max(1.0, std::ceil(span / spec.unit_seconds));
        out.periods = static_cast<int64_t>(periods);
        out.denominator = periods;
        return out.numerator / periods;
      }
      if (!spec.by_property) {
        out.denominator = 1;  // by entities with averageOf total: |M|
        return out.numerator;
      }
      out.denominator = static_cast<double>(count_);
      return out.numerator / out.denominator;
    }
    case AggSpec::Func::kMin:
      if (sorted_.empty()) return json::Value();
      return sorted_.front();
    case AggSpec::Func::kMax:
      if (sorted_.empty()) return json::Value();
      return sorted_.back();
    case AggSpec::Func::kMedian: {
      size_t n = sorted_.size();
      if (n == 0) return json::Value();
      if (n % 2 == 1) return sorted_[n / 2];
      return (sorted_[n / 2 - 1] + sorted_[n / 2]) / 2;
    }
  }
  return json::Value();
}

}  // namespace portolan::derive
