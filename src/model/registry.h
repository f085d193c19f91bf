// The model registry as the model stage sees it: the store keeps the rows
// (store/model_registry.h: models, promotions, the tables of scoring and alerts); here is
// what a model's record means to the model stage.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/model_registry.h"
#include "store/predictions.h"
#include "vigil/config.h"

namespace vigil::model {

using Db = store::ModelDb;
using store::CurrentModel;
using store::InsertAlert;
using store::InsertModel;
using store::ListModels;
using store::ModelRecord;
using store::Promote;
using store::Rollback;
using store::UpdateModel;

// The feature columns a model was trained on, in order (from its params' "columns").
std::vector<std::string> ModelColumns(const ModelRecord& m);

// The alert threshold vigil train chose for it (params' "threshold"); empty for a model
// trained before thresholds were chosen, or without held-out rows to choose on.
std::optional<double> ModelThreshold(const ModelRecord& m);

// The newest row it trained on (params' "trained_until_ms"; for a model from before that
// was recorded: its split less one horizon, where its training rows ended).
int64_t ModelTrainedUntil(const ModelRecord& m, int64_t horizon_ms);
// Its split ("time", "machine", "none"; "time" for a model from before splits were chosen).
std::string ModelSplitKind(const ModelRecord& m);
// Its own held-out PR AUC (metrics' model.pr_auc); empty when it was not evaluated.
std::optional<double> ModelHeldOutPrAuc(const ModelRecord& m);

// The warning threshold alerts use with model m: model.warning_threshold when set (> 0),
// else m's chosen threshold, else 0.5.
double WarningThreshold(const ModelConfig& mc, const std::optional<double>& chosen);

// The attributes of a model file (Booster::SetAttr): its columns (comma-separated), chosen
// threshold and horizon.
inline constexpr char kAttrColumns[] = "vigil_columns";
inline constexpr char kAttrThreshold[] = "vigil_threshold";
inline constexpr char kAttrHorizonMs[] = "vigil_horizon_ms";

}  // namespace vigil::model
