// ProgressBar: a one-line progress bar on stderr for long CLI work, drawn only when stderr
// is a terminal (logs and pipes get the final summary only). Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace vigil::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  // total <= 0: unknown. note: shown after the percentage (e.g. a rate).
  void Update(int64_t done, int64_t total, const std::string& note = "");
  void Finish();  // ends the line
  bool tty() const { return tty_; }

 private:
  std::string label_;
  bool tty_;
  bool drawn_ = false;
  int last_permille_ = -1;
};

}  // namespace vigil::cli
