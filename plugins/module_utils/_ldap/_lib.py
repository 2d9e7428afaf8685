# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""python-ldap, imported once: modules report a missing library through missing_required_lib()
when they start, so the import itself must not fail.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import traceback

try:  # the names are for the _ldap modules, which import them from here
    import ldap  # noqa: F401 pylint: disable=unused-import
    import ldap.dn  # noqa: F401 pylint: disable=unused-import
    import ldap.filter  # noqa: F401 pylint: disable=unused-import
    import ldap.schema  # noqa: F401 pylint: disable=unused-import
    import ldapurl  # noqa: F401 pylint: disable=unused-import
    from ldap.controls import SimplePagedResultsControl  # noqa: F401 pylint: disable=unused-import

    HAS_LDAP = True
    LDAP_IMPORT_ERROR = None
except ImportError:
    ldap = ldapurl = SimplePagedResultsControl = None
    HAS_LDAP = False
    LDAP_IMPORT_ERROR = traceback.format_exc()
