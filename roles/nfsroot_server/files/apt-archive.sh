#!/bin/sh
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Prints the URI of the first archive in this host's apt sources that carries
# the suite $1 (deb822 .sources files first, then one-line .list files), so
# that a tree is bootstrapped from the mirror the host already uses. Prints
# nothing when no source carries the suite.
set -eu
suite=$1
{
    for file in /etc/apt/sources.list.d/*.sources; do
        [ -f "$file" ] || continue
        awk -v suite="$suite" '
            function flush() {
                if (deb && enabled && uris != "" && (" " suites " ") ~ (" " suite " ")) {
                    split(uris, list, /[ \t]+/)
                    print list[1]
                }
                deb = 0; enabled = 1; uris = ""; suites = ""
            }
            BEGIN { enabled = 1 }
            /^[ \t]*$/ { flush(); next }
            /^Types:/ { deb = ($0 ~ /[ \t]deb([ \t]|$)/) }
            /^Enabled:/ { enabled = ($2 !~ /^(no|false|0)$/) }
            /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
            /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
            END { flush() }' "$file"
    done
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$file" ] || continue
        awk -v suite="$suite" '
            $1 == "deb" {
                i = 2
                if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) == suite) print $i
            }' "$file"
    done
} | sed 's:/*$::' | head -n 1
