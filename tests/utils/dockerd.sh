#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A Docker engine for the molecule scenarios on machines without systemd.
#
#   dockerd.sh start   reuse an engine that answers, else start our own
#   dockerd.sh stop    stop the engine ONLY if this script started it (by PID)
#   dockerd.sh status  say which engine answers and whether it is ours
#   dockerd.sh env     print `export DOCKER_HOST=...` for the engine that answers
#
# Our engine keeps everything in project-owned paths (data, exec root, socket,
# pidfile, cgroup parent) and is started so that it leaves the host alone:
# no iptables rules (dockerd would otherwise set the FORWARD policy to DROP and
# add chains), no IP forwarding, no docker0 bridge. Containers therefore get
# only their loopback interface, which is all the scenarios need; a scenario
# that wants more makes it inside the container's own network namespace.
set -euo pipefail

STATE_DIR=${CNB_DOCKER_STATE_DIR:-/run/cluster-netboot-test}
DATA_ROOT=${CNB_DOCKER_DATA_ROOT:-/var/lib/cluster-netboot-test/docker}
SOCKET=$STATE_DIR/docker.sock
PIDFILE=$STATE_DIR/dockerd.pid
OURS_MARKER=$STATE_DIR/dockerd.started-by-us
LOG=${CNB_DOCKER_LOG:-/var/lib/cluster-netboot-test/dockerd.log}
CGROUP_PARENT=cluster-netboot-test
START_TIMEOUT=60
STOP_TIMEOUT=30

log() { printf '[dockerd.sh] %s\n' "$*" >&2; }

answers() {  # answers DOCKER_HOST_URL
    DOCKER_HOST=$1 timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# The engine to talk to: ours, then one named by DOCKER_HOST, then the default.
find_engine() {
    local candidate
    for candidate in "unix://$SOCKET" ${DOCKER_HOST:+"$DOCKER_HOST"} unix:///var/run/docker.sock; do
        if answers "$candidate"; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}

our_pid() {  # prints the PID of the dockerd we started, if it still runs
    local pid
    [[ -f $OURS_MARKER ]] || return 1
    pid=$(<"$OURS_MARKER")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    # Guard against PID reuse: it must be a dockerd using our data root.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "dockerd .*--data-root $DATA_ROOT" || return 1
    printf '%s\n' "$pid"
}

start() {
    local engine pid waited=0
    if engine=$(find_engine); then
        log "reusing the Docker engine at $engine"
        return 0
    fi
    command -v dockerd >/dev/null || { log "dockerd not installed: run 'make deps'"; exit 2; }
    mkdir -p "$STATE_DIR" "$DATA_ROOT" "$(dirname "$LOG")"
    rm -f "$SOCKET" "$PIDFILE"
    log "starting dockerd (data root $DATA_ROOT, socket $SOCKET, log $LOG)"
    setsid dockerd \
        --host "unix://$SOCKET" \
        --data-root "$DATA_ROOT" \
        --exec-root "$STATE_DIR/exec" \
        --pidfile "$PIDFILE" \
        --cgroup-parent "$CGROUP_PARENT" \
        --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
        --userland-proxy=false \
        </dev/null >>"$LOG" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$OURS_MARKER"
    until answers "unix://$SOCKET"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$OURS_MARKER"
            log "dockerd exited during start; last log lines:"
            tail -n 20 "$LOG" >&2
            exit 1
        fi
        if ((waited >= START_TIMEOUT)); then
            log "dockerd did not answer within ${START_TIMEOUT}s; stopping it"
            stop
            exit 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    log "dockerd started, PID $pid"
}

remove_cgroup_parent() {
    # Containers are gone once dockerd stopped; drop the empty cgroups made
    # under our parent, deepest first, in every mounted hierarchy.
    local hierarchy
    for hierarchy in /sys/fs/cgroup /sys/fs/cgroup/*; do
        [[ -d $hierarchy/$CGROUP_PARENT ]] || continue
        find "$hierarchy/$CGROUP_PARENT" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
}

stop() {
    local pid waited=0
    if ! pid=$(our_pid); then
        if [[ -f $OURS_MARKER ]]; then
            log "the dockerd we started is gone already"
            rm -f "$OURS_MARKER"
            remove_cgroup_parent
        else
            log "no dockerd started by this script; leaving any other engine alone"
        fi
        return 0
    fi
    log "stopping dockerd PID $pid"
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= STOP_TIMEOUT)); then
            log "dockerd PID $pid still running after ${STOP_TIMEOUT}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 1
        waited=$((waited + 1))
    done
    rm -f "$OURS_MARKER" "$SOCKET" "$PIDFILE"
    remove_cgroup_parent
}

status() {
    local engine pid
    if pid=$(our_pid); then
        echo "ours: dockerd PID $pid, DOCKER_HOST=unix://$SOCKET, data root $DATA_ROOT"
    fi
    if engine=$(find_engine); then
        echo "answering: $engine"
    else
        echo "no Docker engine answers"
        return 1
    fi
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    env)
        engine=$(find_engine) || { log "no Docker engine answers: run '$0 start'"; exit 1; }
        printf 'export DOCKER_HOST=%q\n' "$engine"
        ;;
    *)
        echo "usage: $0 start|stop|status|env" >&2
        exit 2
        ;;
esac
