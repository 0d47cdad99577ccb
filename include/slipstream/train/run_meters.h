// SLIP's AverageMeter for each logged metric over one epoch: sums and a count, saved with a
// mid-epoch checkpoint so a resumed epoch logs the averages of the whole epoch.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace slipstream {

class RunMeters {
 public:
  void add(const std::map<std::string, double>& values);  // one optimizer step's values
  std::map<std::string, double> averages() const;        // each sum / the count (0 with no steps)
  const std::map<std::string, double>& sums() const { return sums_; }
  int64_t count() const { return count_; }
  void reset() { *this = RunMeters(); }

  std::string to_json() const;  // {"sums": {...}, "count": N}
  // The meters to_json() wrote; "" or text of another shape gives empty meters.
  static RunMeters from_json(const std::string& text);

 private:
  std::map<std::string, double> sums_;
  int64_t count_ = 0;
};

}  // namespace slipstream
