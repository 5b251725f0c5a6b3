#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The embedded QEMU lab: a console container configured by the collection's
# own roles, QEMU VMs that PXE-boot from it, and playbooks/image_nodes.yml
# imaging them, all on one machine.
#
#   lab.sh run [--keep] [--failure-case]   build a lab, image its nodes, check every disk from
#         [--catalog-case]                 the host, tear the lab down (unless --keep); --catalog-case
#                                          then captures and re-images through the catalog (catalog_case.sh)
#   lab.sh up [--failure-case]             build a lab and configure its console; print its id
#   lab.sh console ID                      configure the lab's console again (idempotence)
#   lab.sh image ID [ansible-playbook args]  run playbooks/image_nodes.yml against a lab
#   lab.sh check ID                        check the disks, pointers and serial logs of a lab
#   lab.sh status                          list the labs and their VMs
#   lab.sh down [ID ...]                   tear down the given labs, or every lab that no running
#                                          lab.sh owns (LAB_DOWN_FORCE=1: every lab); the Docker
#                                          engine a lab started stops with the last lab
#
# Fabric (lab-only shortcuts): a network namespace `<id>-ns` holding the bridge
# `<id>-br`; radvd on it (no prefix, AdvDefaultLifetime 0) so iPXE does not
# wait for IPv6 routers; a systemd container `<id>-console` from the molecule
# base image with the packages baked in, joined to the bridge by a veth
# (`lab0`, 10.66.0.1/24); one QEMU VM per node (TCG, virtio-net on a tap
# `<id>-t<n>` in the bridge, blank virtio disk, serial to a file), started
# paused ("off") and powered through its QMP socket, which the console sees
# in /srv/lab/qmp. A VM whose host has `lab_firmware: uefi` runs OVMF with
# Secure Boot enforced instead of SeaBIOS (Debian's ovmf: OVMF_CODE_4M.secboot.fd
# and its own copy of OVMF_VARS_4M.ms.fd, which enrolls Microsoft's keys;
# q35 with SMM and the flash locked to SMM), still under TCG. The lab images
# carry an EFI system partition (Debian's signed shim and GRUB, a grub.cfg
# printing the banner), so both kinds of VM prove they booted the new disk. Every name starts with the lab id (`cnbl` + 4 hex digits);
# everything is torn down on exit, also on failure (trap), and a Docker
# engine the lab had to start is stopped again (tests/utils/dockerd.sh).
#
# The capability itself (DHCP, TFTP, PXE configs, the imaging ramdisk built
# from Debian packages, the multicast sessions, the reports) is configured
# by the roles, exactly as on a real console.
#
# Environment: LAB_IMAGE_MIB (64), LAB_VM_MEMORY (256, MiB), LAB_UEFI_VM_MEMORY (512, MiB), LAB_INVENTORY
# (inventories/lab), LAB_STATE_ROOT (/tmp/cluster-netboot-lab), LAB_CACHE
# ($LAB_STATE_ROOT/cache: .deb files, images, the console image recipe),
# LAB_BOOT_TIMEOUT (240 s for a node's first report), LAB_RESULTS (where `run`
# writes its results JSON), LAB_DHCP (isc, or kea: the console serves DHCP with
# Kea), LAB_EE (1: image_nodes.yml runs inside the execution environment
# LAB_EE_IMAGE, default cluster-netboot-ee:latest, through ansible-navigator;
# its playbook artifact goes to LAB_EE_ARTIFACT),
# FRISBEE_DIR (a directory with the operator's frisbeed, frisbee and
# imagezip: group-b is then imaged through frisbee from an imagezip image of
# its raw image; without it both groups use udpcast and the lab says the
# frisbee path was not run),
# LAB_POWER (qmp, or ipmi: every VM gets a BMC, an ipmi_sim with one LAN
# endpoint per VM in the lab namespace, and image_nodes powers the VMs with
# ipmitool through them),
# LAB_VMS (1; 0: no VMs, for the node simulator tests/lab/nodesim.py),
# LAB_DISCOVER (1: two more VMs unknown to DHCP are discovered and imaged, tests/lab/lab-discover.sh),
# LAB_PREFIX (24: the console's prefix length on the lab bridge; the simulator
# needs room for thousands of nodes), VENV (.venv).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
VENV=${VENV:-$repo/.venv}
LAB_STATE_ROOT=${LAB_STATE_ROOT:-/tmp/cluster-netboot-lab}
LAB_CACHE=${LAB_CACHE:-$LAB_STATE_ROOT/cache}
LAB_IMAGE_MIB=${LAB_IMAGE_MIB:-64}
LAB_VM_MEMORY=${LAB_VM_MEMORY:-256}
LAB_POWER=${LAB_POWER:-qmp}
# LAB_POWER=ipmi: the BMCs' LAN address on the lab bridge; VM number N's BMC answers on UDP port 6230+N.
BMC_ADDRESS=10.66.0.250
BMC_PASSWORD=lab-bmc-secret
LAB_UEFI_VM_MEMORY=${LAB_UEFI_VM_MEMORY:-512}
LAB_INVENTORY=${LAB_INVENTORY:-$repo/inventories/lab}
BASE_IMAGE=${LAB_BASE_IMAGE:-cluster-netboot/debian12-systemd:latest}
LAB_EE=${LAB_EE:-0}
LAB_EE_IMAGE=${LAB_EE_IMAGE:-cluster-netboot-ee:latest}
CONSOLE_ADDRESS=10.66.0.1
CONSOLE_PREFIX=${LAB_PREFIX:-24}
LAB_VMS=${LAB_VMS:-1}
# UEFI VMs: Secure Boot enforced (packages ovmf, shim-signed, grub-efi-amd64-signed: tests/utils/apt-packages.txt).
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
SHIM_SIGNED=/usr/lib/shim/shimx64.efi.signed
# The monolithic signed GRUB (disk boot) reads $prefix/grub.cfg, its prefix being /EFI/debian on its own partition.
GRUB_SIGNED=/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
# The negative check: Debian's iPXE for UEFI is not signed, a Secure Boot VM must refuse it.
UNSIGNED_EFI=/usr/lib/ipxe/ipxe.efi
# The console image is the molecule base image plus every package the
# console's roles install (their *_packages defaults) that it lacks: the
# container has no route to a package archive, so the roles find them installed.
CONSOLE_ROLES=(tftp_server dhcp_server frisbee_server imaging_ramdisk image_nodes)
# ... and, unless the base image has them already (from PyPI), the modules' Python libraries.
CONSOLE_PYTHON_PACKAGES=(netaddr:python3-netaddr ClusterShell:python3-clustershell)
# Debian packages the imaging_ramdisk role builds from (offline: the console has no route out).
RAMDISK_PACKAGES=(linux-image-amd64 busybox-static udpcast)

log() { printf '[lab %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# LAB_DISCOVER=1: two VMs unknown to DHCP are discovered, named and imaged too.
# shellcheck source=lab-discover.sh
. "$here/lab-discover.sh"

[[ $(id -u) == 0 ]] || die "the lab needs root (network namespaces, taps, docker)"
[[ $LAB_IMAGE_MIB =~ ^[0-9]+$ && $LAB_IMAGE_MIB -ge 1 ]] || die "LAB_IMAGE_MIB must be a positive number"
[[ $LAB_VM_MEMORY =~ ^[0-9]+$ && $LAB_VM_MEMORY -ge 128 ]] || die "LAB_VM_MEMORY must be at least 128"
[[ $LAB_POWER == qmp || $LAB_POWER == ipmi ]] || die "LAB_POWER must be qmp or ipmi"

# The frisbee path runs only with the operator's programs (frisbee is not packaged in Debian).
frisbee_dir_check() {
    local program
    [[ -n ${FRISBEE_DIR:-} ]] || return 0
    FRISBEE_DIR=$(cd "$FRISBEE_DIR" 2>/dev/null && pwd) || die "FRISBEE_DIR is not a directory"
    for program in frisbeed frisbee imagezip; do
        [[ -x $FRISBEE_DIR/$program && -f $FRISBEE_DIR/$program ]] || die "FRISBEE_DIR has no executable $program"
    done
}
frisbee_notice() {
    if [[ -n ${FRISBEE_DIR:-} ]]; then
        log "frisbee: group-b is imaged through frisbeed/frisbee from an imagezip image ($FRISBEE_DIR)"
    else
        log "################################################################################"
        log "# FRISBEE PATH NOT RUN: no FRISBEE_DIR (a directory with the operator's frisbeed,"
        log "# frisbee and imagezip; frisbee is not packaged in Debian). Both groups use udpcast."
        log "################################################################################"
    fi
}
[[ $CONSOLE_PREFIX =~ ^[0-9]+$ && $CONSOLE_PREFIX -ge 8 && $CONSOLE_PREFIX -le 24 ]] || die "LAB_PREFIX must be 8 to 24"
[[ $LAB_VMS == 0 || $LAB_VMS == 1 ]] || die "LAB_VMS must be 0 or 1"
[[ $LAB_UEFI_VM_MEMORY =~ ^[0-9]+$ && $LAB_UEFI_VM_MEMORY -ge 384 ]] || die "LAB_UEFI_VM_MEMORY must be at least 384"

# Set when a lab started the Docker engine: the last lab torn down stops it again.
ENGINE_MARKER=$LAB_STATE_ROOT/dockerd.started-by-lab

docker_env() {
    local line
    line=$("$repo/tests/utils/dockerd.sh" env) || die "no Docker engine: tests/utils/dockerd.sh start"
    eval "$line"
}

# --- state of one lab --------------------------------------------------------

lab_dir() { printf '%s/%s\n' "$LAB_STATE_ROOT" "$1"; }

load_lab() {  # load_lab ID: sets ID NS BR CONTAINER STATE
    ID=$1
    STATE=$(lab_dir "$ID")
    [[ -f $STATE/lab.env ]] || die "no lab $ID under $LAB_STATE_ROOT"
    # shellcheck disable=SC1091
    source "$STATE/lab.env"
}

new_id() {
    local id
    while :; do
        id=cnbl$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
        [[ -e $(lab_dir "$id") ]] || ip netns list | grep -q "^$id-ns" || break
    done
    printf '%s\n' "$id"
}

# Kill a process we started, by PID, only while its command line still names this lab.
kill_ours() {  # kill_ours PIDFILE MARKER
    local pidfile=$1 marker=$2 pid waited=0
    [[ -f $pidfile ]] || return 0
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$marker"; then
        kill -TERM "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null && ((waited < 50)); do sleep 0.1; waited=$((waited + 1)); done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

# PIDs of this lab's QEMU processes, found by the name every VM of the lab
# carries (-name cnb-lab-<id>-<node>): also those whose pid files are gone.
lab_qemu_pids() {
    local id=$1 proc
    for proc in /proc/[0-9]*; do
        tr '\0' ' ' 2>/dev/null <"$proc/cmdline" | grep -q -- "^qemu-system-x86_64 -name cnb-lab-$id-" &&
            printf '%s\n' "${proc#/proc/}"
    done
    return 0
}

owner_start() {  # the kernel start time of a process (field 22 of /proc/PID/stat)
    awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null || true
}

# A lab whose lab.sh (run, or up while it configures) still runs is in use.
lab_in_use() {
    local id=$1 env owner='' start=''
    env=$(lab_dir "$id")/lab.env
    [[ -f $env ]] || return 1
    owner=$(sed -n 's/^OWNER_PID=//p' "$env")
    start=$(sed -n 's/^OWNER_START=//p' "$env")
    [[ -n $owner && $owner != "$$" && -n $start ]] || return 1
    [[ $(owner_start "$owner") == "$start" ]]
}

down_one() {
    local id=$1 state vmdir pid
    state=$(lab_dir "$id")
    log "tearing down lab $id"
    if [[ -d $state/vms ]]; then
        for vmdir in "$state"/vms/*/; do
            [[ -d $vmdir ]] && kill_ours "$vmdir/qemu.pid" "cnb-lab-$id-"
            [[ -d $vmdir ]] && kill_ours "$vmdir/bmc.pid" "$vmdir"
        done
    fi
    for pid in $(lab_qemu_pids "$id"); do
        kill -KILL "$pid" 2>/dev/null || true
    done
    kill_ours "$state/radvd.pid.ours" "$state/radvd.conf"
    if command -v docker >/dev/null && "$repo/tests/utils/dockerd.sh" env >/dev/null 2>&1; then
        docker_env
        docker rm -f "$id-console" >/dev/null 2>&1 || true
    fi
    ip netns del "$id-ns" 2>/dev/null || true
    ip link del "$id-cv" 2>/dev/null || true
    ip link del "$id-cb" 2>/dev/null || true
    if [[ ${LAB_KEEP_STATE:-0} != 1 ]]; then
        rm -rf --one-file-system "$state"
    fi
}

# Stop the Docker engine a lab started once no lab is left (one that was
# running before any lab, or that molecule started, is never stopped here).
release_engine() {
    local dir
    [[ -f $ENGINE_MARKER ]] || return 0
    for dir in "$LAB_STATE_ROOT"/cnbl*; do
        if [[ -d $dir ]]; then
            log "the Docker engine the labs started stays up for lab ${dir##*/}"
            return 0
        fi
    done
    log "stopping the Docker engine the lab started"
    "$repo/tests/utils/dockerd.sh" stop >&2 || true
    rm -f "$ENGINE_MARKER"
}

down_all() {
    local id ids=()
    # Labs with a state directory, and leftovers of labs whose state is gone:
    # their namespace, container or QEMU processes still carry the lab id.
    mapfile -t ids < <(
        { find "$LAB_STATE_ROOT" -mindepth 1 -maxdepth 1 -name 'cnbl*' -printf '%f\n' 2>/dev/null
          ip netns list 2>/dev/null | grep -o '^cnbl[0-9a-f]\{4\}-ns' | sed 's/-ns$//'
          if "$repo/tests/utils/dockerd.sh" env >/dev/null 2>&1; then
              docker_env
              docker ps -a --filter label=org.cluster-netboot.lab --format '{{.Label "org.cluster-netboot.lab"}}'
          fi
          grep -aho 'cnb-lab-cnbl[0-9a-f]\{4\}-' /proc/[0-9]*/cmdline 2>/dev/null | sed 's/^cnb-lab-//; s/-$//'
        } | grep -x 'cnbl[0-9a-f]\{4\}' | sort -u)
    if ((${#ids[@]} == 0)); then
        log "no lab to tear down"
        return 0
    fi
    for id in "${ids[@]}"; do
        if [[ ${LAB_DOWN_FORCE:-0} != 1 ]] && lab_in_use "$id"; then
            log "lab $id is in use by a running lab.sh; left alone (LAB_DOWN_FORCE=1 or lab.sh down $id)"
            continue
        fi
        down_one "$id"
    done
}

# --- images and packages (cached between labs) ----------------------------------

# The console image: the molecule base image plus CONSOLE_PACKAGES, resolved
# against the base image's own package lists and downloaded on the host (the
# container has no network). Rebuilt when the base image or the list changes.
console_image() {
    local base_id recipe tag debs container packages entry wanted=() role roles=()
    for role in "${CONSOLE_ROLES[@]}"; do
        [[ -f $repo/roles/$role/defaults/main.yml ]] && roles+=("$role")
    done
    read -r -a wanted < <("$VENV/bin/python" "$here/labtool.py" packages --roles-dir "$repo/roles" "${roles[@]}")
    "$repo/tests/utils/base-image.sh" >&2
    base_id=$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE")
    for entry in "${CONSOLE_PYTHON_PACKAGES[@]}"; do
        docker run --rm --network none "$BASE_IMAGE" python3 -c "import ${entry%%:*}" >/dev/null 2>&1 ||
            wanted+=("${entry#*:}")
    done
    recipe=$(printf '%s %s\n' "$base_id" "${wanted[*]}" | sha256sum | cut -c1-12)
    tag=cluster-netboot/lab-console:$recipe
    if docker image inspect "$tag" >/dev/null 2>&1; then
        printf '%s\n' "$tag"
        return
    fi
    log "building the lab console image $tag"
    debs=$LAB_CACHE/console-debs-$recipe
    rm -rf "$debs"
    mkdir -p "$debs"
    mapfile -t packages < <(docker run --rm --network none --entrypoint /bin/sh "$BASE_IMAGE" -c \
        "apt-get install -s -q --no-install-recommends ${wanted[*]} 2>/dev/null" |
        awk '/^Inst /{ gsub(/[()]/, "", $3); print $2 "=" $3 }')
    if ((${#packages[@]})); then
        (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root "${packages[@]}" >&2)
    fi
    container=cnb-lab-build-$recipe
    docker rm -f "$container" >/dev/null 2>&1 || true
    # A CMD, not an --entrypoint: the committed image keeps the base image's (none).
    docker run --name "$container" --network none -v "$debs:/debs:ro" "$BASE_IMAGE" /bin/sh -c \
        'set -e; ls /debs/*.deb >/dev/null 2>&1 || exit 0; dpkg -i /debs/*.deb >/dev/null; apt-get clean' >&2
    docker commit --change 'CMD ["/sbin/init"]' \
        --change 'LABEL org.cluster-netboot.lab-console=1' "$container" "$tag" >/dev/null
    docker rm -f "$container" >/dev/null
    # Older lab console images (other recipes) are dropped unless a container still uses them.
    docker image ls --format '{{.Repository}}:{{.Tag}}' cluster-netboot/lab-console | grep -vxF "$tag" |
        xargs -r docker image rm >/dev/null 2>&1 || true
    printf '%s\n' "$tag"
}

ramdisk_debs() {
    local dir=$LAB_CACHE/ramdisk-debs have
    mkdir -p "$dir"
    have=1
    for package in "${RAMDISK_PACKAGES[@]}"; do
        compgen -G "$dir/${package}_*.deb" >/dev/null || have=0
    done
    if [[ $have == 0 ]]; then
        log "downloading ${RAMDISK_PACKAGES[*]} (and the versioned kernel) for the ramdisk build"
        (cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "${RAMDISK_PACKAGES[@]}" >&2)
        local kernel
        kernel=$(dpkg-deb -f "$dir"/linux-image-amd64_*.deb Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' |
            grep -E '^linux-image-[0-9]' | head -n 1)
        (cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$kernel" >&2)
    fi
    printf '%s\n' "$dir"
}

lab_images() {  # lab_images DEST
    local dest=$1 name banner cached cfg
    mkdir -p "$dest" "$LAB_CACHE/images"
    for name in a b; do
        banner="cluster.netboot lab image ${name^^}"
        cached=$LAB_CACHE/images/lab-$name-${LAB_IMAGE_MIB}M-esp.img
        if [[ ! -f $cached || ! -f $cached.sha256 ]]; then
            log "writing $cached"
            cfg=$(mktemp)
            # GRUB's console is the firmware's, which OVMF mirrors to the serial port.
            printf 'echo "%s (UEFI, shim and GRUB from its EFI system partition)"\nsleep 3600\n' "$banner" >"$cfg"
            python3 "$here/make_image.py" "$cached" --banner "$banner" --size-mib "$LAB_IMAGE_MIB" \
                --esp "$SHIM_SIGNED=EFI/BOOT/BOOTX64.EFI" --esp "$GRUB_SIGNED=EFI/BOOT/grubx64.efi" \
                --esp "$cfg=EFI/debian/grub.cfg" >"$cached.sha256" || { rm -f "$cfg"; return 1; }
            rm -f "$cfg"
        fi
        ln -f "$cached" "$dest/lab-$name.img" 2>/dev/null || cp "$cached" "$dest/lab-$name.img"
        cp "$cached.sha256" "$dest/lab-$name.img.sha256"
    done
}

# --- bringing a lab up -------------------------------------------------------------

failure_args() {  # sets FAILURE_ARGS for labtool.py
    FAILURE_ARGS=()
    if [[ ${LAB_FAILURE_CASE:-0} == 1 ]]; then
        FAILURE_ARGS=(--failure-case)
    fi
}

inventory_vms() {  # prints "name mac vm_mac firmware" for every VM of the lab
    failure_args
    "$VENV/bin/ansible-inventory" -i "$LAB_INVENTORY" --list --export 2>/dev/null |
        python3 "$here/labtool.py" vms "${FAILURE_ARGS[@]}"
}

up() {
    local image debs vm name mac vm_mac firmware index=0 tap pid waited cache_lock file machine=() nic
    command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run make deps"
    command -v mcopy >/dev/null || die "mtools missing (the lab images' EFI system partition): run make deps"
    for file in "$OVMF_CODE" "$OVMF_VARS" "$SHIM_SIGNED" "$GRUB_SIGNED" "$UNSIGNED_EFI"; do
        [[ -f $file ]] || die "$file missing (packages ovmf, shim-signed, grub-efi-amd64-signed, ipxe): run make deps"
    done
    command -v radvd >/dev/null || die "radvd missing: run make deps"
    [[ -x $VENV/bin/ansible-playbook ]] || die "$VENV/bin/ansible-playbook missing: run make deps"
    mkdir -p "$LAB_STATE_ROOT" "$LAB_CACHE"
    if ! "$repo/tests/utils/dockerd.sh" env >/dev/null 2>&1; then
        "$repo/tests/utils/dockerd.sh" start >&2
        touch "$ENGINE_MARKER"
    fi
    docker_env

    # Labs running side by side share the cache: one prepares it at a time.
    exec {cache_lock}>"$LAB_CACHE/.lock"
    flock "$cache_lock"
    image=$(console_image)
    debs=$(ramdisk_debs)
    VMS=()
    if [[ $LAB_VMS == 1 ]]; then
        mapfile -t VMS < <(inventory_vms)
        ((${#VMS[@]})) || die "the inventory $LAB_INVENTORY names no lab VMs"
        mapfile -t -O "${#VMS[@]}" VMS < <(discover_vms)
    fi

    ID=$(new_id)
    NS=$ID-ns BR=$ID-br CONTAINER=$ID-console STATE=$(lab_dir "$ID")
    mkdir -p "$STATE/share/qmp" "$STATE/vms"
    cat >"$STATE/lab.env" <<EOF
ID=$ID
NS=$NS
BR=$BR
CONTAINER=$CONTAINER
STATE=$STATE
LAB_IMAGE_MIB=$LAB_IMAGE_MIB
LAB_FAILURE_CASE=${LAB_FAILURE_CASE:-}
FRISBEE_DIR=${FRISBEE_DIR:-}
LAB_POWER=$LAB_POWER
LAB_DISCOVER=${LAB_DISCOVER:-0}
LAB_PREFIX=$CONSOLE_PREFIX
OWNER_PID=$$
OWNER_START=$(owner_start $$)
EOF
    # From here on, whatever fails tears the lab down again (unless the caller keeps it).
    CURRENT_LAB=$ID
    log "lab $ID: state in $STATE"
    lab_images "$STATE/share/images"
    flock -u "$cache_lock"
    exec {cache_lock}>&-

    ip netns add "$NS"
    ip -n "$NS" link set lo up
    ip -n "$NS" link add "$BR" type bridge
    ip -n "$NS" link set "$BR" up
    cat >"$STATE/radvd.conf" <<EOF
interface $BR {
    AdvSendAdvert on;
    AdvDefaultLifetime 0;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
};
EOF
    ip netns exec "$NS" radvd -n -C "$STATE/radvd.conf" -p "$STATE/radvd.pid" -m logfile -l "$STATE/radvd.log" \
        </dev/null >/dev/null 2>&1 &
    echo $! >"$STATE/radvd.pid.ours"

    log "starting the console container $CONTAINER"
    docker run -d --name "$CONTAINER" --hostname console --network none \
        --cap-add SYS_ADMIN --security-opt seccomp=unconfined --cgroupns host \
        -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --stop-signal SIGRTMIN+3 \
        -v "$STATE/share:/srv/lab" -v "$debs:/srv/lab-debs:ro" \
        --label "org.cluster-netboot.lab=$ID" "$image" >/dev/null
    pid=$(docker inspect --format '{{.State.Pid}}' "$CONTAINER")
    ip link add "$ID-cv" type veth peer name "$ID-cb"
    ip link set "$ID-cv" netns "$pid"
    nsenter -t "$pid" -n ip link set "$ID-cv" name lab0
    # replace, not add: a few lab starts failed with "ipv4: Address already assigned" on this fresh
    # veth (cause not found); the address is the same either way.
    nsenter -t "$pid" -n ip addr replace "$CONSOLE_ADDRESS/$CONSOLE_PREFIX" brd + dev lab0
    nsenter -t "$pid" -n ip link set lab0 up
    ip link set "$ID-cb" netns "$NS"
    ip -n "$NS" link set "$ID-cb" master "$BR" up
    waited=0
    until docker exec "$CONTAINER" systemctl is-system-running 2>/dev/null | grep -qE 'running|degraded'; do
        ((waited < 60)) || die "systemd in $CONTAINER did not come up"
        sleep 1
        waited=$((waited + 1))
    done

    for vm in ${VMS[@]+"${VMS[@]}"}; do
        read -r name mac vm_mac firmware <<<"$vm"
        index=$((index + 1))
        tap=$ID-t$index
        mkdir -p "$STATE/vms/$name"
        truncate -s $(((LAB_IMAGE_MIB + 16) * 1024 * 1024)) "$STATE/vms/$name/disk.img"
        ip -n "$NS" tuntap add dev "$tap" mode tap
        ip -n "$NS" link set "$tap" master "$BR" up
        if [[ $firmware == uefi ]]; then
            # Secure Boot enforced: SMM-only flash writes, the VM's own variable store with Microsoft's keys.
            cp "$OVMF_VARS" "$STATE/vms/$name/OVMF_VARS.fd"
            # Memory: the EFI stub decompresses Debian's kernel itself and fails to in 256 MiB. No NIC
            # option ROM: QEMU's iPXE EFI ROM gets no IPv4 address there and costs half a minute
            # before OVMF's own PXE (VirtioNetDxe) takes over.
            machine=(-m "$LAB_UEFI_VM_MEMORY" -machine "q35,smm=on,graphics=off"
                     -global "driver=cfi.pflash01,property=secure,value=on"
                     -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
                     -drive "if=pflash,format=raw,unit=1,file=$STATE/vms/$name/OVMF_VARS.fd")
            nic=virtio-net-pci,romfile=
        else
            machine=(-m "$(discover_memory "$name")" -machine "pc,graphics=off")
            [[ ${machine[1]} ]] || machine[1]=$LAB_VM_MEMORY
            nic=virtio-net-pci
        fi
        # -S: the VM starts "powered off"; node_power (qemu driver) switches it on.
        # niced: under TCG each VM takes a whole core, the console and Ansible must still get theirs.
        # The network first, then the disk (bootindex: the order both SeaBIOS and OVMF follow).
        ip netns exec "$NS" nice -n 10 qemu-system-x86_64 -name "cnb-lab-$ID-$name" -accel tcg \
            "${machine[@]}" -display none -nodefaults -serial "file:$STATE/vms/$name/serial.log" \
            -no-shutdown -S \
            -qmp "unix:$STATE/share/qmp/$name.qmp,server=on,wait=off" \
            -netdev "tap,id=net0,ifname=$tap,script=no,downscript=no" \
            -device "$nic,netdev=net0,mac=$vm_mac,bootindex=1" \
            -drive "file=$STATE/vms/$name/disk.img,if=none,id=disk0,format=raw" \
            -device virtio-blk-pci,drive=disk0,bootindex=2 \
            -pidfile "$STATE/vms/$name/qemu.pid" -daemonize
        printf '%s %s %s %s\n' "$name" "$mac" "$vm_mac" "$firmware" >>"$STATE/vms.txt"
        if [[ $LAB_POWER == ipmi ]]; then
            start_bmc "$name" $((6230 + index))
        fi
    done
    if [[ $LAB_POWER == ipmi ]]; then
        power_vars
    fi
    log "lab $ID: ${#VMS[@]} VMs (paused, i.e. powered off), console $CONTAINER at $CONSOLE_ADDRESS"
}

# LAB_POWER=ipmi: VM NAME's BMC, an ipmi_sim on $BMC_ADDRESS:PORT inside the lab namespace. Its
# chassis_control program (bmc_chassis_control.sh) powers the VM through its QMP socket.
start_bmc() {  # start_bmc NAME PORT
    local name=$1 port=$2 dir
    dir=$STATE/vms/$name
    if ! command -v ipmi_sim >/dev/null || ! command -v ipmitool >/dev/null; then
        die "ipmi_sim or ipmitool missing: run make deps"
    fi
    ip -n "$NS" addr show dev "$BR" | grep -qF " $BMC_ADDRESS/" || ip -n "$NS" addr add "$BMC_ADDRESS/24" dev "$BR"
    mkdir -p "$dir/bmc-state"
    printf '#!/bin/sh\nexec %q %q %q "$@"\n' "$here/bmc_chassis_control.sh" "$STATE/share/qmp/$name.qmp" "$dir" \
        >"$dir/chassis_control"
    chmod +x "$dir/chassis_control"
    printf '%s\n' "name \"$name\"" 'set_working_mc 0x20' '  startlan 1' "    addr $BMC_ADDRESS $port" \
        '    priv_limit admin' '    allowed_auths_admin md5' '    guid a123456789abcdefa123456789abcdef' \
        '  endlan' "  chassis_control \"$dir/chassis_control\"" \
        "  user 2 true \"admin\" \"$BMC_PASSWORD\" admin 10 md5" >"$dir/lan.conf"
    printf '%s\n' 'mc_setbmc 0x20' 'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr' \
        'mc_enable 0x20' >"$dir/bmc.emu"
    ip netns exec "$NS" ipmi_sim -n -c "$dir/lan.conf" -f "$dir/bmc.emu" -s "$dir/bmc-state" \
        </dev/null >"$dir/bmc.log" 2>&1 &
    echo $! >"$dir/bmc.pid"
    printf '%s %s:%s\n' "$name" "$BMC_ADDRESS" "$port" >>"$STATE/bmcs.txt"
}

# LAB_POWER=ipmi: the extra variables that make image_nodes power the VMs through their BMCs. node_power
# runs on this host (delegate_to: localhost), ipmitool inside the lab namespace through a wrapper.
power_vars() {
    printf '#!/bin/sh\nexec ip netns exec %q ipmitool "$@"\n' "$NS" >"$STATE/ipmitool"
    chmod +x "$STATE/ipmitool"
    python3 -c '
import json, sys
bmcs = dict(line.split() for line in open(sys.argv[1], encoding="utf-8"))
print(json.dumps({"lab_bmcs": bmcs, "image_nodes_power_driver": "ipmi", "image_nodes_power": {
    "username": "admin", "password": sys.argv[3], "ipmi_cipher_suite": 3, "ipmitool_path": sys.argv[2],
    "timeout": 20, "delegate_to": "localhost"}}))
' "$STATE/bmcs.txt" "$STATE/ipmitool" "$BMC_PASSWORD" >"$STATE/power.json"
    log "lab $ID: one ipmi_sim BMC per VM on $BMC_ADDRESS (UDP ports from 6231); image_nodes powers through IPMI"
}

playbook() {  # playbook ID PLAYBOOK [args]: ansible-playbook against the lab's inventory
    local id=$1 book=$2
    shift 2
    load_lab "$id"
    docker_env
    local power_args=()
    if [[ ${LAB_POWER:-qmp} == ipmi ]]; then
        power_args=(-e "@$STATE/power.json")
    fi
    mapfile -t -O "${#power_args[@]}" power_args < <(discover_args)
    CNB_LAB_CONSOLE=$CONTAINER \
    ANSIBLE_COLLECTIONS_PATH=$("$repo/tests/utils/collection-path.sh") \
    ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-0} \
    ANSIBLE_CALLBACK_RESULT_FORMAT=yaml \
        "$VENV/bin/ansible-playbook" -i "$LAB_INVENTORY" "$book" \
        -e "lab_failure_case=${LAB_FAILURE_CASE:-0} lab_image_mib=$LAB_IMAGE_MIB" \
        -e "lab_boot_timeout=${LAB_BOOT_TIMEOUT:-240} lab_dhcp=${LAB_DHCP:-isc} lab_prefix=${LAB_PREFIX:-24}" \
        -e "lab_discover=${LAB_DISCOVER:-0}" \
        -e "{\"lab_frisbee_dir\": \"${FRISBEE_DIR:-}\"}" "${power_args[@]}" "$@"
}

# The same run from inside the execution environment, as AWX runs it:
# ansible-navigator starts the EE image (tests/utils/ee.sh build) on the test
# Docker engine, with the collection from the image, not from this tree.
# Lab-only shortcuts for the fabric: the lab's console is a container reached
# with `docker exec` (community.docker.docker, as outside the EE), so the EE
# gets the engine's socket, the docker client and community.docker from the
# test virtualenv, read-only; it has no network of its own (--network none).
# On a real site the EE reaches the console over SSH instead.
ee_playbook() {  # ee_playbook ID PLAYBOOK [args]
    local id=$1 book=$2 socket client community_docker
    shift 2
    load_lab "$id"
    # The ipmitool wrapper enters the lab namespace from this host; the EE has no network.
    [[ ${LAB_POWER:-qmp} == qmp ]] || die "LAB_EE runs with LAB_POWER=qmp only"
    docker_env
    socket=${DOCKER_HOST#unix://}
    client=$(command -v docker)
    community_docker=$("$VENV/bin/python" -c \
        'import ansible_collections.community.docker as c; print(list(c.__path__)[0])')
    docker image inspect "$LAB_EE_IMAGE" >/dev/null 2>&1 || die "no image $LAB_EE_IMAGE: run tests/utils/ee.sh build"
    (
        cd "$STATE"
        CNB_LAB_CONSOLE=$CONTAINER "$VENV/bin/ansible-navigator" run "$book" \
            --mode stdout --ee true --ce docker --eei "$LAB_EE_IMAGE" --pp never \
            -i "$LAB_INVENTORY" --penv CNB_LAB_CONSOLE --penv DOCKER_HOST \
            --senv ANSIBLE_COLLECTIONS_PATH=/usr/share/ansible/collections:/opt/lab-collections \
            --senv ANSIBLE_CALLBACK_RESULT_FORMAT=yaml --senv ANSIBLE_NOCOLOR=1 \
            --eev "$socket:$socket" --eev "$client:/usr/local/bin/docker:ro" \
            --eev "$community_docker:/opt/lab-collections/ansible_collections/community/docker:ro" \
            --co=--network=none --co=--user=0 \
            --pae true --pas "${LAB_EE_ARTIFACT:-$STATE/image_nodes.artifact.json}" \
            --lf "$STATE/navigator.log" --ll info \
            -e "lab_failure_case=${LAB_FAILURE_CASE:-0} lab_image_mib=$LAB_IMAGE_MIB" \
            -e "lab_boot_timeout=${LAB_BOOT_TIMEOUT:-240} lab_dhcp=${LAB_DHCP:-isc} lab_prefix=${LAB_PREFIX:-24}" "$@"
    )
}

configure_console() {
    log "configuring the console with tftp_server, dhcp_server, frisbee_server, imaging_ramdisk"
    playbook "$1" "$here/console.yml" | tee "$(lab_dir "$1")/console.log"
}

image() {  # image ID [args]: times the imaging run, keeps its log
    local id=$1 started rc=0 vmdir
    shift
    log "imaging: playbooks/image_nodes.yml"
    # The check looks for the new disk's banner only in what the consoles print from here on.
    for vmdir in "$(lab_dir "$id")"/vms/*/; do
        [[ -d $vmdir ]] || continue
        stat -c %s "$vmdir/serial.log" >"$vmdir/serial.offset" 2>/dev/null || echo 0 >"$vmdir/serial.offset"
    done
    started=$(date +%s.%N)
    if [[ $LAB_EE == 1 ]]; then
        log "... inside the execution environment $LAB_EE_IMAGE (ansible-navigator)"
        ee_playbook "$id" "$repo/playbooks/image_nodes.yml" "$@" | tee "$(lab_dir "$id")/image_nodes.log" || rc=$?
    else
        playbook "$id" "$repo/playbooks/image_nodes.yml" "$@" | tee "$(lab_dir "$id")/image_nodes.log" || rc=$?
    fi
    python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$started" "$(date +%s.%N)" \
        >"$(lab_dir "$id")/image_nodes.wall"
    return "$rc"
}

# Secure Boot is enforced, not just reported: a VM with the UEFI nodes' firmware settings and a
# disk whose EFI system partition holds only an unsigned loader (Debian's ipxe.efi as
# EFI/BOOT/BOOTX64.EFI) must be refused by the firmware ("Access Denied" on its serial console).
# No NIC: nothing leaves the VM. Takes seconds; the check reads unsigned/serial.log.
unsigned_refusal() {  # unsigned_refusal ID
    local id=$1 dir image waited=0
    load_lab "$id"
    dir=$STATE/vms/unsigned
    image=$LAB_CACHE/images/unsigned-efi.img
    if [[ ! -f $image ]]; then
        python3 "$here/make_image.py" "$image" --banner "unsigned EFI loader" --size-mib 8 \
            --esp-mib 4 --esp "$UNSIGNED_EFI=EFI/BOOT/BOOTX64.EFI" >/dev/null
    fi
    mkdir -p "$dir"
    cp "$image" "$dir/disk.img"
    cp "$OVMF_VARS" "$dir/OVMF_VARS.fd"
    log "Secure Boot enforcement: offering an unsigned EFI loader ($UNSIGNED_EFI) to a Secure Boot VM"
    nice -n 10 qemu-system-x86_64 -name "cnb-lab-$id-unsigned" -accel tcg -m "$LAB_UEFI_VM_MEMORY" \
        -machine "q35,smm=on,graphics=off" -global "driver=cfi.pflash01,property=secure,value=on" \
        -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
        -drive "if=pflash,format=raw,unit=1,file=$dir/OVMF_VARS.fd" \
        -display none -nodefaults -nic none -serial "file:$dir/serial.log" \
        -drive "file=$dir/disk.img,if=none,id=disk0,format=raw" -device virtio-blk-pci,drive=disk0,bootindex=1 \
        -pidfile "$dir/qemu.pid" -daemonize
    until grep -aq 'No bootable option\|Access Denied' "$dir/serial.log" 2>/dev/null || ((waited >= 120)); do
        sleep 1
        waited=$((waited + 1))
    done
    kill_ours "$dir/qemu.pid" "cnb-lab-$id-unsigned"
}

check() {  # check ID [PLAYBOOK_RC]
    local id=$1 rc=${2:-0} summary
    load_lab "$id"
    docker_env
    summary=$STATE/summary.json
    docker exec "$CONTAINER" sh -c 'ls -t /var/lib/cluster-netboot/image-nodes/*/summary.json 2>/dev/null | head -n 1 | xargs -r cat' \
        >"$summary" || true
    docker exec "$CONTAINER" sh -c 'find /srv/tftp/pxelinux.cfg -mindepth 1 -maxdepth 1 -printf "%f %y %l\n"' \
        >"$STATE/pxelinux.cfg.txt"
    docker exec "$CONTAINER" sh -c 'test ! -d /srv/tftp/grub || find /srv/tftp/grub -mindepth 1 -maxdepth 1 -printf "%f %y %l\n"' \
        >"$STATE/grub.txt"
    failure_args
    python3 "$here/labtool.py" check --state "$STATE" --playbook-rc "$rc" \
        "${FAILURE_ARGS[@]}" ${LAB_RESULTS:+--results "$LAB_RESULTS"}
}

status() {
    local dir id name
    for dir in "$LAB_STATE_ROOT"/cnbl*; do
        [[ -f $dir/lab.env ]] || continue
        id=$(basename "$dir")
        echo "lab $id ($dir)"
        for name in "$dir"/share/qmp/*.qmp; do
            [[ -S $name ]] || continue
            printf '  %-10s %s\n' "$(basename "$name" .qmp)" \
                "$(printf '{"execute":"qmp_capabilities"}\n{"execute":"query-status"}\n' |
                   timeout 3 socat - "UNIX-CONNECT:$name" 2>/dev/null | grep -o '"status": "[a-z-]*"' | head -n 1)"
        done
    done
}

usage() { sed -n '6,19p' "$0" | sed 's/^# \{0,1\}//'; }

command=${1:-}
[[ -n $command ]] && shift
KEEP=0
args=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --keep) KEEP=1 ;;
        --failure-case) LAB_FAILURE_CASE=1 ;;
        --catalog-case) LAB_CATALOG_CASE=1 ;;
        *) args+=("$1") ;;
    esac
    shift
done
CURRENT_LAB=

case $command in
    up|run)
        on_exit() {
            local rc=$?
            if [[ -n $CURRENT_LAB ]]; then
                if [[ $KEEP == 1 ]]; then
                    log "lab $CURRENT_LAB kept (tests/lab/lab.sh down $CURRENT_LAB, or make lab-down)"
                else
                    down_one "$CURRENT_LAB"
                    release_engine
                fi
            fi
            exit "$rc"
        }
        trap on_exit EXIT
        trap 'exit 130' INT TERM
        frisbee_dir_check
        frisbee_notice
        up
        configure_console "$ID"
        if [[ $command == up ]]; then
            # A lab that came up is kept; one that failed half-way was torn down by the trap.
            KEEP=1
            echo "$ID"
            exit 0
        fi
        rc=0
        if [[ ${LAB_DISCOVER:-0} == 1 ]]; then
            discover "$ID"
        fi
        image "$ID" "${args[@]}" || rc=$?
        unsigned_refusal "$ID"
        checked=0
        check "$ID" "$rc" || checked=$?
        if [[ ${LAB_CATALOG_CASE:-0} == 1 ]]; then
            # shellcheck source=catalog_case.sh
            source "$here/catalog_case.sh"
            catalog_case "$ID" || checked=$?
        fi
        frisbee_notice
        [[ $checked == 0 ]]
        ;;
    console)
        [[ ${#args[@]} -eq 1 ]] || die "usage: lab.sh console ID"
        load_lab "${args[0]}"
        configure_console "${args[0]}"
        ;;
    image)
        [[ ${#args[@]} -ge 1 ]] || die "usage: lab.sh image ID [ansible-playbook args]"
        load_lab "${args[0]}"
        image "${args[@]}"
        ;;
    check)
        [[ ${#args[@]} -ge 1 ]] || die "usage: lab.sh check ID"
        load_lab "${args[0]}"
        check "${args[0]}" "${args[1]:-0}"
        ;;
    status) status ;;
    down)
        if [[ ${#args[@]} -eq 0 ]]; then
            down_all
        else
            for id in "${args[@]}"; do down_one "$id"; done
        fi
        release_engine
        ;;
    *) usage; exit 2 ;;
esac
