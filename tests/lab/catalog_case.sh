# shellcheck shell=bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# lab.sh run --catalog-case (sourced by lab.sh; uses its load_lab, docker_env, playbook, image, log):
# after the imaging run,
#   1. playbooks/capture_image.yml captures node-a1 (imaged with lab-a) into lab-a@captured;
#   2. node-a2's disk is blanked and image_nodes images it from lab-a@captured;
#   3. a catalog entry whose stored file was corrupted after it was entered (tests/lab/catalog_case.yml)
#      is refused by image_nodes before any power action;
#   4. a capture of node-a2 whose VM is killed halfway (QMP quit) fails and leaves no entry.
# What it saw goes to LAB_CATALOG_RESULTS (JSON) for tests/lab/test_imaging_kea.py to check.

CATALOG=/var/lib/cluster-netboot/catalog
# lab.sh's: the repository and tests/lab.
repo=${repo:?catalog_case.sh is sourced by lab.sh}
here=${here:?catalog_case.sh is sourced by lab.sh}

catalog_case() {  # catalog_case ID
    local id=$1 bytes vars rc waited=0 pid
    load_lab "$id"
    docker_env
    bytes=$((LAB_IMAGE_MIB * 1024 * 1024))
    vars=$STATE/catalog-vars

    log "catalog: capturing node-a1 into lab-a@captured"
    printf '{"capture_image_nodes": [{"node": "node-a1", "image": "lab-a@captured", "size": %d}]}\n' "$bytes" \
        >"$vars-capture.json"
    rc=0
    playbook "$id" "$repo/playbooks/capture_image.yml" -e "@$vars-capture.json" | tee "$STATE/capture.log" || rc=$?
    echo "$rc" >"$STATE/capture.rc"

    log "catalog: blanking node-a2's disk, then imaging it from lab-a@captured"
    dd if=/dev/zero of="$STATE/vms/node-a2/disk.img" bs=1M count="$LAB_IMAGE_MIB" conv=notrunc status=none
    printf '{"image_nodes_groups": [{"name": "catalog", "image": "lab-a@captured", "hosts": ["node-a2"]}]}\n' \
        >"$vars-image.json"
    rc=0
    playbook "$id" "$repo/playbooks/image_nodes.yml" -e "@$vars-image.json" | tee "$STATE/catalog-image.log" || rc=$?
    echo "$rc" >"$STATE/catalog-image.rc"
    docker exec "$CONTAINER" sh -c 'cat "$(ls -t /var/lib/cluster-netboot/image-nodes/*/summary.json | head -n 1)"' \
        >"$STATE/catalog-image-summary.json" || true

    log "catalog: a corrupted stored file must be refused before any power action"
    playbook "$id" "$here/catalog_case.yml" -e "lab_catalog_source=$CATALOG/images/lab-a@captured.img.gz" \
        >"$STATE/catalog-corrupt-setup.log" 2>&1 || log "catalog: setting up the corrupted entry failed"
    printf '{"image_nodes_groups": [{"name": "corrupt", "image": "lab-a@corrupt", "hosts": ["node-a1"]}]}\n' \
        >"$vars-corrupt.json"
    rc=0
    playbook "$id" "$repo/playbooks/image_nodes.yml" -e "@$vars-corrupt.json" | tee "$STATE/catalog-corrupt.log" || rc=$?
    echo "$rc" >"$STATE/catalog-corrupt.rc"

    log "catalog: capturing node-a2 into lab-a@killed, killing its VM halfway"
    printf '{"capture_image_nodes": [{"node": "node-a2", "image": "lab-a@killed", "size": %d}], %s}\n' "$bytes" \
        '"capture_image_idle_timeout": 15' >"$vars-killed.json"
    playbook "$id" "$repo/playbooks/capture_image.yml" -e "@$vars-killed.json" >"$STATE/catalog-killed.log" 2>&1 &
    pid=$!
    # Halfway: once the receiver's temporary file holds a few MiB.
    until docker exec "$CONTAINER" find "$CATALOG/images" -name '.cluster-netboot-*' -size +4M 2>/dev/null | grep -q .; do
        if ((waited >= 300)) || ! kill -0 "$pid" 2>/dev/null; then
            log "catalog: the capture of node-a2 never got halfway"
            break
        fi
        sleep 1
        waited=$((waited + 1))
    done
    printf '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n' |
        timeout 5 socat -t 1 - "UNIX-CONNECT:$STATE/share/qmp/node-a2.qmp" >/dev/null || true
    rc=0
    wait "$pid" || rc=$?
    cat "$STATE/catalog-killed.log"
    echo "$rc" >"$STATE/catalog-killed.rc"
    docker exec "$CONTAINER" cat "$CATALOG/catalog.json" >"$STATE/catalog.json" || true
    docker exec "$CONTAINER" ls -A "$CATALOG/images" >"$STATE/catalog-images.txt" || true
    "$VENV/bin/python" "$here/catalog_check.py" --state "$STATE" --image-mib "$LAB_IMAGE_MIB" \
        ${LAB_CATALOG_RESULTS:+--results "$LAB_CATALOG_RESULTS"}
}
