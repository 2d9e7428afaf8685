# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bulk engine: the entries a task wants against what the directory holds, as the fewest writes.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re

from ansible_collections.db2ops.docker.plugins.module_utils.actions import MASK
from ansible_collections.db2ops.docker.plugins.module_utils._ldap._lib import ldap
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.dn import (
    LdapError,
    PartialWrite,
    eq_filter,
    normalize_dn,
    rdn_filter,
)
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.passwords import hash_password, verify_password
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.connection import describe_error, search_any
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.schema import IA5_SYNTAX, INTEGER_SYNTAX


class Wanted:
    """One entry as a task wants it.

    attrs: attribute name -> values; modes: attribute name -> `replace` (the default: the values
    become exactly these), `exact` or `append` (per-value adds/deletes, for member lists and
    objectClass). password is cleartext from the task (hashed before writing).
    """

    __slots__ = ("dn", "label", "state", "attrs", "modes", "password", "update_password", "password_hash",
                 "option_names", "must_missing")

    def __init__(self, dn, label, state="present", attrs=None, modes=None, password=None,
                 update_password="always", password_hash="ssha", option_names=None):
        self.dn = dn
        self.label = label
        self.state = state
        self.attrs = attrs or {}
        self.modes = modes or {}
        self.password = password
        self.update_password = update_password
        self.password_hash = password_hash
        self.option_names = option_names or {}  # attribute -> the module option that sets it
        self.must_missing = []  # required attributes this task does not give (set by validate_wanted)

    def describe(self, attr):
        option = self.option_names.get(attr)
        return "%s (option %s)" % (attr, option) if option else attr


def validate_wanted(wanted, schema):
    """Every problem of the batch against the server schema, as a list of one-line messages.

    Attribute names become the schema's primary names (so `surname` and `sn` are one attribute).
    """
    problems = []
    for entry in wanted:
        if entry.state != "present":
            continue
        prefix = "%s (%s)" % (entry.label, entry.dn)
        attrs, modes = {}, {}
        for name, values in entry.attrs.items():
            primary = schema.attribute_name(name)
            if primary is None:
                problems.append("%s: attribute %s is not in the server schema" % (prefix, entry.describe(name)))
                continue
            attrs[primary], modes[primary] = values, entry.modes.get(name, "replace")
            if primary != name and name in entry.option_names:
                entry.option_names[primary] = entry.option_names[name]
        classes = []
        for name in attrs.get("objectClass", []):
            primary = schema.object_class_name(name)
            if primary is None:
                problems.append("%s: object class %s (option object_classes) is not in the server schema" % (prefix, name))
            else:
                classes.append(primary)
        if "objectClass" in attrs:
            attrs["objectClass"] = classes
        entry.attrs, entry.modes = attrs, modes
        must, may = schema.allowed(classes)
        for name, values in attrs.items():
            if name == "objectClass":
                continue
            if schema.syntax(name) == IA5_SYNTAX and any(not value.isascii() for value in values):
                problems.append("%s: attribute %s takes ASCII text only (IA5String)" % (prefix, entry.describe(name)))
            if any(value == "" for value in values):  # no LDAP syntax we write holds an empty string
                problems.append("%s: attribute %s has an empty value, which LDAP cannot store; leave the option "
                                "unset or give an empty list" % (prefix, entry.describe(name)))
            if name not in must and name not in may:
                problems.append("%s: attribute %s is not allowed by the object classes %s"
                                % (prefix, entry.describe(name), ", ".join(classes)))
            if len(values) > 1 and schema.single_value(name):
                problems.append("%s: attribute %s takes one value, got %d" % (prefix, entry.describe(name), len(values)))
            if schema.syntax(name) == INTEGER_SYNTAX:
                for value in values:
                    if not re.match(r"^-?\d+$", value.strip()):
                        problems.append("%s: attribute %s needs an integer, got %r" % (prefix, entry.describe(name), value))
        given = {name for name, values in attrs.items() if values}
        if entry.password is not None:
            given.add("userPassword")
        # Fatal only for a new entry or one this task would empty them on (decided in plan_changes).
        entry.must_missing = sorted(must - given - {"objectClass"})
    return problems


def search_terms(entry, unique_attrs):
    terms = [rdn_filter(entry.dn)]
    for attr in unique_attrs:
        terms.extend(eq_filter(attr, value) for value in entry.attrs.get(attr, []))
    return terms


def index_existing(found, schema):
    """Search results as {normalised DN: (dn, {primary attribute name: [text values]}, [password bytes])}."""
    existing = {}
    for dn, raw in found:
        attrs, passwords = {}, []
        for name, values in raw.items():
            primary = schema.attribute_name(name) or name
            if primary == "userPassword":
                passwords = list(values)
            else:
                attrs[primary] = [v.decode("utf-8", "replace") for v in values]
        existing[normalize_dn(dn)] = (dn, attrs, passwords)
    return existing


def check_unique(wanted, existing, unique_attrs, schema):
    """Problems where two entries would share a unique value (uid, uidNumber, ...) after the
    batch: within the batch, or between the batch and what the search found."""
    final = {ndn: (dn, attrs) for ndn, (dn, attrs, _pw) in existing.items()}
    labels = {}
    for entry in wanted:
        ndn = normalize_dn(entry.dn)
        if entry.state != "present":
            final.pop(ndn, None)
            continue
        have = final.get(ndn, (entry.dn, {}))[1]
        merged = dict(have)
        merged.update({a: v for a, v in entry.attrs.items() if a in unique_attrs})
        final[ndn] = (entry.dn, merged)
        labels[ndn] = entry.label
    problems = []
    for attr in unique_attrs:
        norm = schema.normaliser(attr)
        holders = {}
        for ndn, (dn, attrs) in final.items():
            for value in attrs.get(attr, []):
                holders.setdefault(norm(value), []).append(ndn)
        for value, ndns in holders.items():
            if len(ndns) > 1 and any(ndn in labels for ndn in ndns):
                names = ["%s (%s)" % (labels[n], final[n][0]) if n in labels else final[n][0] for n in ndns]
                problems.append("%s %s would be shared by %s" % (attr, value, " and ".join(names)))
    return problems


class Plan:
    """The writes a batch needs, in order, with what they change (passwords masked)."""

    def __init__(self):
        self.ops = []  # (kind, dn, payload): add -> modlist, modify -> modlist, delete -> None
        self.created, self.updated, self.removed = [], [], []
        self.before, self.after = {}, {}
        self.unverified = []  # DNs whose stored password could not be checked

    @property
    def changed(self):
        return bool(self.ops)

    def operations(self):
        """The LDAP operations, without values (those are in the diff)."""
        result = []
        for kind, dn, payload in self.ops:
            item = dict(op=kind, dn=dn)
            if kind == "add":
                item["attributes"] = [name for name, _values in payload]
            elif kind == "modify":
                item["changes"] = [[_MOD_NAMES[mod], name] for mod, name, _values in payload]
            result.append(item)
        return result

    def commands(self):
        """The operations as one line each, LDIF's change types with attribute names, no values."""
        lines = []
        for item in self.operations():
            if item["op"] == "modify":
                lines.append("modify %s: %s" % (item["dn"], ", ".join("%s %s" % tuple(c) for c in item["changes"])))
            elif item["op"] == "add":
                lines.append("add %s: %s" % (item["dn"], ", ".join(item["attributes"])))
            else:
                lines.append("%s %s" % (item["op"], item["dn"]))
        return lines

    def result(self):
        return dict(changed=self.changed, created=self.created, updated=self.updated, removed=self.removed,
                    operations=self.operations(), commands=self.commands())

    def diff(self):
        return dict(before=self.before, after=self.after)

    def extend(self, other):
        """Append another plan's writes (run after this plan's)."""
        self.ops += other.ops
        self.created += other.created
        self.updated += other.updated
        self.removed += other.removed
        self.before.update(other.before)
        self.after.update(other.after)
        self.unverified += other.unverified


_MOD_NAMES = {0: "add", 1: "delete", 2: "replace"}  # ldap.MOD_ADD, MOD_DELETE, MOD_REPLACE


def _encode(values):
    return [v.encode("utf-8") for v in values]


def _masked(attrs, password_changed=False, password_kept=False):
    shown = {name: list(values) for name, values in attrs.items() if values}
    if password_changed:
        shown["userPassword"] = MASK + " (new)"
    elif password_kept:
        shown["userPassword"] = MASK
    return shown


def plan_changes(wanted, existing, schema, hasher=hash_password):
    """The Plan for a validated batch against the indexed search result. Pure: no I/O.

    Raises LdapError when an entry would lose an attribute its object classes require.
    """
    plan = Plan()
    adds, modifies, deletes = [], [], []
    problems = []
    for entry in wanted:
        ndn = normalize_dn(entry.dn)
        found = existing.get(ndn)
        if entry.state != "present":
            if found:
                dn, attrs, passwords = found
                deletes.append(("delete", dn, None))
                plan.removed.append(dn)
                plan.before[dn] = _masked(attrs, password_kept=bool(passwords))
            continue
        if found is None:
            if entry.must_missing:
                problems.append("%s (%s): cannot be created without %s" % (
                    entry.label, entry.dn, ", ".join(entry.describe(a) for a in entry.must_missing)))
                continue
            attrs = {name: values for name, values in entry.attrs.items() if values}
            modlist = [(name, _encode(values)) for name, values in attrs.items()]
            if entry.password is not None:
                modlist.append(("userPassword", [hasher(entry.password, entry.password_hash).encode("ascii")]))
            adds.append(("add", entry.dn, modlist))
            plan.created.append(entry.dn)
            plan.after[entry.dn] = _masked(attrs, password_changed=entry.password is not None)
            continue
        dn, have_attrs, passwords = found
        mods, before, after = [], {}, {}
        for name, want in entry.attrs.items():
            have = have_attrs.get(name, [])
            norm = schema.normaliser(name)
            have_n = dict((norm(v), v) for v in have)
            want_n = dict((norm(v), v) for v in want)
            mode = entry.modes.get(name, "replace")
            if mode == "replace":
                if set(have_n) != set(want_n):
                    mods.append((ldap.MOD_REPLACE, name, _encode(want) or None))
                    before[name], after[name] = have, want
            else:
                if name == "objectClass":  # implied by every class; entries made without it stay so
                    want_n.pop("top", None)
                added = [v for k, v in want_n.items() if k not in have_n]
                removed = [v for k, v in have_n.items() if k not in want_n] if mode == "exact" else []
                if added:
                    mods.append((ldap.MOD_ADD, name, _encode(added)))
                if removed:
                    mods.append((ldap.MOD_DELETE, name, _encode(removed)))
                if added or removed:
                    before[name] = have
                    after[name] = [v for k, v in have_n.items() if k in want_n or mode == "append"] + added
            if name in before and not after[name] and name in entry.must_missing:
                problems.append("%s (%s): %s would be left empty, but the object classes require it"
                                % (entry.label, dn, entry.describe(name)))
        password_changed = False
        if entry.password is not None and entry.update_password == "always":
            verdicts = [verify_password(entry.password, stored) for stored in passwords]
            if True not in verdicts:
                if None in verdicts:
                    plan.unverified.append(dn)
                mods.append((ldap.MOD_REPLACE, "userPassword",
                             [hasher(entry.password, entry.password_hash).encode("ascii")]))
                password_changed = True
        if mods:
            modifies.append(("modify", dn, mods))
            plan.updated.append(dn)
            plan.before[dn] = _masked(before, password_kept=password_changed and bool(passwords))
            plan.after[dn] = _masked(after, password_changed=password_changed)
    if problems:
        raise LdapError("; ".join(problems))
    # Deletes first, so a value freed by a removed entry can be taken by an added one.
    plan.ops = deletes + modifies + adds
    return plan


def apply_plan(lconn, plan):
    """Run the planned writes in order. On a failure, say how far it got (LDAP has no transactions)."""
    for done, (kind, dn, payload) in enumerate(plan.ops):
        try:
            if kind == "add":
                lconn.add_s(dn, payload)
            elif kind == "modify":
                lconn.modify_s(dn, payload)
            else:
                lconn.delete_s(dn)
        except ldap.LDAPError as exc:
            message = describe_error(exc, "%s of %s failed" % (kind, dn))
            if not done:
                raise LdapError(message)
            last_kind, last_dn, _payload = plan.ops[done - 1]
            # A rerun plans from what the server holds, so it picks up exactly where this stopped.
            raise PartialWrite("%s, after %d of %d writes (the last one applied: %s %s); the rest were not sent. "
                               "Rerun the task when the server answers again: it continues from there"
                               % (message, done, len(plan.ops), last_kind, last_dn), done=done)


def sync_entries(lconn, wanted, search_base, unique_attrs, check_mode, schema):
    """Validate the whole batch, read the affected entries with one paged search, plan, and
    (unless check_mode) write. Returns the Plan. Raises LdapError before any write on bad input."""
    problems = validate_wanted(wanted, schema)
    if problems:
        raise LdapError("; ".join(problems))
    attrs = {"objectClass"}
    for entry in wanted:
        attrs.update(entry.attrs)
        if entry.password is not None and entry.update_password == "always":
            attrs.add("userPassword")
    attrs.update(unique_attrs)
    terms = [term for entry in wanted for term in search_terms(entry, unique_attrs)]
    try:
        found = search_any(lconn, search_base, terms, sorted(attrs)) if terms else []
    except ldap.NO_SUCH_OBJECT as exc:
        if any(entry.state == "present" for entry in wanted):
            raise LdapError("%s; create it first" % describe_error(exc, "the parent entry %s does not exist" % search_base))
        found = []  # nothing can be there to remove
    except ldap.LDAPError as exc:
        raise LdapError(describe_error(exc, "searching %s" % search_base))
    existing = index_existing(found, schema)
    problems = check_unique(wanted, existing, unique_attrs, schema)
    if problems:
        raise LdapError("; ".join(problems))
    plan = plan_changes(wanted, existing, schema)
    if not check_mode:
        apply_plan(lconn, plan)
    return plan
