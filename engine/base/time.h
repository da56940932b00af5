// Time: ISO 8601 parsing and formatting (UTC), and the injectable clock.
// Times are seconds since the Unix epoch as double (millisecond precision is kept).
#ifndef PORTOLAN_ENGINE_BASE_TIME_H_
#define PORTOLAN_ENGINE_BASE_TIME_H_

#include <optional>
#include <string>
#include <string_view>

namespace portolan {

// Parses "2024-03-01", "2024-03-01T10:00:00Z", "2024-03-01T10:00:00.123Z",
// "2024-03-01T10:00:00+02:00", "2024-03-01 10:00:00" (UTC assumed without offset).
std::optional<double> ParseIsoTime(std::string_view text);

// "2024-03-01T10:00:00.000Z" (Port's entity timestamp format).
std::string FormatIsoTime(double epoch_seconds);

// Days since 1970-01-01 for a civil date, and back (proleptic Gregorian).
long DaysFromCivil(long y, unsigned m, unsigned d);
void CivilFromDays(long z, long* y, unsigned* m, unsigned* d);

// The clock every time-dependent computation reads. Fixed when set (--now), else wall time.
class Clock {
 public:
  Clock() = default;
  explicit Clock(double fixed) : fixed_(fixed) {}
  double Now() const;
  bool fixed() const { return fixed_.has_value(); }
  void Set(double t) { fixed_ = t; }

 private:
  std::optional<double> fixed_;
};

}  // namespace portolan

#endif  // PORTOLAN_ENGINE_BASE_TIME_H_
