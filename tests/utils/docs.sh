#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The collection's documentation site (make docs):
#   docs.sh lint    antsibull-docs lint-collection-docs --plugin-docs (module,
#                   plugin and role docs: schema, markup, references)
#   docs.sh build   lint, then antsibull-docs collection writes the pages
#                   (build/docs/rst) and Sphinx the HTML site (build/docs/html);
#                   any Sphinx warning fails the build
# Both run from their own virtualenv (DOCS_VENV, default .cache/docs-venv),
# made from docs/site/requirements.txt and remade when that file changes.
# Environment: PYTHON (default /usr/bin/python3), DOCS_VENV.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
PYTHON=${PYTHON:-/usr/bin/python3}
DOCS_VENV=${DOCS_VENV:-$repo/.cache/docs-venv}
REQUIREMENTS=docs/site/requirements.txt
OUT=build/docs

log() { printf '[docs] %s\n' "$*" >&2; }

venv() {
    local stamp=$DOCS_VENV/.requirements.sha256 want
    want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
    if [[ -x $DOCS_VENV/bin/antsibull-docs && $(cat "$stamp" 2>/dev/null) == "$want" ]]; then
        return 0
    fi
    log "creating $DOCS_VENV from $REQUIREMENTS"
    rm -rf "$DOCS_VENV"
    "$PYTHON" -m venv "$DOCS_VENV"
    "$DOCS_VENV/bin/pip" install -q --disable-pip-version-check -r "$REQUIREMENTS"
    printf '%s\n' "$want" >"$stamp"
}

# Only this tree is visible as cluster.netboot: no copy installed under
# ~/.ansible and nothing from the interpreter's site packages.
collections=$("$repo/tests/utils/collection-path.sh")
export PATH="$DOCS_VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH=$collections ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_HOME=$repo/.cache/docs-ansible-home ANSIBLE_NOCOLOR=1

lint() {
    log "antsibull-docs lint-collection-docs --plugin-docs"
    antsibull-docs lint-collection-docs --plugin-docs "$collections/ansible_collections/cluster/netboot"
}

build() {
    lint
    rm -rf "$OUT"
    mkdir -p "$OUT/rst"
    chmod og-w "$OUT/rst"  # antsibull-docs wants it writable only by itself
    log "antsibull-docs collection -> $OUT/rst"
    antsibull-docs --config-file docs/site/antsibull-docs.cfg collection --use-current --squash-hierarchy \
        --cleanup everything --dest-dir "$OUT/rst" cluster.netboot
    log "sphinx-build -> $OUT/html"
    sphinx-build -q -W --keep-going -b html -c docs/site "$OUT/rst" "$OUT/html"
    log "site: $repo/$OUT/html/index.html"
}

case ${1:-} in
    lint) venv; lint ;;
    build) venv; build ;;
    *) echo "usage: $0 lint|build" >&2; exit 2 ;;
esac
