// Training data from the feature store: labelled `features` rows sampled at a stride, the
// evaluation splits (by time with a purge gap, by machine, or grouped k-fold by machine),
// and the cold-start anomaly score.
//
// Label-complete rows. A row at t is labelled 1 as soon as a failure follows within the
// horizon, but 0 only once the machine's watermark reaches t + horizon: in the newest
// horizon of each machine's data only positives can be labelled (censoring). Those rows are
// true labels, but without the negatives beside them (not known yet) they are a biased
// sample: a test set drawn from them holds one class only (the demo's "13337 positive of
// 13337 rows"), and a model trained on them learns too high a failure rate (the demo's
// refit on them: 80% positive). So LoadLabelled keeps label-complete rows only: labelled
// 0, or labelled 1 with t + horizon <= the machine's watermark (the label could have come
// out either way), or labelled 1 on a machine whose data ends at its newest failure
// (watermark = that failure's time: a run to failure, or a machine down for repair). In
// that last case every row of the newest horizon before the failure is positive and final,
// and no row of the horizon waits for its label, so nothing is one-sided: without it, a
// run-to-failure fleet (C-MAPSS) would lose all its positives but one per machine. The
// censored ones are counted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/remaining_life.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::model {

// The model's inputs, in order: every sensor's window value, then every feature.
std::vector<std::string> FeatureColumns(const Config& config);

struct Dataset {
  std::vector<std::string> columns;
  std::vector<std::string> machine;
  std::vector<int64_t> t;          // window_start_ms
  std::vector<float> x;            // row-major, NaN = missing
  std::vector<int> y;              // label_failure_7d (labelled rows only)
  std::vector<std::optional<double>> vibration;  // the ISO rule's input
  std::vector<char> complete;      // label-complete (see above); all 1 when unknown
  std::vector<float> rul_h;        // remaining useful life in hours, capped (RemainingLifeMs); NaN unknown;
                                   // empty unless LoadLabelled's rul_cap_ms is set
  size_t censored = 0;             // positives of the newest horizon left out (see above)
  size_t rows() const { return t.size(); }
  std::vector<float> Rows(const std::vector<size_t>& idx) const;  // the inputs of rows idx, row-major
};

// complete[i] for rows of labels y at times t of machines, given each machine's watermark
// (a machine without one: its newest row's t), its newest failure's time, and the horizon.
std::vector<char> LabelComplete(const std::vector<std::string>& machine, const std::vector<int64_t>& t,
                                const std::vector<int>& y, const std::map<std::string, int64_t>& watermark,
                                int64_t horizon_ms, const std::map<std::string, int64_t>& last_failure = {});

// The remaining-useful-life label of a row: RemainingLifeMs (common/remaining_life.h,
// shared with vigil export's label_rul_hours).

// Label-complete rows, the first of each machine in every stride_ms bucket, in time order.
// from_ms/until_ms bound the windows (inclusive, exclusive). rul_cap_ms > 0 also fills
// Dataset::rul_h.
Result<Dataset> LoadLabelled(const std::string& db_path, const Config& config, int64_t stride_ms,
                             int64_t from_ms = INT64_MIN, int64_t until_ms = INT64_MAX, int64_t rul_cap_ms = 0);

enum class SplitKind { kNone, kTime, kMachine, kMachineKFold };
const char* SplitName(SplitKind k);  // "none", "time", "machine", "machine_kfold"

// One fold of a grouped k-fold: its machines are held out, a model trains on the others.
struct Fold {
  std::vector<std::string> machines;  // held out by this fold, sorted
  std::vector<size_t> train;          // every row of the other machines
  std::vector<size_t> test;           // the label-complete rows of its machines
};

struct Split {
  SplitKind kind = SplitKind::kTime;
  int64_t split_ms = 0;  // time: test rows have t >= split_ms; by machine: the first test row's t
  std::vector<size_t> train, test;
  std::vector<std::string> test_machines;  // by machine: the held-out machines, sorted
  std::string why;                         // which split and why (ChooseSplit), or why none
  bool usable = true;  // ChooseSplit: false when no split fits (`why` says what is wrong)
  // kMachineKFold: every machine is held out by exactly one fold. Then train holds every
  // row (each trains in the folds that do not hold its machine out), test the folds' test
  // rows one fold after another (every label-complete row once: the rows of the pooled
  // out-of-fold predictions, in that order), test_machines every machine.
  std::vector<Fold> folds;
};
// The newest test_fraction of the time range is the test period; training rows end one
// horizon before it (t + horizon < split_ms), so no failure labels rows on both sides.
Split TimeSplit(const std::vector<int64_t>& t, double test_fraction, int64_t horizon_ms);
// The same over label-complete rows: the range ends at the newest complete row, and only
// complete rows are test rows (training rows need not be complete).
Split TimeSplit(const std::vector<int64_t>& t, const std::vector<char>& complete, double test_fraction,
                int64_t horizon_ms);

// Machines held out: round(test_fraction * machines) of them (at least 1, at most all but
// one), chosen by a seeded shuffle of the sorted machine ids (the same data and seed, the
// same machines, on every platform). The test rows are their label-complete rows, the
// training rows all rows of the others: no machine is on both sides. When the draw leaves
// the test rows without both classes or the training rows without a positive, the next
// draw (seed + 1, ...) is tried, up to 64 draws; kind kNone with `why` when none fits
// (fewer than two machines, or no draw fits). Of the draws that fit, the first that keeps
// a machine of every held-out type (the id's prefix before '-') in training is taken,
// else the first that fits.
Split MachineSplit(const std::vector<std::string>& machine, const std::vector<int>& y,
                   const std::vector<char>& complete, double test_fraction, uint64_t seed);

// Machines dealt into k folds (k >= 1): the distinct ids sorted, shuffled with the seed (as
// MachineSplit draws), the failing ones (ids in `failing`) moved to the front in that
// order, then dealt round-robin. So every machine is in exactly one fold, fold sizes
// differ by at most one machine, the failing machines spread as evenly (a fold holds one
// more at most), and the same machines and seed give the same folds on every platform.
// Within those bounds, machines of a type (the id's prefix before '-': PUMP-A01, PUMP-E05)
// spread over the folds: each class is dealt a type after another, then machines of a
// class are swapped between folds while that lowers the same-type pairs in a fold.
// Each fold's ids sorted; empty folds when there are fewer machines than k.
std::vector<std::vector<std::string>> AssignFolds(std::vector<std::string> machines,
                                                  const std::set<std::string>& failing, size_t k, uint64_t seed);

// Grouped k-fold by machine: AssignFolds over the machines, `failing` being those with a
// positive label-complete row. Every fold must test both classes and train on a positive,
// so fewer folds than asked are made when there are fewer machines (one a fold: leave one
// machine out) or fewer failing machines than `folds` (one failing machine a fold at
// least); `why` says so. Refused (kind kNone, `why` says why) with fewer than two failing
// machines, or when a fold's machines have no negative label-complete row (machines whose
// every row lies within one horizon of a failure).
Split MachineKFold(const std::vector<std::string>& machine, const std::vector<int>& y,
                   const std::vector<char>& complete, int64_t folds, uint64_t seed);

// model.split: "time", "machine", "machine_kfold" (model.folds folds), or "auto": the time
// split when its test rows have both classes, its training rows a positive, and its test
// period holds rows of at least half of the machines; else by machine (else the time
// split, which then fails with its reason). test_fraction 0: kind kNone, every row trains
// (no evaluation), whatever the mode. `why` says which and why.
Split ChooseSplit(const Dataset& d, const std::string& mode, double test_fraction, int64_t horizon_ms,
                  uint64_t seed, int64_t folds = 5);

// ISO 10816 zone as a score: good 0, watch 1/3, unsatisfactory 2/3, critical 1 (missing: 0).
double IsoZoneScore(std::optional<double> vibration_mm_s);

// Robust z-score of x against a baseline: (x - median) / (1.4826 * MAD). 0 without a
// baseline; a flat baseline (MAD 0) gives 0 for x at the median and +-1e6 otherwise.
double RobustZ(double x, std::vector<double> baseline);

}  // namespace vigil::model
