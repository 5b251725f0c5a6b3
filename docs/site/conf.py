# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Sphinx configuration of the cluster.netboot documentation site (make docs).

The reStructuredText pages come from `antsibull-docs collection` (modules,
plugins, roles with their argument specs); tests/utils/docs.sh runs both steps.
The build is offline: instead of intersphinx inventories (docs.ansible.com is
not always reachable), the few labels of the Ansible documentation that the
generated pages name are linked to their published pages directly. Any other
unresolved reference stays a warning, and warnings fail the build.
"""

from __future__ import annotations

project = 'cluster.netboot'
copyright = 'cluster.netboot contributors'  # pylint: disable=redefined-builtin
title = 'cluster.netboot collection documentation'
html_short_title = 'cluster.netboot'

extensions = ['sphinx_antsibull_ext']

pygments_style = 'ansible'
highlight_language = 'YAML+Jinja'

html_theme = 'sphinx_ansible_theme'
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

default_role = 'any'
nitpicky = True

ANSIBLE_DOCS = 'https://docs.ansible.com/ansible/latest/'
# Labels of the Ansible documentation used by antsibull-docs' templates.
ANSIBLE_LABELS = {
    'common_return_values': 'reference_appendices/common_return_values.html',
    'ansible_configuration_settings': 'reference_appendices/config.html',
    # The note on a module that has an action plugin of the same name.
    'action_plugins': 'plugins/action.html',
}
# Plugins of other collections: ansible_collections.NS.COLL.NAME_TYPE
COLLECTION_LABEL_PREFIX = 'ansible_collections.'


def ansible_docs_page(label):
    """The published page of an Ansible documentation label, or None."""
    if label in ANSIBLE_LABELS:
        return ANSIBLE_DOCS + ANSIBLE_LABELS[label]
    if label.startswith(COLLECTION_LABEL_PREFIX) and not label.startswith(COLLECTION_LABEL_PREFIX + 'cluster.netboot.'):
        parts = label[len(COLLECTION_LABEL_PREFIX):].split('.')
        if len(parts) == 3 and '_' in parts[2]:
            return ANSIBLE_DOCS + 'collections/%s/%s/%s.html' % tuple(parts)
    return None


def resolve_ansible_label(app, env, node, contnode):  # pylint: disable=unused-argument
    """missing-reference handler: link known Ansible labels to docs.ansible.com."""
    from docutils import nodes  # pylint: disable=import-outside-toplevel

    if node.get('reftype') not in ('ref', 'any'):
        return None
    url = ansible_docs_page(node.get('reftarget', ''))
    if url is None:
        return None
    reference = nodes.reference('', '', internal=False, refuri=url)
    reference.append(contnode)
    return reference


def setup(app):
    app.connect('missing-reference', resolve_ansible_label)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
