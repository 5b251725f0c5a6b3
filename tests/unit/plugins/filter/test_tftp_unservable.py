# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.filter.tftp_unservable import FilterModule

tftp_unservable = FilterModule().filters()['tftp_unservable']


def result(item, **stat):
    return {'item': item, 'stat': {'exists': True, 'isreg': False, 'islnk': False, 'readable': True, **stat}}


def test_files_and_links_inside_the_root_are_served():
    results = [result('pxelinux.0', isreg=True),
               result('efi64/syslinux.efi', islnk=True, lnk_source='/srv/tftp/syslinux/syslinux.efi')]
    assert tftp_unservable(results, '/srv/tftp') == []
    assert tftp_unservable(results, '/srv/tftp/') == []


def test_what_the_server_cannot_serve():
    results = [result('missing.0', exists=False),
               result('ipxe', isdir=True),
               result('out.efi', islnk=True, lnk_source='/boot/out.efi'),
               result('sibling.efi', islnk=True, lnk_source='/srv/tftp-old/sibling.efi'),
               # A link to a file not (yet) there: stat's readable follows the link.
               result('dangling.efi', islnk=True, lnk_source='/srv/tftp/gone.efi', readable=False),
               result('../etc/passwd', isreg=True),
               result('pxelinux.0', isreg=True)]
    assert tftp_unservable(results, '/srv/tftp') == [
        'missing.0', 'ipxe', 'out.efi', 'sibling.efi', 'dangling.efi', '../etc/passwd']


@pytest.mark.parametrize('results, root, message', [
    ([result('a', isreg=True)], 'srv/tftp', 'absolute path'),
    ([{'item': 'a'}], '/srv/tftp', 'the results of a stat loop'),
    (['a'], '/srv/tftp', 'the results of a stat loop'),
])
def test_bad_input_is_a_filter_error(results, root, message):
    with pytest.raises(AnsibleFilterError, match='tftp_unservable: .*' + message):
        tftp_unservable(results, root)
