#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace vigil::cli {

ProgressBar::ProgressBar(std::string label) : label_(std::move(label)), tty_(::isatty(2) == 1) {}

void ProgressBar::Update(int64_t done, int64_t total, const std::string& note) {
  if (!tty_) return;
  int permille = total > 0 ? static_cast<int>(done * 1000 / total) : 0;
  if (permille == last_permille_) return;
  last_permille_ = permille;
  constexpr int kWidth = 30;
  int fill = permille * kWidth / 1000;
  std::fprintf(stderr, "\r%s [%.*s%*s] %5.1f%% %s ", label_.c_str(), fill,
               "##############################", kWidth - fill, "", permille / 10.0, note.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace vigil::cli
