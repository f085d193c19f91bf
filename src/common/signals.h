// Termination signals for the long-running commands: SIGINT and SIGTERM are blocked in
// every thread (call before any thread starts, so Paho's threads inherit the mask) and
// taken synchronously with sigwait/sigtimedwait on the returned set. SIGPIPE is ignored.
#pragma once

#include <signal.h>

namespace vigil {

sigset_t BlockTerminationSignals();

}  // namespace vigil
