# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server schema as the bulk engine needs it: attribute syntaxes, single-valued attributes,
equality rules.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.db2ops.docker.plugins.module_utils._ldap._lib import ldap
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.dn import LdapError, normaliser_for


INTEGER_SYNTAX = "1.3.6.1.4.1.1466.115.121.1.27"
IA5_SYNTAX = "1.3.6.1.4.1.1466.115.121.1.26"


class Schema:
    """What the server's subschema says about attribute and object class names."""

    def __init__(self, subschema_entry):
        self._schema = ldap.schema.SubSchema(subschema_entry, check_uniqueness=0)
        self._normalisers = {}
        self._allowed = {}  # a batch's entries share a few object class sets: resolve each once

    def _attribute(self, name):
        return self._schema.get_obj(ldap.schema.AttributeType, name)

    def attribute_name(self, name):
        """The schema's primary name for an attribute (or alias), None when unknown."""
        found = self._attribute(name)
        return found.names[0] if found is not None and found.names else None

    def object_class_name(self, name):
        found = self._schema.get_obj(ldap.schema.ObjectClass, name)
        return found.names[0] if found is not None and found.names else None

    def _inherited(self, name, field):
        seen = set()
        found = self._attribute(name)
        while found is not None and found.oid not in seen:
            seen.add(found.oid)
            if getattr(found, field):
                return getattr(found, field)
            found = self._attribute(found.sup[0]) if found.sup else None
        return None

    def equality(self, name):
        return self._inherited(name, "equality")

    def syntax(self, name):
        return self._inherited(name, "syntax")

    def single_value(self, name):
        found = self._attribute(name)
        return bool(found is not None and found.single_value)

    def allowed(self, object_classes):
        """(must, may) primary attribute names for these object classes, superclasses included."""
        key = tuple(sorted(object_classes))
        if key not in self._allowed:
            must, may = self._schema.attribute_types(list(key), raise_keyerror=0)
            self._allowed[key] = ({self._schema.get_obj(ldap.schema.AttributeType, oid).names[0] for oid in must},
                                  {self._schema.get_obj(ldap.schema.AttributeType, oid).names[0] for oid in may})
        return self._allowed[key]

    def normaliser(self, name):
        if name not in self._normalisers:
            self._normalisers[name] = normaliser_for(self.equality(name))
        return self._normalisers[name]


def _values_in(data):
    if isinstance(data, dict):
        return sum(_values_in(v) for v in data.values())
    if isinstance(data, (list, tuple)):
        return sum(_values_in(v) for v in data)
    return 1


def read_schema(lconn):
    """The server's schema, read once (root DSE → subschemaSubentry → its definitions)."""
    dn = lconn.search_subschemasubentry_s("")
    if not dn:
        raise LdapError("the server does not publish its schema (no subschemaSubentry in the root DSE)")
    entry = lconn.read_subschemasubentry_s(dn, attrs=["attributeTypes", "objectClasses"])
    return Schema(entry)
