// vigil replay: publishes recorded lake messages back to a broker, with their original
// topics and payloads, in event-time order (ties: receive time, then lake order).
// Memory: one partition date of the selected machines at a time (dates are event dates,
// so replaying date by date keeps the global order).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <thread>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "common/signals.h"
#include "cli/progress.h"
#include "common/logging.h"
#include "lake/file_system.h"
#include "lake/lake_reader.h"
#include "lake/paths.h"
#include "sim/mqtt_publisher.h"

namespace vigil::cli {
namespace {

struct ReplayFlags {
  CommonFlags common;
  std::string from, until;
  std::vector<std::string> machines;
  std::string area = "all";
  std::vector<std::string> files;
  double rate = 0;
  double speed = 0;
  int qos = 1;
  bool dry_run = false;
};

struct Entry {
  int64_t event_ms, received_ms;
  size_t offset, length;
};

std::atomic<bool> g_stop{false};

int RunReplay(const ReplayFlags& f) {
  Result<Config> config = f.common.Resolve();
  if (!config) return Fail("replay", config.error());
  if (f.common.client_id.empty()) config->mqtt.client_id = "vigil-replay";
  lake::LakeFilter filter;
  filter.raw = f.area != "archive";
  filter.archive = f.area != "raw";
  if (Status s = ParseTimeRange(f.from, f.until, &filter.from_ms, &filter.until_ms); !s.ok()) return Fail("replay", s);
  for (const std::string& m : f.machines) filter.machines.insert(m);

  // The segments, grouped by partition date (given files form one group).
  std::map<std::string, std::vector<std::string>> groups;
  if (!f.files.empty()) {
    groups[""] = f.files;
  } else {
    Result<std::vector<lake::SegmentFile>> segs = lake::ListSegments(lake::LakeDir(config->data_dir), filter);
    if (!segs) return Fail("replay", segs.error());
    for (const auto& s : *segs) groups[s.date].push_back(s.path);
  }

  // Signals: stop between messages; everything published so far stays published.
  const sigset_t signals = BlockTerminationSignals();
  std::thread waiter([signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    g_stop = true;
  });
  waiter.detach();

  Clock& clock = SystemClock::Instance();
  std::unique_ptr<sim::MqttPublisher> publisher;
  if (!f.dry_run) {
    sim::PublisherOptions po;
    po.mqtt = config->mqtt;
    po.client_id = config->mqtt.client_id;
    po.qos = f.qos;
    publisher = std::make_unique<sim::MqttPublisher>(po, clock, g_stop);
    if (Status s = publisher->Connect(30'000); !s.ok()) return Fail("replay", s);
  }

  int64_t total_files = 0;
  for (const auto& [d, files] : groups) total_files += static_cast<int64_t>(files.size());
  ProgressBar bar(f.dry_run ? "replay (dry run)" : "replay");
  lake::FileSystem& fs = lake::PosixFileSystem::Instance();
  simdjson::dom::parser parser;
  uint64_t published = 0, skipped = 0, bad = 0;
  std::map<std::string, uint64_t> per_machine;
  int64_t files_done = 0;
  const int64_t wall_start = clock.NowMs();
  int64_t first_event = INT64_MIN;
  std::string data, why;
  std::vector<Entry> entries;
  std::vector<std::string> buffers;
  for (const auto& [date, files] : groups) {
    // Load the group's lines, index them by event time.
    buffers.clear();
    entries.clear();
    std::vector<size_t> file_of;  // entries[i] lives in buffers[file_of[i]]
    for (const std::string& path : files) {
      if (Status s = fs.ReadFile(path, &data); !s.ok()) return Fail("replay", s);
      buffers.push_back(std::move(data));
      const std::string& buf = buffers.back();
      for (size_t pos = 0; pos < buf.size();) {
        size_t nl = buf.find('\n', pos);
        size_t end = nl == std::string::npos ? buf.size() : nl;
        lake::RawLine line;
        if (end > pos && lake::ParseRawLine(std::string_view(buf).substr(pos, end - pos), parser, &line, &why)) {
          if (line.event_ms >= filter.from_ms && line.event_ms < filter.until_ms) {
            entries.push_back({line.event_ms, line.received_ms, pos, end - pos});
            file_of.push_back(buffers.size() - 1);
          } else {
            ++skipped;
          }
        } else if (end > pos) {
          ++bad;
        }
        pos = end + 1;
      }
      bar.Update(++files_done, total_files);
    }
    std::vector<size_t> order(entries.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return std::tie(entries[a].event_ms, entries[a].received_ms) < std::tie(entries[b].event_ms, entries[b].received_ms);
    });
    for (size_t i : order) {
      if (g_stop) break;
      const Entry& e = entries[i];
      lake::RawLine line;
      std::string_view text = std::string_view(buffers[file_of[i]]).substr(e.offset, e.length);
      if (!lake::ParseRawLine(text, parser, &line, &why)) continue;
      if (first_event == INT64_MIN) first_event = e.event_ms;
      // Pacing: a fixed rate, or N x the original spacing of event times.
      int64_t due = 0;
      if (f.rate > 0) due = wall_start + static_cast<int64_t>(static_cast<double>(published) * 1000.0 / f.rate);
      else if (f.speed > 0) due = wall_start + static_cast<int64_t>(static_cast<double>(e.event_ms - first_event) / f.speed);
      while (due > 0 && clock.NowMs() < due && !g_stop) clock.SleepMs(std::min<int64_t>(due - clock.NowMs(), 200));
      if (!f.dry_run) {
        sim::OutMessage m;
        m.topic = std::string(line.topic);
        m.payload = std::string(line.payload);
        if (Status s = publisher->Publish(m); !s.ok()) {
          if (g_stop) break;
          return Fail("replay", s);
        }
      }
      ++published;
      std::string_view t = line.topic;
      size_t a = config->mqtt.topic_prefix.size() + 1, b = t.find('/', a);
      if (a <= t.size() && b != std::string_view::npos) per_machine[std::string(t.substr(a, b - a))]++;
    }
    if (g_stop) break;
  }
  bar.Finish();
  if (publisher) {
    Status s = publisher->Flush();
    publisher->Disconnect();
    if (!s.ok()) return Fail("replay", s);
  }
  std::fprintf(stderr, "vigil replay: %s %llu messages from %lld segment(s) in %.1f s%s; %llu outside the time range, %llu unreadable lines\n",
               f.dry_run ? "would publish" : "published", static_cast<unsigned long long>(published),
               static_cast<long long>(files_done), (clock.NowMs() - wall_start) / 1000.0,
               g_stop ? " (stopped early)" : "", static_cast<unsigned long long>(skipped),
               static_cast<unsigned long long>(bad));
  for (const auto& [m, n] : per_machine) std::fprintf(stderr, "  %-20s %llu\n", m.c_str(), static_cast<unsigned long long>(n));
  return g_stop ? kExitRuntime : kExitOk;
}

}  // namespace

Command AddReplayCommand(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "replay",
      "Publish lake messages back to a broker: original topics and payloads, in event-time order.\n"
      "Examples:\n"
      "  vigil replay --data-dir /var/lib/vigil --host test-broker --from 2025-10-01 --until 2025-10-08\n"
      "  vigil replay --data-dir /var/lib/vigil --machine PUMP-A01 --speed 60     # 60x real time\n"
      "  vigil replay --data-dir /var/lib/vigil --dry-run                         # only count");
  auto f = std::make_shared<ReplayFlags>();
  f->common.Add(sub, /*broker=*/true);
  sub->add_option("--from", f->from, "First event time (YYYY-MM-DD or ISO-8601), inclusive");
  sub->add_option("--until", f->until, "Last event time, exclusive");
  sub->add_option("--machine", f->machines, "Only these machine ids (repeatable)");
  sub->add_option("--area", f->area, "raw, archive or all")->check(CLI::IsMember({"raw", "archive", "all"}))->capture_default_str();
  auto* rate = sub->add_option("--rate", f->rate, "Messages per second (default: as fast as the broker acknowledges)")->check(CLI::PositiveNumber);
  sub->add_option("--speed", f->speed, "N x the original pace of event times")->check(CLI::PositiveNumber)->excludes(rate);
  sub->add_option("--qos", f->qos, "MQTT QoS")->check(CLI::Range(0, 2))->capture_default_str();
  sub->add_flag("--dry-run", f->dry_run, "Only count what would be published");
  sub->add_option("FILES", f->files, "Replay these segment files instead of the lake")->check(CLI::ExistingFile);
  return {sub, [f] { return RunReplay(*f); }};
}

}  // namespace vigil::cli
