#!/usr/bin/env bash
# Installs and starts the real services the test suite uses: a Docker engine
# (Debian's docker.io) and Redis (Debian's redis-server), both on loopback only.
# Idempotent: a service that already answers is left alone. Needs root.
set -euo pipefail

log() { printf '[services] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (it installs Debian packages and starts dockerd)" >&2
  exit 1
fi

apt_updated=0
ensure_package() {
  local command_name=$1 package=$2
  if command -v "$command_name" >/dev/null 2>&1; then
    return
  fi
  if [ "$apt_updated" -eq 0 ]; then
    log "updating the Debian package index"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "installing $package"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
}

start_docker() {
  ensure_package dockerd docker.io
  if docker info >/dev/null 2>&1; then
    log "docker: already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    return
  fi

  # A crashed earlier dockerd leaves its pid file and sockets behind; dockerd
  # refuses to start while the pid file names a process, so clear stale ones.
  local pid_file=/var/run/docker.pid
  if [ -f "$pid_file" ] && ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    log "docker: removing stale pid file $pid_file"
    rm -f "$pid_file"
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    rm -f /var/run/docker.sock
    rm -f /var/run/docker/containerd/containerd.pid 2>/dev/null || true
    mkdir -p /var/log
    log "docker: starting dockerd (no TCP listener, unix socket only)"
    nohup dockerd --host=unix:///var/run/docker.sock >/var/log/agentnode-dockerd.log 2>&1 &
  fi

  local waited=0
  until docker info >/dev/null 2>&1; do
    if [ "$waited" -ge 60 ]; then
      log "docker: dockerd did not answer within 60 s; last log lines:" >&2
      tail -n 20 /var/log/agentnode-dockerd.log >&2 || true
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "docker: started ($(docker version --format '{{.Server.Version}}'), answered after ${waited} s)"
}

start_redis() {
  ensure_package redis-server redis-server
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "redis: already running on 127.0.0.1:6379"
    return
  fi
  log "redis: starting redis-server on 127.0.0.1:6379"
  redis-server --bind 127.0.0.1 --port 6379 --protected-mode yes --save '' --appendonly no \
    --daemonize yes --logfile /var/log/agentnode-redis.log
  local waited=0
  until redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; do
    if [ "$waited" -ge 20 ]; then
      log "redis: no answer within 20 s" >&2
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "redis: started"
}

# Test images are built with `docker import` from local binaries, since no
# registry is reachable: busybox-static provides the shell image.
ensure_tools() {
  ensure_package busybox busybox-static
}

start_docker
start_redis
ensure_tools
log "all services ready"
