#!/usr/bin/env bash
# Installs vigil as a systemd service on this machine (Debian 12, as root): builds it,
# puts the binary in /usr/bin, the config in /etc/vigil/ (kept if present), the unit in
# /lib/systemd/system, creates the `vigil` system user, and enables the service.
# Then: edit /etc/vigil/vigil.toml (broker address), `systemctl start vigil`,
# `journalctl -u vigil -f`, `vigil status --data-dir /var/lib/vigil`.
set -euo pipefail
cd "$(dirname "$0")/.."
VIGIL_BUILD_ONLY=1 scripts/install-deps.sh  # no test-only tools (browser, pandas)
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target vigil
install -m 0755 build-release/vigil /usr/bin/vigil
install -d -m 0755 /etc/vigil /usr/share/doc/vigil
[ -f /etc/vigil/vigil.toml ] || install -m 0644 config/vigil.toml /etc/vigil/vigil.toml
install -m 0644 README.md /usr/share/doc/vigil/README.md
install -m 0644 config/vigil.service /lib/systemd/system/vigil.service
id vigil >/dev/null 2>&1 || useradd --system --home-dir /var/lib/vigil --shell /usr/sbin/nologin vigil
systemctl daemon-reload 2>/dev/null || true
systemctl enable vigil 2>/dev/null || echo "systemd is not running here: enable vigil.service later"
echo "installed: /usr/bin/vigil, /etc/vigil/vigil.toml, vigil.service"
