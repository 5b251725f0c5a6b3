#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The collection's execution environment (execution-environment.yml), built
# here with `ansible-builder build` on the test Docker engine without any
# registry:
#   - the base image is Debian 12 made by tests/utils/ee-base-image.sh
#     (build arg EE_BASE_IMAGE) with tests/utils/ee-pkgmgr as the package
#     manager (PKGMGR) and the virtualenv /opt/ee as Python (PYCMD);
#   - the collection comes from a tarball of this tree (as in
#     docs/execution-environment.md);
#   - pip finds the pinned wheels of tests/utils/ee-wheels.txt, built on the
#     host, through an HTTP server on 127.0.0.1 that only lives for the build
#     (the build runs with --network host for it; nothing else leaves the host).
#
#   ee.sh build    build (or rebuild) the image; prints its size
#   ee.sh image    print the image name
#
# Uses the Docker engine tests/utils/dockerd.sh finds or starts; one this
# script started is stopped again at the end.
# Environment: VENV (.venv: ansible-builder, ansible-galaxy, pip), EE_IMAGE
# (default cluster-netboot-ee:latest), EE_BUILD_DIR (default build/ee).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
VENV=${VENV:-$repo/.venv}
EE_IMAGE=${EE_IMAGE:-cluster-netboot-ee:latest}
EE_BUILD_DIR=${EE_BUILD_DIR:-$repo/build/ee}
BASE_IMAGE=cluster-netboot/debian12-ee-base:latest

log() { printf '[ee %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

server_pid=
engine_started=0
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ $engine_started == 1 ]]; then
        "$repo/tests/utils/dockerd.sh" stop
    fi
}

engine() {
    if ! "$repo/tests/utils/dockerd.sh" env >/dev/null 2>&1; then
        "$repo/tests/utils/dockerd.sh" start
        engine_started=1
    fi
    eval "$("$repo/tests/utils/dockerd.sh" env)"
}

build() {
    local wheels port started old_id
    trap cleanup EXIT
    started=$SECONDS
    engine
    rm -rf "$EE_BUILD_DIR"
    mkdir -p "$EE_BUILD_DIR"
    wheels=$EE_BUILD_DIR/wheels
    log "wheels of tests/utils/ee-wheels.txt"
    "$VENV/bin/python" -m pip wheel -q --disable-pip-version-check --no-deps -w "$wheels" \
        -r tests/utils/ee-wheels.txt 2>&1 | { grep -v 'is ignored: it is neither' || true; } >&2
    EE_WHEELS=$wheels "$repo/tests/utils/ee-base-image.sh"

    log "collection tarball"
    "$VENV/bin/ansible-galaxy" collection build --output-path "$EE_BUILD_DIR" "$repo" >/dev/null
    cp "$EE_BUILD_DIR"/cluster-netboot-*.tar.gz "$EE_BUILD_DIR/cluster-netboot.tar.gz"
    port=$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$VENV/bin/python" -m http.server --bind 127.0.0.1 --directory "$wheels" "$port" >"$EE_BUILD_DIR/wheels.log" 2>&1 &
    server_pid=$!

    old_id=$(docker image inspect --format '{{.Id}}' "$EE_IMAGE" 2>/dev/null || true)
    log "ansible-builder build -> $EE_IMAGE"
    # The definition names the build context relative to the repository root.
    "$VENV/bin/ansible-builder" build --file execution-environment.yml --context "$EE_BUILD_DIR/context" \
        --container-runtime docker --tag "$EE_IMAGE" --verbosity 2 \
        --build-arg "EE_BASE_IMAGE=$BASE_IMAGE" --build-arg PKGMGR=/usr/local/bin/ee-pkgmgr \
        --build-arg PYCMD=/opt/ee/bin/python3.11 \
        --build-arg PKGMGR_PRESERVE_CACHE=always \
        --build-arg PIP_NO_INDEX=1 --build-arg "PIP_FIND_LINKS=http://127.0.0.1:$port/" \
        --build-arg PIP_TRUSTED_HOST=127.0.0.1 \
        --extra-build-cli-args '--network host' >"$EE_BUILD_DIR/build.log" 2>&1 || {
            tail -n 40 "$EE_BUILD_DIR/build.log" >&2
            log "ansible-builder build failed (log: $EE_BUILD_DIR/build.log)"
            exit 1
        }
    # The image of the previous build, unless still in use (the shared engine keeps no garbage).
    if [[ -n $old_id && $old_id != "$(docker image inspect --format '{{.Id}}' "$EE_IMAGE")" ]]; then
        docker image rm "$old_id" >/dev/null 2>&1 || log "old image $old_id still in use; left in place"
    fi
    log "built $EE_IMAGE in $((SECONDS - started)) s: $(docker image inspect --format '{{.Size}}' "$EE_IMAGE") bytes"
}

case ${1:-} in
    build) build ;;
    image) echo "$EE_IMAGE" ;;
    *) echo "usage: $0 build|image" >&2; exit 2 ;;
esac
