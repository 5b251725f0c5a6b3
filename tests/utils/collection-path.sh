#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Makes the working tree importable as cluster.netboot for ansible-playbook
# and molecule: .cache/collections/ansible_collections/cluster/netboot is a
# link to the checkout. Prints the directory to put in ANSIBLE_COLLECTIONS_PATH.
# (ansible-test cannot use this: it resolves links; see ansible-test.sh.)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
collections=$repo/.cache/collections
link=$collections/ansible_collections/cluster/netboot
mkdir -p "$(dirname "$link")"
if [[ $(readlink "$link" 2>/dev/null) != "$repo" ]]; then
    ln -sfn "$repo" "$link.tmp.$$"
    mv -T "$link.tmp.$$" "$link"
fi
printf '%s\n' "$collections"
