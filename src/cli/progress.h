// ProgressBar: a one-line progress bar on stderr for long CLI work, drawn only when stderr
// is a terminal (logs and pipes get the final summary only). Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace vigil::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  void Update(int64_t done, int64_t total);  // total <= 0: unknown
  void Finish();                              // ends the line

 private:
  std::string label_;
  bool tty_;
  bool drawn_ = false;
  int last_permille_ = -1;
};

}  // namespace vigil::cli
