#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Prints the Debian mirror this machine's apt uses for SUITE (default:
# bookworm), read from /etc/apt/sources.list.d/*.sources (deb822) and
# /etc/apt/sources.list. The project never hard-codes a mirror host.
set -euo pipefail

suite=${1:-bookworm}
apt_etc=${APT_ETC:-/etc/apt}
shopt -s nullglob

for file in "$apt_etc"/sources.list.d/*.sources; do
    # deb822 stanzas are separated by blank lines.
    url=$(awk -v suite="$suite" '
        function flush() {
            if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uri != "") { print uri; found = 1; exit }
            types = ""; suites = ""; uri = ""
        }
        /^[[:space:]]*$/ { flush(); next }
        /^[[:space:]]*#/ { next }
        tolower($1) == "types:"  { $1 = ""; types = $0 }
        tolower($1) == "suites:" { $1 = ""; suites = $0; gsub(/^ +| +$/, "", suites) }
        tolower($1) == "uris:"   { uri = $2 }
        END { if (!found) flush() }
    ' "$file")
    if [[ -n $url ]]; then
        printf '%s\n' "${url%/}"
        exit 0
    fi
done

for file in "$apt_etc"/sources.list "$apt_etc"/sources.list.d/*.list; do
    [[ -f $file ]] || continue
    url=$(awk -v suite="$suite" '
        $1 == "deb" {
            i = 2
            if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
            if ($(i + 1) == suite) { print $i; exit }
        }
    ' "$file")
    if [[ -n $url ]]; then
        printf '%s\n' "${url%/}"
        exit 0
    fi
done

echo "debian-mirror.sh: no 'deb' source for suite $suite in /etc/apt" >&2
exit 1
