#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Installs what the test layers need on a Debian 12 machine:
#   1. the Debian packages pinned in tests/utils/apt-packages.txt (root only);
#   2. a virtualenv (default .venv) with the pins of requirements-test.txt.
# Safe to run again: packages already at their pinned version are skipped and
# pip only installs what is missing. Daemons shipped by the packages are NOT
# started (a policy-rc.d denies it during the install).
#
# Environment: PYTHON (interpreter for the venv, default /usr/bin/python3),
#              VENV (default .venv), SKIP_APT=1 / SKIP_VENV=1 to skip a part,
#              APT_LIST (default tests/utils/apt-packages.txt).
set -euo pipefail

cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-/usr/bin/python3}
VENV=${VENV:-.venv}
APT_LIST=${APT_LIST:-tests/utils/apt-packages.txt}
PIP_VERSION=26.3

log() { printf '[install-deps] %s\n' "$*"; }
warn() { printf '[install-deps] WARNING: %s\n' "$*" >&2; }

installed_version() {
    { dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$1" 2>/dev/null || true; } |
        awk '$1 == "ii" {print $2}'
}

version_in_archive() {
    apt-cache madison "$1" 2>/dev/null | awk -F'|' -v v="$2" '{gsub(/ /, "", $2)} $2 == v {found = 1} END {exit !found}'
}

# policy-rc.d keeps postinst scripts (docker.io, tftpd-hpa, isc-dhcp-server,
# nfs-ganesha, rpcbind ...) from starting daemons on this host. Whatever was
# there before is put back afterwards.
POLICY=/usr/sbin/policy-rc.d
POLICY_BACKUP=""
policy_installed=0
deny_service_starts() {
    if [[ -e $POLICY ]]; then
        POLICY_BACKUP=$(mktemp /usr/sbin/.policy-rc.d.backup.XXXXXX)
        cp -p "$POLICY" "$POLICY_BACKUP"
    fi
    printf '#!/bin/sh\n# cluster.netboot install-deps: no daemon starts while installing\nexit 101\n' >"$POLICY"
    chmod 0755 "$POLICY"
    policy_installed=1
}
restore_service_policy() {
    [[ $policy_installed == 1 ]] || return 0
    if [[ -n $POLICY_BACKUP ]]; then
        mv -f "$POLICY_BACKUP" "$POLICY"
    else
        rm -f "$POLICY"
    fi
    policy_installed=0
}
trap restore_service_policy EXIT

install_apt_packages() {
    local line name version have wanted=() missing=()
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%%#*}
        line=${line//[[:space:]]/}
        [[ -n $line ]] || continue
        name=${line%%=*}
        version=${line#*=}
        have=$(installed_version "$name")
        if [[ $have == "$version" ]]; then
            continue
        fi
        missing+=("$name=$version")
    done <"$APT_LIST"

    if [[ ${#missing[@]} -eq 0 ]]; then
        log "Debian packages: all pinned versions already installed"
        return 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        warn "not root: cannot install ${missing[*]}"
        return 1
    fi

    log "Debian packages to install: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq

    local entry
    for entry in "${missing[@]}"; do
        name=${entry%%=*}
        version=${entry#*=}
        if version_in_archive "$name" "$version"; then
            wanted+=("$name=$version")
            continue
        fi
        have=$(installed_version "$name")
        warn "################################################################"
        if [[ -n $have ]]; then
            warn "PINNED $name=$version IS NOT IN THE ARCHIVE ANY MORE;"
            warn "KEEPING THE INSTALLED $name $have. Update $APT_LIST."
        else
            warn "PINNED $name=$version IS NOT IN THE ARCHIVE ANY MORE;"
            warn "INSTALLING THE CURRENT CANDIDATE INSTEAD. Update $APT_LIST."
            wanted+=("$name")
        fi
        warn "################################################################"
    done
    [[ ${#wanted[@]} -gt 0 ]] || return 0

    deny_service_starts
    apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${wanted[@]}"
    restore_service_policy
}

create_venv() {
    if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        log "creating virtualenv $VENV with $PYTHON"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    export PIP_DISABLE_PIP_VERSION_CHECK=1
    "$VENV/bin/python" -m pip install -q "pip==$PIP_VERSION"
    log "installing requirements-test.txt into $VENV"
    "$VENV/bin/python" -m pip install -q -r requirements-test.txt
    "$VENV/bin/python" -m pip check
}

if [[ ${SKIP_APT:-0} != 1 ]]; then
    install_apt_packages
fi
if [[ ${SKIP_VENV:-0} != 1 ]]; then
    create_venv
fi
log "done"
