# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash disable=SC2154 # repo, STATE, CONTAINER, CONSOLE_ADDRESS, LAB_IMAGE_MIB: lab.sh
#
# Node discovery in the lab (LAB_DISCOVER=1), sourced by lab.sh. Two more VMs
# (SeaBIOS) whose MACs no inventory and no DHCP entry knows start with the lab;
# the console's DHCP server gets a discovery range. Before the imaging run,
# playbooks/discover_nodes.yml opens a discovery window, the two VMs are
# switched on, boot the imaging ramdisk in discovery mode and report; they are
# named node-d1 and node-d2 (in order of arrival, addresses from 10.66.0.31)
# in the node file /srv/lab/discovered.csv. That file is then the mac_file of
# an inventory group (discovered.netboot.yml, the nodes inventory plugin)
# that image_nodes.yml images with lab-a.img (a run of its own, before the
# main one); their disks are checked from the host. The hardware facts must
# say what QEMU was given: memory, disk size, MAC.

DISCOVER_VMS=("lab-disc1 52:54:00:66:0d:01" "lab-disc2 52:54:00:66:0d:02")
DISCOVER_VM_MEMORY=320
DISCOVER_RANGE_START=10.66.0.200

discover_vms() {  # the lines for up()'s VM list: "name mac vm_mac firmware"
    local vm name mac
    [[ ${LAB_DISCOVER:-0} == 1 ]] || return 0
    for vm in "${DISCOVER_VMS[@]}"; do
        read -r name mac <<<"$vm"
        printf '%s %s %s bios\n' "$name" "$mac" "$mac"
    done
}

discover_memory() {  # discover_memory NAME: a discovery VM's memory in MiB, else nothing
    [[ $1 == lab-disc* ]] && echo "$DISCOVER_VM_MEMORY"
    return 0
}

discover_args() {  # extra ansible-playbook arguments once a discovery run wrote its inventory
    [[ ${LAB_DISCOVER:-0} == 1 && -f $STATE/discovered.netboot.yml ]] && printf '%s\n' -i "$STATE/discovered.netboot.yml"
    return 0
}

qmp_cont() {  # qmp_cont SOCKET: switch a paused ("off") VM on
    printf '{"execute":"qmp_capabilities"}\n{"execute":"cont"}\n' | timeout 10 socat - "UNIX-CONNECT:$1" >/dev/null
}

discover() {  # discover ID
    local id=$1 pointer waited=0 rc=0 vm name mac pid
    load_lab "$id"
    log "discovery: playbooks/discover_nodes.yml for ${#DISCOVER_VMS[@]} VMs unknown to DHCP"
    playbook "$id" "$repo/playbooks/discover_nodes.yml" \
        -e "{\"discover_nodes_server_address\": \"$CONSOLE_ADDRESS\", \"discover_nodes_range\":
             {\"start\": \"$DISCOVER_RANGE_START\", \"end\": \"10.66.0.209\"}, \"discover_nodes_count\": 2,
             \"discover_nodes_timeout\": 600, \"discover_nodes_nodeset\": \"node-d[1-2]\",
             \"discover_nodes_ip_start\": \"10.66.0.31\", \"discover_nodes_node_file\": \"/srv/lab/discovered.csv\",
             \"discover_nodes_kernel_args\": \"console=ttyS0,115200 quiet\"}" \
        >"$STATE/discover_nodes.log" 2>&1 &
    pid=$!
    # Switched on once the range points at the discovery config (before, they would boot their blank disk).
    pointer=/srv/tftp/pxelinux.cfg/$(printf '%02X' ${DISCOVER_RANGE_START//./ })
    until docker exec "$CONTAINER" test -L "$pointer" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null || ((waited >= 300)); then
            cat "$STATE/discover_nodes.log" >&2
            die "discovery: the playbook did not point the range at the discovery config"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    for vm in "${DISCOVER_VMS[@]}"; do
        read -r name mac <<<"$vm"
        qmp_cont "$STATE/share/qmp/$name.qmp" || die "discovery: cannot switch $name on"
    done
    wait "$pid" || rc=$?
    cat "$STATE/discover_nodes.log"
    ((rc == 0)) || die "discovery: playbooks/discover_nodes.yml failed (exit $rc)"
    # The discovered names for the lab's plumbing: disk, serial log, QMP socket and BMC by VM.
    python3 - "$STATE" "$DISCOVER_VM_MEMORY" "$LAB_IMAGE_MIB" "${DISCOVER_VMS[@]}" <<'PYTHON' || die "discovery: the facts do not match the VMs"
import csv, json, os, sys
state, memory_mib, image_mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
vm_by_mac = {mac: name for name, mac in (item.split() for item in sys.argv[4:])}
with open(os.path.join(state, 'share', 'discovered.csv')) as handle:
    rows = list(csv.DictReader(handle))
with open(os.path.join(state, 'share', 'discovered.hardware.json')) as handle:
    facts = json.load(handle)
problems = []
if sorted(row['name'] for row in rows) != ['node-d1', 'node-d2'] or sorted(row['mac'] for row in rows) != sorted(vm_by_mac):
    problems.append('node file: %r' % rows)
for row in rows:
    vm, node = vm_by_mac.get(row['mac']), facts.get(row['name'], {})
    got = (node.get('memory_installed_bytes'), [disk['bytes'] for disk in node.get('disks', [])], node.get('boot_mac'))
    wanted = (memory_mib << 20, [(image_mib + 16) << 20], row['mac'])
    print('discovery: %s = %s (%s): memory %s, disks %s, boot MAC %s; QEMU gave %s' % (row['name'], vm, row['ip'], *got, wanted))
    if got != wanted or row['mac'] not in [nic['mac'] for nic in node.get('nics', [])]:
        problems.append('%s: facts %r, QEMU gave %r' % (row['name'], got, wanted))
        continue
    os.symlink(vm, os.path.join(state, 'vms', row['name']))
    os.symlink(vm + '.qmp', os.path.join(state, 'share', 'qmp', row['name'] + '.qmp'))
    power = os.path.join(state, 'power.json')
    if os.path.exists(power):
        with open(power) as handle:
            data = json.load(handle)
        data['lab_bmcs'][row['name']] = data['lab_bmcs'][vm]
        with open(power, 'w') as handle:
            json.dump(data, handle)
with open(os.path.join(state, 'discovered.netboot.yml'), 'w') as handle:
    handle.write('plugin: cluster.netboot.nodes\ngroups:\n  lab_discovered:\n    nodes: node-d[1-2]\n'
                 '    mac_file: share/discovered.csv\n')
for problem in problems:
    print('DISCOVERY CHECK FAILED: ' + problem)
sys.exit(1 if problems else 0)
PYTHON
    # Imaged from the node file (the inventory group reads it as its mac_file), in a run of their own:
    # six TCG VMs at once would starve the Secure Boot VMs of the main run past their boot timeout.
    log "discovery: image_nodes.yml images node-d1 and node-d2 (group-d) from the node file"
    rc=0
    playbook "$id" "$repo/playbooks/image_nodes.yml" -e '{"image_nodes_final_power": "none", "image_nodes_groups":
        [{"name": "group-d", "image": "/srv/lab/images/lab-a.img", "inventory_group": "lab_discovered"}]}' \
        >"$STATE/image_discovered.log" 2>&1 || rc=$?
    cat "$STATE/image_discovered.log"
    ((rc == 0)) || die "discovery: image_nodes.yml on the discovered nodes failed (exit $rc)"
    docker exec "$CONTAINER" sh -c 'ls -t /var/lib/cluster-netboot/image-nodes/*/summary.json | head -n 1 | xargs cat' \
        >"$STATE/summary_discovered.json"
    python3 - "$STATE" "$here" <<'PYTHON' || die "discovery: the discovered nodes' disks do not hold their image"
import json, os, sys
state = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from labtool import disk_sha256
with open(os.path.join(state, 'summary_discovered.json')) as handle:
    nodes = {node['name']: node for node in json.load(handle)['nodes']}
image = os.path.join(state, 'share', 'images', 'lab-a.img')
with open(image + '.sha256') as handle:
    expected = handle.read().strip()
failed = 0
for name in ('node-d1', 'node-d2'):
    got = disk_sha256(os.path.join(state, 'vms', name, 'disk.img'), os.path.getsize(image))
    result = nodes.get(name, {}).get('result')
    print('discovered and imaged: %s %s, disk %s (%s)' % (name, result, got[:16], 'match' if got == expected else 'DIFFERS'))
    failed += result != 'ok' or got != expected
sys.exit(1 if failed else 0)
PYTHON
}
