#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Builds the molecule base image (a Debian 12 root with systemd as init) once:
# debootstrap from the mirror apt already uses, then `docker import`
# (tests/utils/debian-image.sh, shared with the EE's base image).
# Skipped when an image with the same recipe exists (the recipe hash of this
# script, tests/utils/debian-image.sh and tests/utils/base-image-packages.txt
# is kept as an image label).
#
# Needs root, debootstrap and a Docker engine (tests/utils/dockerd.sh start).
# Environment: IMAGE (default cluster-netboot/debian12-systemd:latest),
#              SUITE (default bookworm), FORCE=1 to rebuild.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
IMAGE=${IMAGE:-cluster-netboot/debian12-systemd:latest}
SUITE=${SUITE:-bookworm}
PACKAGE_LIST=$here/base-image-packages.txt
# pip that installs the `pip:` entries (the test venv's; any Python 3 pip works).
PIP_PYTHON=${PIP_PYTHON:-$(cd "$here/../.." && pwd)/.venv/bin/python}
[[ -x $PIP_PYTHON ]] || PIP_PYTHON=python3

log() { printf '[base-image] %s\n' "$*" >&2; }
# shellcheck source=SCRIPTDIR/debian-image.sh
. "$here/debian-image.sh"

recipe=$(image_recipe "$0" "$PACKAGE_LIST")
image_is_current "$IMAGE" "$recipe" && exit 0

mapfile -t entries < <(list_entries "$PACKAGE_LIST")
packages=()
pip_requirements=()
for entry in "${entries[@]}"; do
    case $entry in
        pip:*) pip_requirements+=("${entry#pip:}") ;;
        *) packages+=("$entry") ;;
    esac
done
# debootstrap only gets what systemd/Ansible need; the role packages go in a
# second step in the chroot, where a policy-rc.d keeps their daemons from
# starting on the host.
core=(python3 python3-apt systemd systemd-sysv procps iproute2 sudo)
extra=()
for package in "${packages[@]}"; do
    [[ " ${core[*]} " == *" $package "* ]] || extra+=("$package")
done

workdir=$(mktemp -d "${TMPDIR:-/tmp}/cnb-base-image.XXXXXX")
cleanup() { rm -rf --one-file-system "$workdir"; }
trap cleanup EXIT
root=$workdir/root

debootstrap_root "$SUITE" "$root" "$workdir/debootstrap.log" "${core[@]}"

if ((${#extra[@]})); then
    log "installing role packages: ${extra[*]}"
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 0755 "$root/usr/sbin/policy-rc.d"
    # shellcheck disable=SC2016 # $1 and $@ belong to the inner shell
    unshare --mount --propagation private sh -ec '
        mount -t proc proc "$1/proc"
        shift_root=$1; shift
        DEBIAN_FRONTEND=noninteractive chroot "$shift_root" apt-get install -y -q --no-install-recommends "$@"
    ' sh "$root" "${extra[@]}" >"$workdir/apt.log" 2>&1 || {
        tail -n 30 "$workdir/apt.log" >&2
        log "installing role packages failed"
        exit 1
    }
    rm -f "$root/usr/sbin/policy-rc.d"
    # The daemons stay installed but do not start at boot: a role under test
    # must enable and start what it configures.
    for package in "${extra[@]}"; do
        chroot "$root" dpkg-query -L "$package"
    done >"$workdir/files.lst"
    while read -r path; do
        case $path in
            /etc/init.d/?*)
                chroot "$root" update-rc.d "${path#/etc/init.d/}" disable >/dev/null 2>&1 ;;
            /lib/systemd/system/*.service | /usr/lib/systemd/system/*.service)
                # systemctl in a chroot edits the enablement links offline.
                chroot "$root" systemctl disable "${path##*/}" >/dev/null 2>&1 || true ;;
        esac
    done <"$workdir/files.lst"
fi

if ((${#pip_requirements[@]})); then
    log "installing from PyPI: ${pip_requirements[*]}"
    site=$root/usr/local/lib/python3$(chroot "$root" python3 -c 'import sys; print(".%d" % sys.version_info[1])')/dist-packages
    # The host's pip writes into the image's site directory: same Python 3
    # minor version, and the image stays without pip.
    "$PIP_PYTHON" -m pip install -q --disable-pip-version-check --no-compile --no-deps \
        --target "$site" "${pip_requirements[@]}" >"$workdir/pip.log" 2>&1 || {
            tail -n 30 "$workdir/pip.log" >&2
            log "pip install failed"
            exit 1
        }
    # Console scripts would name the host's interpreter.
    rm -rf "${site:?}/bin"
fi

# Containers are not hosts: units that need the host's kernel facilities
# (rpc_pipefs from nfs-common) would leave systemd "degraded".
chroot "$root" systemctl mask run-rpc_pipefs.mount >/dev/null 2>&1 || true
chroot "$root" systemctl disable nfs-client.target >/dev/null 2>&1 || true

container_hygiene "$root"
import_root "$root" "$IMAGE" "$recipe" 'CMD ["/sbin/init"]' 'ENV container=docker'
log "built $IMAGE (recipe $recipe)"
