// vigil simulate: publishes a simulated fleet (src/sim) to the broker: real time, faster
// (--speed), or a backfill of a past period (--days / --from --until), then optionally
// real time (--follow). The state of every machine is kept in <data_dir>/simulate/state.
//
// Threads: the main thread runs the simulation; a small signal thread turns SIGINT/SIGTERM
// into the stop flag (the signals are blocked before any thread starts, as in vigil run,
// so Paho's threads inherit the mask). Exit codes: 0 done or stopped cleanly, 1 broker or
// I/O failure, 2 bad usage or configuration.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "common/signals.h"
#include "cli/progress.h"
#include "common/dir_lock.h"
#include "common/json_text.h"
#include "common/logging.h"
#include "common/timestamp.h"
#include "sim/fleet.h"
#include "sim/mqtt_publisher.h"
#include "sim/runner.h"
#include "sim/state_file.h"
#include "vigil/clock.h"

namespace vigil::cli {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kConnectTimeoutMs = 30'000;
constexpr int64_t kLogProgressEveryMs = 10'000;  // when stderr is not a terminal

struct SimFlags {
  CommonFlags common;
  int64_t seed = -1;
  int machines = 0;
  std::vector<std::string> machine_ids;
  double interval_s = 0;
  double speed = 1;
  double days = 0;
  std::string from, until;
  bool follow = false;
  double bad_rate = -1;
  int qos = -1;
  int64_t rate = -1;
  bool fresh = false;
  std::string summary_json;
};

// Applies the simulate flags over the config's [simulate] section.
Status ApplyFlags(const SimFlags& f, const std::string& client_id, Config* c) {
  if (f.seed >= 0) c->simulate.seed = f.seed;
  if (f.machines > 0) c->simulate.machines = sim::GeneratedMachineIds(f.machines);
  if (!f.machine_ids.empty()) c->simulate.machines = f.machine_ids;
  if (f.interval_s > 0) {
    c->simulate.interval_ms = static_cast<int64_t>(std::llround(f.interval_s * 1000));
  }
  if (f.bad_rate >= 0) c->simulate.bad_rate = f.bad_rate;
  if (f.qos >= 0) c->simulate.qos = f.qos;
  if (f.rate >= 0) c->simulate.max_rate = f.rate;
  if (!client_id.empty()) c->simulate.client_id = client_id;
  return CheckConfig(*c);
}

class ProgressPrinter {
 public:
  explicit ProgressPrinter(Clock& clock)
      : clock_(clock), start_ms_(clock.NowMs()),
        log_(GetLogger("sim")) {}

  void operator()(const sim::Progress& p) {
    const int64_t now = clock_.NowMs();
    const double secs = std::max(1e-3, static_cast<double>(now - start_ms_) / 1000.0);
    const double rate = static_cast<double>(p.sent) / secs;
    const bool backfill = p.until_ms > p.from_ms;
    const double frac = backfill ? std::clamp(static_cast<double>(p.sim_ms - p.from_ms) /
                                                  static_cast<double>(p.until_ms - p.from_ms), 0.0, 1.0)
                                 : 0.0;
    if (bar_.tty() && backfill) {
      char note[96];
      std::snprintf(note, sizeof note, "%s  %llu msgs  %.0f/s", FormatTimestampMs(p.sim_ms).substr(0, 16).c_str(),
                    static_cast<unsigned long long>(p.sent), rate);
      bar_.Update(p.sim_ms - p.from_ms, p.until_ms - p.from_ms, note);
    } else if (now - last_log_ms_ >= kLogProgressEveryMs) {
      last_log_ms_ = now;
      if (backfill) {
        log_->info("backfill {:.0f}%: at {}, {} messages sent ({:.0f}/s)", frac * 100,
                   FormatTimestampMs(p.sim_ms), p.sent, rate);
      }
    }
  }

  // Ends the progress bar's line.
  void Finish() { bar_.Finish(); }

 private:
  Clock& clock_;
  ProgressBar bar_{"backfill"};
  const int64_t start_ms_;
  int64_t last_log_ms_ = 0;
  std::shared_ptr<spdlog::logger> log_;
};

// The fleet to start from: the saved state when it fits the requested period, else a new
// trajectory. Backfill [from, until): a state inside the period resumes it (nothing is
// published twice); a state before it is continued from `from` (the machines keep their
// story); a state after it cannot be rewound, so a new trajectory starts at `from`.
// Real time: the saved state continues from now (the gap is not simulated).
Result<sim::Fleet> ChooseFleet(const sim::FleetOptions& options, const std::string& data_dir,
                               bool fresh, bool backfill, int64_t from_ms, int64_t until_ms,
                               int64_t now_ms, bool real_time_speed) {
  auto log = GetLogger("sim");
  const int64_t interval = options.interval_ms;
  const int64_t start = backfill ? from_ms : (now_ms + interval - 1) / interval * interval;
  Result<sim::Fleet> fleet = sim::Fleet::Create(options, start);
  if (!fleet || fresh) return fleet;
  Result<std::string> text = sim::ReadWholeFile(sim::StatePath(data_dir));
  if (!text) {
    if (text.error().code() == StatusCode::kNotFound) return fleet;
    return text.error();
  }
  Result<sim::Fleet> saved = sim::Fleet::Create(options, start);
  if (Status s = saved->RestoreState(*text); !s.ok()) {
    log->warn("not continuing the saved state ({}); starting a new trajectory", s.message());
    return fleet;
  }
  const int64_t tick = saved->next_tick_ms();
  if (backfill) {
    if (tick > until_ms) {
      log->warn("the saved state is at {}, after the requested period; starting a new trajectory at {}",
                FormatTimestampMs(tick), FormatTimestampMs(from_ms));
      return fleet;
    }
    if (tick > from_ms) {
      log->info("resuming the saved state at {}", FormatTimestampMs(tick));
    } else {
      saved->SkipTo(from_ms);
      log->info("continuing the saved machines' state from {}", FormatTimestampMs(saved->next_tick_ms()));
    }
    return saved;
  }
  if (real_time_speed && tick < now_ms) {
    saved->SkipTo(now_ms);
    log->info("continuing the saved machines' state (saved at {}; the gap is not simulated)", FormatTimestampMs(tick));
  } else if (real_time_speed && tick > now_ms + interval) {
    log->warn("the saved state is ahead of the clock ({}); waiting for it", FormatTimestampMs(tick));
  }
  return saved;
}

void PrintSummary(const sim::Fleet& fleet, const sim::RunStats& st, const sim::MqttPublisher& pub,
                  int64_t first_tick, double wall_s) {
  std::printf("vigil simulate: %llu messages in %.1f s (%.0f/s), simulated %s .. %s\n",
              static_cast<unsigned long long>(st.sent), wall_s, static_cast<double>(st.sent) / std::max(wall_s, 1e-3),
              FormatTimestampMs(first_tick).c_str(), FormatTimestampMs(fleet.next_tick_ms()).c_str());
  for (size_t i = 0; i < fleet.machines().size(); ++i) {
    const sim::MachineState& m = fleet.machines()[i];
    std::printf("  %-12s failures %llu (total %llu)  %s, vibration %.2f mm/s, temperature %.1f C\n",
                m.id.c_str(), static_cast<unsigned long long>(st.failures_by_machine[i]),
                static_cast<unsigned long long>(m.failures), m.down_until_ms > 0 ? "down" : "running",
                m.last_vibration, m.last_temperature);
  }
  std::printf("sent=%llu readings=%llu failures=%llu bad=%llu retried=%llu\n",
              static_cast<unsigned long long>(st.sent), static_cast<unsigned long long>(st.readings),
              static_cast<unsigned long long>(st.failure_events), static_cast<unsigned long long>(st.bad),
              static_cast<unsigned long long>(pub.retried()));
  std::fflush(stdout);
}

Status WriteSummaryJson(const std::string& path, const sim::Fleet& fleet, const sim::RunStats& st,
                        int64_t first_tick) {
  std::string j = "{\"sent\":" + std::to_string(st.sent) + ",\"readings\":" + std::to_string(st.readings) +
                  ",\"failures\":" + std::to_string(st.failure_events) + ",\"bad\":" + std::to_string(st.bad) +
                  ",\"from\":\"" + FormatTimestampMs(first_tick) + "\",\"until\":\"" +
                  FormatTimestampMs(fleet.next_tick_ms()) + "\",\"failures_by_machine\":{";
  for (size_t i = 0; i < fleet.machines().size(); ++i) {
    if (i) j += ",";
    AppendJsonString(fleet.machines()[i].id, &j);
    j += ":" + std::to_string(st.failures_by_machine[i]);
  }
  j += "}}\n";
  return sim::WriteFileAtomic(path, j);
}

int Simulate(const SimFlags& flags) {
  // Usage checks first: exit code 2 before touching anything.
  if (flags.days > 0 && (!flags.from.empty() || !flags.until.empty()))
    return Fail("simulate", Status::InvalidArgument("--days excludes --from/--until"));
  if (!flags.until.empty() && flags.from.empty())
    return Fail("simulate", Status::InvalidArgument("--until needs --from"));
  if (!(flags.speed > 0)) return Fail("simulate", Status::InvalidArgument("--speed must be positive"));
  CommonFlags common = flags.common;
  const std::string client_id = common.client_id;
  common.client_id.clear();  // --client-id is the simulator's, not mqtt.client_id (the daemon's)
  Result<Config> config = common.Resolve();
  if (!config) return Fail("simulate", config.error());
  if (Status s = ApplyFlags(flags, client_id, &*config); !s.ok()) {
    return Fail("simulate", Status::InvalidArgument("invalid options:\n" + s.message()));
  }
  const Config& c = *config;
  Result<sim::FleetOptions> options = sim::FleetOptions::FromConfig(c);
  if (!options) return Fail("simulate", options.error());

  Clock& clock = SystemClock::Instance();
  const int64_t now = clock.NowMs();
  const int64_t interval = options->interval_ms;
  const bool backfill = flags.days > 0 || !flags.from.empty();
  int64_t from_ms = 0, until_ms = 0;
  if (backfill) {
    if (flags.days > 0) {
      until_ms = now / interval * interval;
      from_ms = until_ms - static_cast<int64_t>(std::llround(flags.days * kDayMs)) / interval * interval;
    } else {
      Result<int64_t> f = ParseDateOrTimestampMs(flags.from);
      if (!f) return Fail("simulate", Status::InvalidArgument("--from: " + f.error().message()));
      from_ms = *f;
      until_ms = now / interval * interval;
      if (!flags.until.empty()) {
        Result<int64_t> u = ParseDateOrTimestampMs(flags.until);
        if (!u) return Fail("simulate", Status::InvalidArgument("--until: " + u.error().message()));
        until_ms = *u;
      }
    }
    if (from_ms >= until_ms) return Fail("simulate", Status::InvalidArgument("the period is empty (--from must be before --until)"));
  }
  auto log = GetLogger("sim");
  if (backfill && until_ms > now + c.ingest.max_clock_skew_ms) {
    log->warn("--until is in the future: vigil run rejects timestamps beyond its clock skew "
              "(timestamp_out_of_range)");
  }

  // Block the signals before any thread starts (Paho's threads inherit the mask).
  const sigset_t signals = BlockTerminationSignals();

  if (Status s = sim::CreateDirs(sim::StateDir(c.data_dir)); !s.ok()) return Fail("simulate", s);
  Result<DirLock> lock = DirLock::Acquire(sim::LockPath(c.data_dir), "vigil simulate");
  if (!lock) return Fail("simulate", lock.error());

  Result<sim::Fleet> fleet = ChooseFleet(*options, c.data_dir, flags.fresh, backfill, from_ms,
                                         until_ms, now, flags.speed == 1.0);
  if (!fleet) return Fail("simulate", fleet.error());

  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  std::thread signal_thread([&] {
    const timespec tick{0, 100'000'000};
    while (!done) {
      siginfo_t info;
      int sig = sigtimedwait(&signals, &info, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        log->info("received {}: stopping after the current tick (state is saved)",
                  sig == SIGINT ? "SIGINT" : "SIGTERM");
        stop = true;
      }
    }
  });
  struct Joiner {
    std::atomic<bool>& done;
    std::thread& t;
    ~Joiner() {
      done = true;
      t.join();
    }
  } joiner{done, signal_thread};

  sim::PublisherOptions popts;
  popts.mqtt = c.mqtt;
  popts.client_id = c.simulate.client_id;
  popts.qos = static_cast<int>(c.simulate.qos);
  popts.max_in_flight = static_cast<int>(c.simulate.max_in_flight);
  sim::MqttPublisher publisher(popts, clock, stop);
  if (Status s = publisher.Connect(kConnectTimeoutMs); !s.ok()) {
    if (stop) return kExitOk;
    return Fail("simulate", s);
  }

  const std::string state_path = sim::StatePath(c.data_dir);
  ProgressPrinter printer(clock);
  sim::RunnerOptions ropts;
  ropts.max_rate = static_cast<double>(c.simulate.max_rate);
  ropts.save = [&] { return sim::WriteFileAtomic(state_path, fleet->SaveState()); };
  ropts.progress = [&](const sim::Progress& p) { printer(p); };
  sim::Runner runner(*fleet, publisher, clock, stop, ropts);

  const int64_t first_tick = fleet->next_tick_ms();
  log->info("simulating {} machine(s), seed {}, interval {}, {}", fleet->machines().size(),
            c.simulate.seed, FormatDuration(interval),
            backfill ? "backfill " + FormatTimestampMs(first_tick) + " .. " + FormatTimestampMs(until_ms) +
                           (flags.follow ? ", then real time" : "")
                     : "real time" + (flags.speed != 1.0 ? fmt::format(" x{:g}", flags.speed) : std::string()));
  Status run = Status::Ok();
  if (backfill) run = runner.Backfill(until_ms);
  printer.Finish();
  if (run.ok() && (!backfill || flags.follow) && !stop) run = runner.RealTime(flags.speed);
  // Flush and save also after a stop: everything handed to Paho gets acknowledged first,
  // so the saved state never claims an unpublished tick.
  if (run.ok()) run = runner.Checkpoint();
  publisher.Disconnect();
  const double wall_s = static_cast<double>(clock.NowMs() - now) / 1000.0;
  PrintSummary(*fleet, runner.stats(), publisher, first_tick, wall_s);
  if (!flags.summary_json.empty()) {
    if (Status s = WriteSummaryJson(flags.summary_json, *fleet, runner.stats(), first_tick); !s.ok() && run.ok()) run = s;
  }
  if (!run.ok()) {
    log->error("the state was not saved after the last checkpoint; a restart publishes some ticks again");
    return Fail("simulate", run);
  }
  return kExitOk;
}

}  // namespace

Command AddSimulateCommand(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "simulate",
      "Publish a simulated fleet of degrading machines (readings and failure events) to the\n"
      "broker: real time by default, faster with --speed, or a backfill of a past period as\n"
      "fast as the broker accepts it. The machines' state is kept in <data-dir>/simulate/.\n"
      "Examples:\n"
      "  vigil simulate --data-dir /tmp/sim --days 14 --follow   # two weeks of history, then live\n"
      "  vigil simulate --from 2025-09-01 --until 2025-10-01 --interval 60 --seed 7\n"
      "  vigil simulate --machines 20 --speed 60 --bad-rate 0.01");
  auto f = std::make_shared<SimFlags>();
  f->common.Add(sub, /*broker=*/true);
  sub->get_option("--client-id")->description("The simulator's MQTT client id (overrides simulate.client_id)");
  sub->get_option("--data-dir")->description("Data directory; the simulator keeps its state in <DIR>/simulate/");
  sub->add_option("--seed", f->seed, "Random seed (overrides simulate.seed); same seed, options and period, same messages")
      ->check(CLI::NonNegativeNumber);
  auto* machines = sub->add_option("--machines", f->machines, "Number of machines: PUMP-A01, FAN-B02, COMP-C03, MOTOR-D04, PUMP-E05, FAN-F06, ...")
                       ->check(CLI::Range(1, 10000));
  sub->add_option("--machine-ids", f->machine_ids, "Explicit machine ids, comma-separated (overrides simulate.machines)")
      ->delimiter(',')
      ->excludes(machines);
  sub->add_option("--interval", f->interval_s, "Sampling interval of every sensor in seconds (default 1; overrides simulate.interval)")
      ->check(CLI::Range(0.01, 86400.0));
  sub->add_option("--speed", f->speed, "Simulated seconds per second in real-time mode (default 1)");
  auto* days = sub->add_option("--days", f->days, "Backfill the last N days (up to now), then exit")
                   ->check(CLI::PositiveNumber);
  auto* from = sub->add_option("--from", f->from, "Backfill from DATE (YYYY-MM-DD or ISO-8601 UTC)")->excludes(days);
  sub->add_option("--until", f->until, "Backfill until DATE (exclusive; default now)")->excludes(days)->needs(from);
  sub->add_flag("--follow", f->follow, "After the backfill, continue in real time");
  sub->add_option("--bad-rate", f->bad_rate, "Malformed messages per good one, 0..1, of every quarantine reason (overrides simulate.bad_rate)")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--qos", f->qos, "MQTT QoS (default 1; overrides simulate.qos)")->check(CLI::Range(0, 2));
  sub->add_option("--rate", f->rate, "At most this many messages per second (0: unlimited; overrides simulate.max_rate)")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--fresh", f->fresh, "Ignore the saved state: start a new trajectory from the seed");
  sub->add_option("--summary-json", f->summary_json, "Also write the final summary as JSON to FILE");
  return {sub, [f] { return Simulate(*f); }};
}

}  // namespace vigil::cli
