#include "http/api.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include "common/json_text.h"
#include "common/data_paths.h"
#include "common/timestamp.h"
#include "lake/paths.h"
#include "lake/segment_log.h"
#include "model/alerts.h"
#include "model/prediction.h"
#include "store/views.h"
#include "store/machine_json.h"

namespace vigil::http {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxPoints = 10'000;

std::string DbPath(const Config& c) { return data_paths::Database(c.data_dir); }

// 1970-01-01 to 9999-12-31 in ms: keeps every difference and sum of times far from overflow.
constexpr int64_t kMaxTimeMs = 253'402'300'799'999;

Result<int64_t> ParseTime(const std::string& name, const std::string& text) {
  int64_t ms = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec != std::errc() || p != text.data() + text.size()) {
    Result<int64_t> t = ParseDateOrTimestampMs(text);
    if (!t) return Status::InvalidArgument(name + "='" + text + "': expected ISO-8601 UTC or epoch milliseconds");
    ms = *t;
  }
  if (ms < 0 || ms > kMaxTimeMs) {
    return Status::InvalidArgument(name + "='" + text + "': outside 1970-01-01 .. 9999-12-31");
  }
  return ms;
}

// An alert as the MQTT alert message has it, plus ts_ms for the dashboard.
std::string AlertItemJson(const model::Alert& a) {
  std::string j = model::AlertJson(a);
  j.pop_back();  // the closing brace
  return j + ",\"ts_ms\":" + std::to_string(a.ts_ms) + "}";
}

}  // namespace

std::string JsonError(const std::string& message) {
  // Messages quote the request's parameters, which may be any bytes: bytes that are not
  // UTF-8 are shown as \xNN so the body stays JSON (found by fuzzing).
  std::string text;
  for (size_t i = 0; i < message.size();) {
    const unsigned char c = static_cast<unsigned char>(message[i]);
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len && i + len <= message.size() && IsValidUtf8(std::string_view(message).substr(i, len))) {
      text.append(message, i, len);
      i += len;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      text += "\\x";
      text.push_back(kHex[c >> 4]);
      text.push_back(kHex[c & 15]);
      ++i;
    }
  }
  std::string j = "{\"error\":";
  AppendJsonString(text, &j);
  return j + "}\n";
}

Reply MachinesReply(const Config& config, const std::string& id, int64_t now_ms) {
  if (!id.empty() && !lake::IsValidMachineId(id)) return {400, JsonError("bad machine id '" + id + "'")};
  store::StoreStatus st;
  std::error_code ec;
  if (fs::exists(DbPath(config), ec)) {
    Result<store::StoreStatus> r = store::ReadStatus(DbPath(config), config, /*label_counts=*/false);
    if (!r) return {503, JsonError("feature store unavailable: " + r.error().message())};
    st = std::move(*r);
  }
  // What each column of "latest" is: the dashboard finds vibration and temperature by
  // sensor, whatever the configuration names their fields and features.
  std::string columns = "{";
  for (const SensorSpec& x : config.sensors) {
    AppendJsonString(x.field, &columns);
    columns += ":{\"sensor\":";
    AppendJsonString(x.name, &columns);
    columns += ",\"kind\":\"value\"},";
  }
  for (const FeatureSpec& f : config.features) {
    AppendJsonString(f.name, &columns);
    columns += ":{\"sensor\":";
    AppendJsonString(f.sensor, &columns);
    columns += ",\"kind\":\"feature\"},";
  }
  columns.back() = '}';
  std::string j;
  auto one = [&](const store::MachineStatus& m) {
    store::AppendMachineJson(m, config, /*with_id=*/true, &j);
    j.pop_back();  // the closing brace: add what the dashboard needs
    j += ",\"newest_window_ms\":" + std::to_string(m.window_start_ms) +
         ",\"age_ms\":" + std::to_string(now_ms - m.window_start_ms) + ",\"columns\":" + columns + "}";
  };
  if (!id.empty()) {
    for (const auto& m : st.machines) {
      if (m.machine_id == id) one(m);
    }
    if (j.empty()) return {404, JsonError("no machine '" + id + "' in the feature store")};
    return {200, j + "\n"};
  }
  j = "{\"server_time_ms\":" + std::to_string(now_ms) + ",\"machines\":[";
  for (size_t i = 0; i < st.machines.size(); ++i) {
    if (i) j += ",";
    one(st.machines[i]);
  }
  return {200, j + "]}\n"};
}

Result<SeriesParams> ParseSeriesParams(const std::string& from, const std::string& to, const std::string& step,
                                       int64_t now_ms, int64_t window_ms) {
  SeriesParams p;
  if (to.empty()) {
    p.to_ms = now_ms;
  } else {
    Result<int64_t> t = ParseTime("to", to);
    if (!t) return t.error();
    p.to_ms = *t;
  }
  if (from.empty()) {
    p.from_ms = std::max<int64_t>(0, p.to_ms - 86'400'000);
  } else {
    Result<int64_t> f = ParseTime("from", from);
    if (!f) return f.error();
    p.from_ms = *f;
  }
  if (p.from_ms >= p.to_ms) {
    return Status::InvalidArgument("from (" + std::to_string(p.from_ms) + ") must be before to (" +
                                   std::to_string(p.to_ms) + ")");
  }
  const int64_t span = p.to_ms - p.from_ms;
  if (step.empty()) {
    const int64_t w = std::max<int64_t>(window_ms, 1);
    p.step_ms = std::max<int64_t>(w, (span / 1000 + w - 1) / w * w);
  } else {
    int64_t ms = 0;
    auto [ptr, ec] = std::from_chars(step.data(), step.data() + step.size(), ms);
    if (ec != std::errc() || ptr != step.data() + step.size()) {
      Result<int64_t> d = ParseDuration(step);
      if (!d) return Status::InvalidArgument("step='" + step + "': expected a duration (\"1m\") or milliseconds");
      ms = *d;
    }
    if (ms <= 0) return Status::InvalidArgument("step must be positive");
    p.step_ms = ms;
  }
  // Rounds up without span + step - 1, which overflows for a huge step.
  if (span / p.step_ms + (span % p.step_ms != 0) > kMaxPoints) {
    return Status::InvalidArgument("too many points: (to - from) / step must be at most " + std::to_string(kMaxPoints) +
                                   "; use a larger step");
  }
  return p;
}

Reply SeriesReply(const Config& config, const std::string& id, const std::string& from, const std::string& to,
                  const std::string& step, int64_t now_ms) {
  if (!lake::IsValidMachineId(id)) return {400, JsonError("bad machine id '" + id + "'")};
  Result<SeriesParams> p = ParseSeriesParams(from, to, step, now_ms, config.processing.window_ms);
  if (!p) return {400, JsonError(p.error().message())};
  std::error_code ec;
  if (!fs::exists(DbPath(config), ec)) return {404, JsonError("no feature store yet (nothing processed)")};
  Result<store::Series> s = store::ReadSeries(DbPath(config), config, {id, p->from_ms, p->to_ms, p->step_ms});
  if (!s) return {s.error().code() == StatusCode::kNotFound ? 404 : 503, JsonError(s.error().message())};
  std::string j = "{\"machine_id\":";
  AppendJsonString(id, &j);
  j += ",\"from_ms\":" + std::to_string(p->from_ms) + ",\"to_ms\":" + std::to_string(p->to_ms) +
       ",\"step_ms\":" + std::to_string(p->step_ms) + ",\"t\":[";
  for (size_t i = 0; i < s->t.size(); ++i) j += (i ? "," : "") + std::to_string(s->t[i]);
  j += "],\"series\":{";
  for (size_t c = 0; c < s->columns.size(); ++c) {
    j += (c ? ",\"" : "\"") + s->columns[c] + "\":[";
    for (size_t i = 0; i < s->values[c].size(); ++i) {
      j += (i ? "," : "") + ExactJsonNumber(s->values[c][i]);
    }
    j += "]";
  }
  j += "},\"failures\":[";
  for (size_t i = 0; i < s->failures.size(); ++i) {
    j += (i ? ",{\"t\":" : "{\"t\":") + std::to_string(s->failures[i].first) + ",\"code\":";
    AppendJsonString(s->failures[i].second, &j);
    j += "}";
  }
  j += "],\"predictions\":{\"t\":[";
  for (size_t i = 0; i < s->predictions.size(); ++i) j += (i ? "," : "") + std::to_string(s->t[i]);
  j += "],\"p\":[";
  for (size_t i = 0; i < s->predictions.size(); ++i) j += (i ? "," : "") + ExactJsonNumber(s->predictions[i]);
  j += "]},\"alerts\":[";
  for (size_t i = 0; i < s->alerts.size(); ++i) j += (i ? "," : "") + AlertItemJson(s->alerts[i]);
  return {200, j + "]}\n"};
}

Reply AlertsReply(const Config& config, const std::string& machine, const std::string& limit) {
  if (!machine.empty() && !lake::IsValidMachineId(machine)) return {400, JsonError("bad machine id '" + machine + "'")};
  int64_t n = 100;
  if (!limit.empty()) {
    auto [p, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), n);
    if (ec != std::errc() || p != limit.data() + limit.size() || n < 1 || n > 1000) {
      return {400, JsonError("limit='" + limit + "': expected 1 to 1000")};
    }
  }
  std::string j = "{\"alerts\":[";
  const std::vector<model::Alert> alerts = store::ReadAlerts(DbPath(config), machine, n);
  for (size_t i = 0; i < alerts.size(); ++i) j += (i ? "," : "") + AlertItemJson(alerts[i]);
  return {200, j + "]}\n"};
}

std::string QuarantineSamplesJson(const std::string& data_dir, size_t n) {
  // The newest published segment of the newest date partition.
  const std::string q = lake::QuarantineDir(lake::LakeDir(data_dir));
  std::error_code ec;
  std::string newest_dir, newest_file;
  for (const auto& d : fs::directory_iterator(q, ec)) {
    if (d.path().filename().string() > fs::path(newest_dir).filename().string()) newest_dir = d.path().string();
  }
  // Not an integer sentinel: libstdc++'s file clock has its epoch in 2174, so today's times are negative.
  std::optional<fs::file_time_type> newest_time;
  if (!newest_dir.empty()) {
    for (const auto& f : fs::directory_iterator(newest_dir, ec)) {
      std::error_code fec;
      const fs::file_time_type t = fs::last_write_time(f.path(), fec);
      if (!fec && (!newest_time || t > *newest_time)) newest_time = t, newest_file = f.path().string();
    }
  }
  std::vector<std::string> lines;
  if (!newest_file.empty()) {
    std::ifstream in(newest_file, std::ios::binary | std::ios::ate);
    const std::streamoff size = in.tellg();
    const std::streamoff from = std::max<std::streamoff>(0, size - 64 * 1024);
    in.seekg(from);
    std::string line;
    if (from > 0) std::getline(in, line);  // a partial first line
    while (std::getline(in, line)) {
      lines.push_back(line);
      if (lines.size() > n) lines.erase(lines.begin());
    }
  }
  // Newer still: quarantine lines waiting in the writers' logs for their next publish.
  for (std::string& line : lake::NewestLogLines(lake::LakeDir(data_dir), "quarantine/", n)) {
    lines.push_back(std::move(line));
  }
  if (lines.size() > n) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
  std::string j = "[";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) j += ",";
    AppendJsonString(lines[i], &j);
  }
  return j + "]";
}

}  // namespace vigil::http
