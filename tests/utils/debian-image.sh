# shellcheck shell=bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Sourced by the image builders (tests/utils/base-image.sh, tests/utils/ee-base-image.sh):
# a Debian root from debootstrap --variant=minbase, from the mirror apt already
# uses, imported into Docker with the hash of its recipe as a label, so that an
# image is built again only when its recipe changes. No registry is involved.
# The caller defines log MESSAGE and sets `set -euo pipefail`.

IMAGE_RECIPE_LABEL=org.cluster-netboot.recipe
DEBIAN_IMAGE_LIB=${BASH_SOURCE[0]}

# image_recipe FILE...: the recipe hash of the builder's files and of this library.
image_recipe() {
    cat "$@" "$DEBIAN_IMAGE_LIB" | sha256sum | cut -c1-16
}

# image_is_current IMAGE RECIPE: true (and logged) when IMAGE carries RECIPE and FORCE is not 1.
image_is_current() {
    local have
    have=$(docker image inspect --format "{{ index .Config.Labels \"$IMAGE_RECIPE_LABEL\" }}" "$1" 2>/dev/null || true)
    [[ $have == "$2" && ${FORCE:-0} != 1 ]] || return 1
    log "$1 is up to date (recipe $2)"
}

# list_entries FILE: the entries of a package list, one per line, comments and blanks dropped.
list_entries() {
    sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$1"
}

# debootstrap_root SUITE ROOT LOGFILE PACKAGE...: a minbase Debian SUITE in ROOT with PACKAGEs.
debootstrap_root() {
    local suite=$1 root=$2 logfile=$3 mirror
    shift 3
    mirror=$("${DEBIAN_IMAGE_LIB%/*}/debian-mirror.sh" "$suite")
    log "debootstrap $suite from $mirror: $* (takes a few minutes)"
    # A private mount namespace: whatever debootstrap mounts (proc, sys) in the
    # target vanishes with it, even when it fails half-way.
    unshare --mount --propagation private \
        debootstrap --variant=minbase --include="$(IFS=,; echo "$*")" \
        "$suite" "$root" "$mirror" >"$logfile" 2>&1 || {
            tail -n 30 "$logfile" >&2
            tail -n 30 "$root/debootstrap/debootstrap.log" >&2 2>/dev/null || true
            log "debootstrap failed"
            exit 1
        }
}

# container_hygiene ROOT: no host identity and no package download cache in the image.
container_hygiene() {
    chroot "$1" apt-get clean
    : >"$1/etc/machine-id"
    rm -f "$1/var/lib/dbus/machine-id" "$1/etc/hostname"
}

# import_root ROOT IMAGE RECIPE CHANGE...: ROOT imported as IMAGE, labelled with RECIPE, with
# each CHANGE a `docker import --change` (CMD, ENV); the image it replaces is removed
# unless a container still uses it.
import_root() {
    local root=$1 image=$2 recipe=$3 old_id change
    shift 3
    local changes=()
    for change in "$@" "LABEL $IMAGE_RECIPE_LABEL=$recipe"; do
        changes+=(--change "$change")
    done
    log "importing $image"
    old_id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
    tar -C "$root" --numeric-owner -c . | docker import "${changes[@]}" - "$image" >/dev/null
    if [[ -n $old_id && $old_id != "$(docker image inspect --format '{{.Id}}' "$image")" ]]; then
        docker image rm "$old_id" >/dev/null 2>&1 || log "old image $old_id still in use; left in place"
    fi
}
