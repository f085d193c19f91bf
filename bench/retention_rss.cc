// bench/reprocess_files.sh's probe of retention (lake::TrimArea, which vigil run calls every
// retention.interval): trims AREA with the given limits and prints the files left, the
// files removed and the peak RSS in KB.
// usage: retention_rss AREA MAX_AGE_MS MAX_BYTES
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>

#include "lake/retention.h"

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const vigil::lake::RetentionLimits limits{std::atoll(argv[2]), std::atoll(argv[3])};
  vigil::Result<vigil::lake::TrimReport> r = vigil::lake::TrimArea(argv[1], limits, 1'760'000'000'000);
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().message().c_str());
    return 1;
  }
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  std::printf("%llu %llu %ld\n", static_cast<unsigned long long>(r->after.files),
              static_cast<unsigned long long>(r->removed_files), u.ru_maxrss);
  return 0;
}
