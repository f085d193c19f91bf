// Shared libraries that only some commands need (XGBoost for training and for scoring with
// a model, libcurl for S3), opened on first use instead of linked: linked, they and their
// dependencies took 14 of the 23 ms that every vigil command spends starting up (`vigil
// --version`; `vigil process` of 1% new data at 10M lines takes about 0.3 s).
#pragma once

#include "vigil/status.h"

namespace vigil {

// Meant as a function-local static (its construction is then thread-safe).
class DynLib {
 public:
  // Opens the library. soname: "libxgboost.so.0"; package: the Debian package that has it.
  DynLib(const char* soname, const char* package);
  // Ok, or kUnavailable "cannot load <soname> (<why>): install it with `apt-get install <package>`".
  const Status& status() const { return status_; }
  // Sets *fn to the symbol `name` (kUnavailable naming it if the library lacks it).
  template <class F>
  Status Resolve(const char* name, F* fn) const {
    *fn = reinterpret_cast<F>(Find(name));
    return *fn ? Status::Ok() : Missing(name);
  }

 private:
  void* Find(const char* name) const;
  Status Missing(const char* name) const;

  const char* soname_;
  void* handle_ = nullptr;
  Status status_;
};

}  // namespace vigil
