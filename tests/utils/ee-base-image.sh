#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Builds the base image of the execution environment (tests/utils/ee.sh) once,
# the way the molecule base image is built (tests/utils/base-image.sh): no
# registry, debootstrap --variant=minbase of the packages in
# tests/utils/ee-base-image-packages.txt from the mirror apt already uses,
# plus tests/utils/ee-pkgmgr as /usr/local/bin/ee-pkgmgr (the dnf-style
# package manager ansible-builder's steps call) and a virtualenv /opt/ee for
# the EE's Python, then `docker import` (tests/utils/debian-image.sh, shared
# with the molecule base image).
# Skipped when an image with the same recipe (hash of this script, the shared
# library and those files, kept as an image label) exists.
#
# Needs root, debootstrap and a Docker engine (tests/utils/dockerd.sh start).
# Environment: EE_WHEELS (required: directory with the wheels of
#              tests/utils/ee-wheels.txt), IMAGE (default
#              cluster-netboot/debian12-ee-base:latest), SUITE (default
#              bookworm), FORCE=1 to rebuild.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
IMAGE=${IMAGE:-cluster-netboot/debian12-ee-base:latest}
SUITE=${SUITE:-bookworm}
PACKAGE_LIST=$here/ee-base-image-packages.txt
PKGMGR=$here/ee-pkgmgr
WHEEL_PINS=$here/ee-wheels.txt
# Installed into /opt/ee from EE_WHEELS (the wheels of ee-wheels.txt, ee.sh).
PREINSTALL=(bindep PyYAML packaging)

log() { printf '[ee-base-image] %s\n' "$*" >&2; }
# shellcheck source=SCRIPTDIR/debian-image.sh
. "$here/debian-image.sh"

recipe=$(image_recipe "$0" "$PACKAGE_LIST" "$PKGMGR" "$WHEEL_PINS")
image_is_current "$IMAGE" "$recipe" && exit 0

[[ -d ${EE_WHEELS:-} ]] || { log "EE_WHEELS: no wheel directory given (tests/utils/ee.sh sets it)"; exit 2; }
mapfile -t packages < <(list_entries "$PACKAGE_LIST")
workdir=$(mktemp -d "${TMPDIR:-/tmp}/cnb-ee-base-image.XXXXXX")
trap 'rm -rf --one-file-system "$workdir"' EXIT
root=$workdir/root

debootstrap_root "$SUITE" "$root" "$workdir/debootstrap.log" "${packages[@]}"
install -m 0755 "$PKGMGR" "$root/usr/local/bin/ee-pkgmgr"
# Debian's system Python refuses ensurepip and pip installs (PEP 668): the
# EE's Python is a virtualenv of it, /opt/ee, first on PATH (build arg
# PYCMD=/opt/ee/bin/python3.11). ansible-builder's builder stage installs
# bindep, PyYAML and packaging before the definition can tell pip where the
# wheels are: they are in the virtualenv already, from the pinned wheels.
chroot "$root" python3.11 -m venv /opt/ee
mkdir "$root/tmp/wheels"
cp "$EE_WHEELS"/*.whl "$root/tmp/wheels/"
chroot "$root" /opt/ee/bin/python3.11 -m pip install -q --disable-pip-version-check --no-index \
    --find-links /tmp/wheels --no-compile "${PREINSTALL[@]}"
rm -rf "$root/tmp/wheels"
container_hygiene "$root"
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
import_root "$root" "$IMAGE" "$recipe" 'CMD ["bash"]' \
    'ENV PATH=/opt/ee/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
log "built $IMAGE (recipe $recipe, $(docker image inspect --format '{{.Size}}' "$IMAGE") bytes)"
