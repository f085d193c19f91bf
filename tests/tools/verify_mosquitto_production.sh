#!/usr/bin/env bash
# config/mosquitto-production.conf works as the conf.d snippet it is documented to be: a
# real mosquitto starts from a copy of Debian's main /etc/mosquitto/mosquitto.conf that
# includes it (paths pointed at a test CA and server certificate made with openssl, a
# password file made with mosquitto_passwd, config/mosquitto-acl.conf). Then: vigil's user
# receives a simulator's telemetry over TLS, anonymous and wrong-password clients are
# refused, and the ACL keeps vigil from publishing telemetry.
# usage: verify_mosquitto_production.sh SOURCE_DIR
set -euo pipefail
trap 'echo "verify_mosquitto_production.sh: failed at line $LINENO: $BASH_COMMAND"' ERR
src=$1
work=$(mktemp -d) pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
m=$work/etc-mosquitto
mkdir -p "$m/conf.d" "$m/certs" "$work/var"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout "$m/certs/ca.key" \
  -out "$m/certs/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$m/certs/server.key" \
  -out "$work/server.csr" 2>/dev/null
openssl x509 -req -in "$work/server.csr" -CA "$m/certs/ca.crt" -CAkey "$m/certs/ca.key" -CAcreateserial \
  -days 2 -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n') -out "$m/certs/server.crt" 2>/dev/null
mosquitto_passwd -b -c "$m/passwd" vigil vigil-secret
mosquitto_passwd -b "$m/passwd" simulator sim-secret
cp "$src/config/mosquitto-acl.conf" "$m/acl"

# Debian 12's /etc/mosquitto/mosquitto.conf, paths moved into $work.
cat > "$work/mosquitto.conf" <<CONF
pid_file $work/var/mosquitto.pid

persistence true
persistence_location $work/var/

log_dest file $work/var/mosquitto.log

include_dir $m/conf.d
CONF
sed -e "s|/etc/mosquitto/|$m/|g" -e "s|^listener 8883\$|listener $port|" \
  "$src/config/mosquitto-production.conf" > "$m/conf.d/vigil.conf"
grep -q "^listener $port\$" "$m/conf.d/vigil.conf" || { echo "the snippet has no 'listener 8883' line"; exit 1; }
# Started as root, mosquitto drops to the mosquitto user, as Debian's service does.
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$work"
  chown -R mosquitto: "$work/var" "$m"
fi

/usr/sbin/mosquitto -c "$work/mosquitto.conf" 2> "$work/stderr" & pid=$!
tls=(-h localhost -p "$port" --cafile "$m/certs/ca.crt")
up=0
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || break
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { up=1; break; }
  sleep 0.1
done
if [ "$up" != 1 ]; then
  echo "mosquitto did not start with the snippet:"; cat "$work/stderr" "$work/var/mosquitto.log" 2>/dev/null || true; exit 1
fi

topic=industrial/machine/M1/telemetry/vibration
mosquitto_sub "${tls[@]}" -u vigil -P vigil-secret -q 1 -t 'industrial/machine/#' -C 1 -W 10 \
  > "$work/got" & sub=$!
sleep 1
# The ACL: vigil may not write telemetry (dropped silently), the simulator may.
mosquitto_pub "${tls[@]}" -u vigil -P vigil-secret -q 1 -t "$topic" -m from-vigil
mosquitto_pub "${tls[@]}" -u simulator -P sim-secret -q 1 -t "$topic" -m from-simulator
wait "$sub" || { echo "vigil's user received nothing over TLS"; cat "$work/var/mosquitto.log"; exit 1; }
[ "$(cat "$work/got")" = from-simulator ] || { echo "vigil's user got '$(cat "$work/got")'"; exit 1; }

refused() {  # the broker refuses this client's connection
  local out
  if out=$(mosquitto_sub "${tls[@]}" "$@" -t x -C 1 -W 3 2>&1); then echo "accepted: $*"; return 1; fi
  grep -qi "not authori" <<<"$out" || { echo "not refused by the broker ($*): $out"; return 1; }
}
refused
refused -u vigil -P wrong
# No plain-text listener on the default port (the snippet has only the TLS one).
if ss -ltnp | grep "pid=$pid," | grep ":1883 " >/dev/null; then echo "mosquitto listens on 1883"; exit 1; fi
echo "mosquitto production snippet ok"
