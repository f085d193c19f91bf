#include "common/dyn_lib.h"

#include <dlfcn.h>

#include <string>

namespace vigil {

DynLib::DynLib(const char* soname, const char* package) : soname_(soname) {
  handle_ = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!handle_) {
    const char* why = dlerror();
    status_ = Status::Unavailable(std::string("cannot load ") + soname + " (" + (why ? why : "unknown error") +
                                  "): install it with `apt-get install " + package + "`");
  }
}

void* DynLib::Find(const char* name) const { return handle_ ? dlsym(handle_, name) : nullptr; }

Status DynLib::Missing(const char* name) const {
  if (!status_.ok()) return status_;
  return Status::Unavailable(std::string(soname_) + " has no " + name + ": a different version than vigil was built with");
}

}  // namespace vigil
