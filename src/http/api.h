// The JSON API behind the dashboard (read-only): pure functions from a request's
// parameters and the data directory to {HTTP status, JSON body}, so they are tested
// without a server. Bad parameters get a 400 with {"error": "..."} saying what is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::http {

using Reply = std::pair<int, std::string>;

std::string JsonError(const std::string& message);

// /api/machines and /api/machines/{id} (id empty: all): latest features, ISO zone, last
// failure, and the latest prediction or anomaly score when the model stage wrote them.
Reply MachinesReply(const Config& config, const std::string& id, int64_t now_ms);

struct SeriesParams {
  int64_t from_ms = 0, to_ms = 0, step_ms = 0;
};
// from/to: ISO-8601 UTC or epoch ms (default: the last 24 h before now); step: a duration
// ("1m") or ms (default: about 1000 points, a multiple of the window). At most 10000 points.
Result<SeriesParams> ParseSeriesParams(const std::string& from, const std::string& to, const std::string& step,
                                       int64_t now_ms, int64_t window_ms);

// /api/machines/{id}/series?from=&to=&step=
Reply SeriesReply(const Config& config, const std::string& id, const std::string& from, const std::string& to,
                  const std::string& step, int64_t now_ms);

// /api/alerts?machine=&limit= (newest first; default 100, at most 1000).
Reply AlertsReply(const Config& config, const std::string& machine, const std::string& limit);

// The newest n lines of the quarantine, newest last (for the pipeline view).
std::string QuarantineSamplesJson(const std::string& data_dir, size_t n);

}  // namespace vigil::http
