// The model registry as the model stage sees it: the store keeps the rows
// (store/model_registry.h: models, promotions, the tables of scoring and alerts); here is
// what a model's record means to the model stage.
#pragma once

#include <string>
#include <vector>

#include "store/model_registry.h"
#include "store/predictions.h"

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

}  // namespace vigil::model
