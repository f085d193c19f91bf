#include "model/dataset.h"

#include "common/iso_zone.h"
#include "common/machine_type.h"
#include "common/timestamp.h"
#include "store/training_data.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>

namespace vigil::model {

std::vector<std::string> FeatureColumns(const Config& config) {
  std::vector<std::string> cols;
  for (const SensorSpec& s : config.sensors) cols.push_back(s.field);
  for (const FeatureSpec& f : config.features) cols.push_back(f.name);
  return cols;
}

Result<Dataset> LoadLabelled(const std::string& db_path, const Config& config, int64_t stride_ms, int64_t from_ms,
                             int64_t until_ms, int64_t rul_cap_ms) {
  Dataset d;
  d.columns = FeatureColumns(config);
  const SensorSpec* vib = config.FindSensor("vibration");
  Result<store::LabelledRows> rows =
      store::ReadLabelled(db_path, d.columns, vib ? vib->field : "", stride_ms, from_ms, until_ms);
  if (!rows) return rows.error();
  d.machine = std::move(rows->machine);
  d.t = std::move(rows->t);
  d.x = std::move(rows->x);
  d.y = std::move(rows->y);
  d.vibration = std::move(rows->vibration);
  const std::vector<char> complete = LabelComplete(d.machine, d.t, d.y, rows->watermark, config.processing.label_horizon_ms,
                                                   rows->last_failure);
  const int64_t cap = rul_cap_ms;
  std::vector<float> rul;
  if (cap > 0) {
    static const std::vector<int64_t> kNone;
    for (size_t i = 0; i < d.t.size(); ++i) {
      const auto f = rows->failures.find(d.machine[i]);
      const auto w = rows->watermark.find(d.machine[i]);
      const std::optional<int64_t> r = RemainingLifeMs(d.t[i], f == rows->failures.end() ? kNone : f->second,
                                                       w == rows->watermark.end() ? d.t[i] : w->second, cap);
      rul.push_back(r ? static_cast<float>(static_cast<double>(*r) / 3'600'000.0) : std::numeric_limits<float>::quiet_NaN());
    }
  }
  const size_t ncols = d.columns.size();
  size_t kept = 0;
  for (size_t i = 0; i < complete.size(); ++i) {
    if (!complete[i]) continue;
    if (kept != i) d.machine[kept] = std::move(d.machine[i]);
    d.t[kept] = d.t[i];
    d.y[kept] = d.y[i];
    d.vibration[kept] = d.vibration[i];
    if (cap > 0) rul[kept] = rul[i];
    std::copy_n(d.x.begin() + static_cast<std::ptrdiff_t>(i * ncols), ncols, d.x.begin() + static_cast<std::ptrdiff_t>(kept * ncols));
    ++kept;
  }
  d.censored = complete.size() - kept;
  d.machine.resize(kept);
  d.t.resize(kept);
  d.y.resize(kept);
  d.vibration.resize(kept);
  d.x.resize(kept * ncols);
  d.complete.assign(kept, 1);
  if (cap > 0) {
    rul.resize(kept);
    d.rul_h = std::move(rul);
  }
  return d;
}

std::vector<float> Dataset::Rows(const std::vector<size_t>& idx) const {
  const size_t n = columns.size();
  std::vector<float> out;
  out.reserve(idx.size() * n);
  for (size_t i : idx) out.insert(out.end(), x.begin() + static_cast<std::ptrdiff_t>(i * n), x.begin() + static_cast<std::ptrdiff_t>((i + 1) * n));
  return out;
}

std::vector<char> LabelComplete(const std::vector<std::string>& machine, const std::vector<int64_t>& t,
                                const std::vector<int>& y, const std::map<std::string, int64_t>& watermark,
                                int64_t horizon_ms, const std::map<std::string, int64_t>& last_failure) {
  std::map<std::string, int64_t> wm = watermark;
  for (size_t i = 0; i < t.size(); ++i) {
    auto [it, added] = wm.emplace(machine[i], t[i]);
    if (!added && !watermark.count(machine[i])) it->second = std::max(it->second, t[i]);
  }
  std::vector<char> out(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    const int64_t w = wm[machine[i]];
    const auto f = last_failure.find(machine[i]);
    const bool ends_at_failure = f != last_failure.end() && f->second == w && t[i] < w;
    out[i] = y[i] == 0 || t[i] + horizon_ms <= w || ends_at_failure;
  }
  return out;
}

const char* SplitName(SplitKind k) {
  switch (k) {
    case SplitKind::kNone: return "none";
    case SplitKind::kTime: return "time";
    case SplitKind::kMachine: return "machine";
    case SplitKind::kMachineKFold: return "machine_kfold";
  }
  return "?";
}

Split TimeSplit(const std::vector<int64_t>& t, double test_fraction, int64_t horizon_ms) {
  return TimeSplit(t, std::vector<char>(t.size(), 1), test_fraction, horizon_ms);
}

Split TimeSplit(const std::vector<int64_t>& t, const std::vector<char>& complete, double test_fraction,
                int64_t horizon_ms) {
  Split s;
  s.kind = SplitKind::kTime;
  if (t.empty()) return s;
  const int64_t lo = *std::min_element(t.begin(), t.end());
  int64_t hi = INT64_MIN;
  for (size_t i = 0; i < t.size(); ++i) {
    if (complete[i]) hi = std::max(hi, t[i]);
  }
  if (hi == INT64_MIN) {  // nothing complete: no test period
    s.split_ms = *std::max_element(t.begin(), t.end()) + 1;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] + horizon_ms < s.split_ms) s.train.push_back(i);
    }
    return s;
  }
  s.split_ms = hi - static_cast<int64_t>(std::llround(static_cast<double>(hi - lo) * test_fraction));
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] >= s.split_ms) {
      if (complete[i]) s.test.push_back(i);
    } else if (t[i] + horizon_ms < s.split_ms) {
      s.train.push_back(i);
    }
  }
  return s;
}

Split MachineSplit(const std::vector<std::string>& machine, const std::vector<int>& y,
                   const std::vector<char>& complete, double test_fraction, uint64_t seed) {
  Split s;
  s.kind = SplitKind::kNone;
  const std::set<std::string> ids(machine.begin(), machine.end());
  const std::vector<std::string> sorted(ids.begin(), ids.end());
  const size_t n = sorted.size();
  if (n < 2) {
    s.why = "by machine needs two machines or more, the labelled rows have " + std::to_string(n);
    return s;
  }
  const size_t k = std::clamp<size_t>(static_cast<size_t>(std::llround(static_cast<double>(n) * test_fraction)), 1, n - 1);
  // A draw that holds out every machine of a type tests the model on a kind of machine it
  // never saw: the first draw that keeps a machine of each held-out type in training wins,
  // else the first that fits (types of one machine cannot be covered and do not count).
  std::map<std::string, size_t> of_type;
  for (const std::string& m : sorted) ++of_type[std::string(MachineType(m))];
  std::optional<Split> fallback;
  for (uint64_t draw = 0; draw < 64; ++draw) {
    // Fisher-Yates with mt19937_64's raw output: its sequence is fixed by the standard
    // (std::shuffle's use of it is not).
    std::mt19937_64 rng(seed + draw);
    std::vector<std::string> order = sorted;
    for (size_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng() % (i + 1)]);
    const std::set<std::string> held(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
    std::vector<size_t> train, test;
    size_t test_pos = 0, train_pos = 0;
    for (size_t i = 0; i < machine.size(); ++i) {
      if (!held.count(machine[i])) {
        train.push_back(i);
        train_pos += y[i] != 0;
      } else if (complete[i]) {
        test.push_back(i);
        test_pos += y[i] != 0;
      }
    }
    if (test_pos == 0 || test_pos == test.size() || train_pos == 0) continue;
    Split fit = s;
    fit.kind = SplitKind::kMachine;
    fit.train = std::move(train);
    fit.test = std::move(test);
    fit.test_machines.assign(held.begin(), held.end());
    std::map<std::string, size_t> held_of_type;
    for (const std::string& m : held) ++held_of_type[std::string(MachineType(m))];
    const bool covered = std::all_of(held_of_type.begin(), held_of_type.end(), [&](const auto& kv) {
      return of_type[kv.first] < 2 || kv.second < of_type[kv.first];
    });
    if (covered) return fit;
    if (!fallback) fallback = std::move(fit);
  }
  if (fallback) return *fallback;
  s.why = "no draw of " + std::to_string(k) + " of the " + std::to_string(n) +
          " machines leaves both classes among the held-out machines' label-complete rows and a positive to train on";
  return s;
}

std::vector<std::vector<std::string>> AssignFolds(std::vector<std::string> machines,
                                                  const std::set<std::string>& failing, size_t k, uint64_t seed) {
  std::sort(machines.begin(), machines.end());
  machines.erase(std::unique(machines.begin(), machines.end()), machines.end());
  // The shuffle of MachineSplit: mt19937_64's raw output, fixed by the standard.
  std::mt19937_64 rng(seed);
  for (size_t i = machines.size(); i > 1; --i) std::swap(machines[i - 1], machines[rng() % i]);
  // Failing machines dealt first: each fold gets its share of them before any other.
  const auto is_failing = [&](const std::string& m) { return failing.count(m) > 0; };
  const auto healthy = std::stable_partition(machines.begin(), machines.end(), is_failing);
  // Within each class, the machines of a type one after another (types in the order of
  // their first machine in the shuffle), so that the round-robin puts a type in as many
  // folds as it has machines: each fold then tests types its model trained on.
  const auto by_type = [](std::vector<std::string>::iterator b, std::vector<std::string>::iterator e) {
    std::map<std::string, size_t, std::less<>> rank;
    for (auto it = b; it != e; ++it) rank.emplace(MachineType(*it), rank.size());
    std::stable_sort(b, e, [&](const std::string& x, const std::string& y) {
      return rank.find(MachineType(x))->second < rank.find(MachineType(y))->second;
    });
  };
  by_type(machines.begin(), healthy);
  by_type(healthy, machines.end());
  // Dealt round-robin, as machine indices with a type number each. A type of one machine
  // cannot pair: only the others are numbered (the counts are folds x such types).
  const size_t nf = std::max<size_t>(k, 1);
  constexpr size_t kAlone = SIZE_MAX;
  std::map<std::string, size_t> machines_of, type_no;
  for (const std::string& m : machines) ++machines_of[std::string(MachineType(m))];
  std::vector<size_t> type(machines.size()), fold(machines.size());
  for (size_t i = 0; i < machines.size(); ++i) {
    const std::string t(MachineType(machines[i]));
    type[i] = machines_of[t] > 1 ? type_no.emplace(t, type_no.size()).first->second : kAlone;
    fold[i] = i % nf;
  }
  // A healthy machine can still land beside a failing one of its type: swap machines of the
  // same class between folds while that lowers the count of same-type pairs in a fold (the
  // sizes and the failing machines' spread stay as dealt; each swap lowers it, so it ends).
  std::vector<std::vector<uint32_t>> count(nf, std::vector<uint32_t>(type_no.size(), 0));
  for (size_t i = 0; i < machines.size(); ++i) {
    if (type[i] != kAlone) ++count[fold[i]][type[i]];
  }
  const size_t n_failing = static_cast<size_t>(healthy - machines.begin());
  for (bool swapped = true; swapped;) {
    swapped = false;
    for (size_t a = 0; a < machines.size(); ++a) {
      const size_t fa = fold[a], ta = type[a];
      if (ta == kAlone || count[fa][ta] < 2) continue;
      for (size_t b = a < n_failing ? 0 : n_failing; b < (a < n_failing ? n_failing : machines.size()); ++b) {
        const size_t fb = fold[b], tb = type[b];
        if (fb == fa || tb == ta) continue;
        // Pairs made in a's and b's folds against pairs lost there (b alone of its type:
        // none of its own).
        const size_t made = count[fb][ta] + (tb == kAlone ? 0 : count[fa][tb]);
        const size_t lost = (count[fa][ta] - 1) + (tb == kAlone ? 0 : count[fb][tb] - 1);
        if (made >= lost) continue;
        --count[fa][ta], ++count[fb][ta];
        if (tb != kAlone) ++count[fa][tb], --count[fb][tb];
        std::swap(fold[a], fold[b]);
        swapped = true;
        break;
      }
    }
  }
  std::vector<std::vector<std::string>> folds(nf);
  for (size_t i = 0; i < machines.size(); ++i) folds[fold[i]].push_back(machines[i]);
  for (std::vector<std::string>& f : folds) std::sort(f.begin(), f.end());
  return folds;
}

Split MachineKFold(const std::vector<std::string>& machine, const std::vector<int>& y,
                   const std::vector<char>& complete, int64_t folds, uint64_t seed) {
  Split s;
  s.kind = SplitKind::kNone;
  const std::set<std::string> ids(machine.begin(), machine.end());
  std::set<std::string> failing;
  for (size_t i = 0; i < machine.size(); ++i) {
    if (y[i] && complete[i]) failing.insert(machine[i]);
  }
  const size_t n = ids.size(), p = failing.size();
  if (n < 2) {
    s.why = "by machine needs two machines or more, the labelled rows have " + std::to_string(n);
    return s;
  }
  if (p < 2) {
    s.why = std::to_string(p) + " of the " + std::to_string(n) + " machines " + (p == 1 ? "has" : "have") +
            " a failure among the label-complete rows (a positive): k-fold by machine needs two or more, so that "
            "every fold tests a failure and trains on another";
    return s;
  }
  // Every fold must test both classes: one failing machine a fold at least.
  const size_t asked = static_cast<size_t>(std::max<int64_t>(folds, 2));
  const size_t k = std::min({asked, n, p});
  std::vector<std::vector<std::string>> dealt = AssignFolds(std::vector<std::string>(ids.begin(), ids.end()), failing, k, seed);
  std::map<std::string, size_t> fold_of;
  for (size_t f = 0; f < dealt.size(); ++f) {
    for (const std::string& m : dealt[f]) fold_of[m] = f;
  }
  s.folds.resize(k);
  std::vector<size_t> test_pos(k, 0), train_pos(k, 0);
  for (size_t f = 0; f < k; ++f) s.folds[f].machines = dealt[f];
  for (size_t i = 0; i < machine.size(); ++i) {
    const size_t own = fold_of[machine[i]];
    if (complete[i]) {
      s.folds[own].test.push_back(i);
      test_pos[own] += y[i] != 0;
    }
    for (size_t f = 0; f < k; ++f) {
      if (f == own) continue;
      s.folds[f].train.push_back(i);
      train_pos[f] += y[i] != 0;
    }
  }
  for (size_t f = 0; f < k; ++f) {
    std::string list;
    for (const std::string& m : s.folds[f].machines) list += (list.empty() ? "" : ", ") + m;
    // AssignFolds gives every fold a failing machine and leaves one to train on; only
    // machines without a negative (all rows within one horizon of a failure) can fail here.
    const bool no_pos = test_pos[f] == 0, no_neg = test_pos[f] == s.folds[f].test.size();
    if (no_pos || no_neg || train_pos[f] == 0) {
      s.why = "fold " + std::to_string(f + 1) + " of " + std::to_string(k) + " (" + list + ") has " +
              (no_pos   ? "no positive label-complete row"
               : no_neg ? "no negative label-complete row (every row of its machines lies within one horizon before a failure)"
                        : "no positive row to train on");
      s.folds.clear();
      return s;
    }
  }
  s.kind = SplitKind::kMachineKFold;
  s.train.resize(machine.size());
  for (size_t i = 0; i < machine.size(); ++i) s.train[i] = i;
  for (const Fold& f : s.folds) s.test.insert(s.test.end(), f.test.begin(), f.test.end());
  s.test_machines.assign(ids.begin(), ids.end());
  size_t lo = n, hi = 0;
  for (const Fold& f : s.folds) {
    lo = std::min(lo, f.machines.size());
    hi = std::max(hi, f.machines.size());
  }
  s.why = "every one of the " + std::to_string(n) + " machines held out once, in " + std::to_string(k) + " folds of " +
          std::to_string(lo) + (hi > lo ? "-" + std::to_string(hi) : "") + (hi == 1 ? " machine" : " machines") +
          " (drawn with model.seed; the " + std::to_string(p) +
          " with a failure spread over the folds, and so are machines of a type: the id's prefix before '-'); each fold's model trains on the other folds' machines and scores "
          "its own machines' label-complete rows, and these out-of-fold predictions are pooled";
  if (k < asked) {
    s.why += "; " + std::to_string(k) + " folds, not " + std::to_string(asked) + ": " +
             (k == n ? "only " + std::to_string(n) + " machines (one a fold)"
                     : "only " + std::to_string(p) + " of the " + std::to_string(n) +
                           " machines have a failure among their label-complete rows, and every fold must test one");
  }
  return s;
}

Split ChooseSplit(const Dataset& d, const std::string& mode, double test_fraction, int64_t horizon_ms,
                  uint64_t seed, int64_t folds) {
  const std::string quoted = "model.split = \"" + mode + "\"";
  if (test_fraction <= 0) {
    Split s;
    s.kind = SplitKind::kNone;
    for (size_t i = 0; i < d.rows(); ++i) s.train.push_back(i);
    s.split_ms = d.rows() ? d.t.back() + 1 : 0;
    s.why = "none: model.test_fraction = 0, no evaluation; the model trains on all " + std::to_string(d.rows()) +
            " labelled rows";
    return s;
  }
  if (mode == "machine_kfold") {
    Split k = MachineKFold(d.machine, d.y, d.complete, folds, seed);
    const std::string name = "by machine, " + (k.folds.empty() ? std::string("k") : std::to_string(k.folds.size())) +
                             "-fold (" + quoted + ", model.folds = " + std::to_string(folds) + ")";
    if (k.kind == SplitKind::kNone) {
      k.usable = false;
      k.why = name + ", which does not do: " + k.why;
      return k;
    }
    k.split_ms = INT64_MAX;
    for (size_t i : k.test) k.split_ms = std::min(k.split_ms, d.t[i]);
    k.why = name + ": " + k.why;
    return k;
  }
  const int pct = static_cast<int>(std::lround(test_fraction * 100));
  Split time = TimeSplit(d.t, d.complete, test_fraction, horizon_ms);
  // Why the time split does not do, "" when it does.
  std::string time_problem;
  {
    size_t test_pos = 0, train_pos = 0;
    std::set<std::string> all(d.machine.begin(), d.machine.end()), tested;
    for (size_t i : time.test) {
      test_pos += d.y[i] != 0;
      tested.insert(d.machine[i]);
    }
    for (size_t i : time.train) train_pos += d.y[i] != 0;
    const std::string period = "the newest " + std::to_string(pct) + "% of the label-complete range, from " +
                               FormatTimestampMs(time.split_ms);
    if (time.test.empty()) {
      time_problem = "its test period (" + period + ") has no label-complete rows";
    } else if (test_pos == 0 || test_pos == time.test.size()) {
      time_problem = "its test period (" + period + ") has " + std::to_string(test_pos) + " positive of " +
                     std::to_string(time.test.size()) + " label-complete rows";
    } else if (time.train.empty()) {
      time_problem = "it leaves no training rows one horizon (" + FormatDuration(horizon_ms) + ") before its test period (" +
                     period + ")";
    } else if (train_pos == 0) {
      time_problem = "its training rows (before " + FormatTimestampMs(time.split_ms) + " less one horizon) have no positive";
    } else if (tested.size() * 2 < all.size()) {
      time_problem = "its test period (" + period + ") holds rows of only " + std::to_string(tested.size()) + " of " +
                     std::to_string(all.size()) + " machines";
    } else {
      time.why = "by time (" + quoted + "): the test period is " + period + ", with both classes and rows of " +
                 std::to_string(tested.size()) + " of " + std::to_string(all.size()) + " machines; training rows end one horizon (" +
                 FormatDuration(horizon_ms) + ") before it";
    }
  }
  if (mode == "time" || (mode == "auto" && time_problem.empty())) {
    if (!time_problem.empty()) time.why = "by time (" + quoted + "), which does not do: " + time_problem;
    time.usable = time_problem.empty();
    return time;
  }
  Split by_machine = MachineSplit(d.machine, d.y, d.complete, test_fraction, seed);
  if (by_machine.kind == SplitKind::kNone) {
    by_machine.usable = false;
    if (mode == "machine") return by_machine;
    time.why = "by time (" + quoted + "), which does not do: " + time_problem + "; and " + by_machine.why;
    time.usable = false;
    return time;
  }
  by_machine.split_ms = INT64_MAX;
  for (size_t i : by_machine.test) by_machine.split_ms = std::min(by_machine.split_ms, d.t[i]);
  std::string held;
  for (const std::string& m : by_machine.test_machines) held += (held.empty() ? "" : ", ") + m;
  by_machine.why = "by machine (" + quoted + "): " + (mode == "auto" ? "the time split would not do, " + time_problem + "; " : "") +
                   "held out " + std::to_string(by_machine.test_machines.size()) + " of " +
                   std::to_string(std::set<std::string>(d.machine.begin(), d.machine.end()).size()) + " machines (" + held +
                   ", drawn with model.seed), tested on their label-complete rows";
  return by_machine;
}

double IsoZoneScore(std::optional<double> v) { return v ? IsoZoneIndex(*v) / 3.0 : 0; }

double RobustZ(double x, std::vector<double> baseline) {
  if (baseline.empty()) return 0;
  auto median = [](std::vector<double>& v) {
    const size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + mid, v.end());
    double m = v[mid];
    if (v.size() % 2 == 0) m = (m + *std::max_element(v.begin(), v.begin() + mid)) / 2;
    return m;
  };
  const double med = median(baseline);
  for (double& b : baseline) b = std::fabs(b - med);
  const double mad = median(baseline);
  if (mad == 0) return x == med ? 0 : (x > med ? 1e6 : -1e6);
  return (x - med) / (1.4826 * mad);
}

}  // namespace vigil::model
