// Small network helpers shared by the MQTT subscriber (src/ingest) and publishers
// (src/sim, replay). No Paho headers here.
#pragma once

#include <string>

#include "vigil/config.h"

namespace vigil {

// tcp://host:port, or ssl://host:port when mqtt.ca_file is set (IPv6 hosts bracketed).
std::string BrokerUri(const MqttConfig& c);

// Sets TCP_NODELAY on every TCP socket of this process whose peer port is `port`. Paho C
// never sets it and does not expose its socket, so this finds the socket through
// /proc/self/fd. Best effort: errors are ignored.
void SetNoDelayOnPeerPort(int port);

}  // namespace vigil
