# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Users and groups: module options turned into wanted entries, members resolved, one sync.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.db2ops.docker.plugins.module_utils._ldap._lib import ldap
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.dn import (
    LdapError,
    build_dn,
    check_attribute_name,
    check_text,
    eq_filter,
    is_under,
    join_dn,
    normalize_dn,
    rdn_filter,
)
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.connection import describe_error, search_any
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.sync import Plan, Wanted, apply_plan, sync_entries


# Options of one user; the same names at the top level of db2_ldap_user describe one user.
USER_OPTIONS = dict(
    uid=dict(type="str"),
    cn=dict(type="list", elements="str"),
    sn=dict(type="str"),
    uid_number=dict(type="int"),
    gid_number=dict(type="int"),
    home_directory=dict(type="str"),
    login_shell=dict(type="str"),
    object_classes=dict(type="list", elements="str"),
    attributes=dict(type="dict"),
    password=dict(type="str", no_log=True),
    update_password=dict(type="str", choices=["always", "on_create"], no_log=False),
    state=dict(type="str", choices=["present", "absent"]),
)
# Item options that take the top-level value when an item leaves them unset.
USER_SHARED = ("gid_number", "login_shell", "object_classes", "update_password", "state")
USER_DEFAULTS = dict(object_classes=["posixAccount", "inetOrgPerson"], update_password="always", state="present")
_USER_ATTRS = dict(uid="uid", cn="cn", sn="sn", uid_number="uidNumber", gid_number="gidNumber",
                   home_directory="homeDirectory", login_shell="loginShell")

GROUP_OPTIONS = dict(
    name=dict(type="str"),
    description=dict(type="str"),
    object_class=dict(type="str", choices=["groupOfUniqueNames", "groupOfNames", "posixGroup"]),
    gid_number=dict(type="int"),
    members=dict(type="list", elements="str"),
    members_mode=dict(type="str", choices=["exact", "append"]),
    attributes=dict(type="dict"),
    state=dict(type="str", choices=["present", "absent"]),
)
GROUP_SHARED = ("object_class", "members_mode", "state")
GROUP_DEFAULTS = dict(object_class="groupOfUniqueNames", members_mode="exact", state="present")
MEMBER_ATTRIBUTE = dict(groupOfUniqueNames="uniqueMember", groupOfNames="member", posixGroup="memberUid")
_RESERVED = {"objectclass", "userpassword"}


def top_level_options(options, defaults):
    """The item options as top-level options: one entry, and the defaults for every item."""
    spec = dict((name, dict(option)) for name, option in options.items())
    for name, default in defaults.items():
        spec[name]["default"] = default
    return spec


def batch_items(params, options, shared, key, list_name):
    """The items of a task: its list option, or the top-level options as a single item.

    Shared options left unset in an item take the top-level value (or its default);
    `attributes` of the top level and of an item are merged (the item wins)."""
    items = params.get(list_name)
    if items is None:
        if not params.get(key):
            raise LdapError("give %s (one entry) or %s (a list)" % (key, list_name))
        items = [dict((name, params.get(name)) for name in options)]
    else:
        stray = [name for name in options if name not in shared and name != "attributes" and params.get(name) is not None]
        if stray:
            raise LdapError("%s describe one entry and cannot be combined with %s; put them in the items"
                            % (", ".join(stray), list_name))
    merged = []
    for item in items:
        one = dict((name, item.get(name)) for name in options)
        for name in shared:
            if one.get(name) is None:
                one[name] = params.get(name)
        one["attributes"] = dict(params.get("attributes") or {}, **(item.get("attributes") or {}))
        if not one.get(key):
            raise LdapError("every item of %s needs %s" % (list_name, key))
        merged.append(one)
    return merged


def check_name(what, value):
    """An entry's naming value (uid, group name): text, no NUL, no edge spaces (LDAP ignores them)."""
    check_text(what, value)
    if value != value.strip() or not value:
        raise LdapError("%s %r has leading or trailing spaces, which LDAP matching ignores; remove them" % (what, value))
    return value


def _extra_attributes(what, attributes, managed, attrs, option_names):
    for name, value in (attributes or {}).items():
        check_attribute_name(name)
        if name.lower() in _RESERVED or name.lower() in managed:
            raise LdapError("%s: set %s with its own option, not in attributes" % (what, name))
        values = value if isinstance(value, list) else ([] if value is None else [value])
        text = []
        for one in values:
            if isinstance(one, bool):
                one = "TRUE" if one else "FALSE"  # LDAP Boolean syntax
            text.append(check_text("%s: attribute %s" % (what, name), str(one)))
        attrs[name] = text
        option_names[name] = "attributes.%s" % name


def _duplicates(pairs):
    """LdapError when two items of the batch share a key; pairs are (comparison key, label)."""
    seen = {}
    problems = []
    for index, (key, label) in enumerate(pairs):
        if key in seen:
            problems.append("%s appears twice in the batch (items %d and %d)" % (label, seen[key] + 1, index + 1))
        seen.setdefault(key, index)
    if problems:
        raise LdapError("; ".join(problems))


def user_wanted(params, parent_dn):
    """Wanted entries for db2_ldap_user; LdapError on input that cannot be right whatever the server."""
    items = batch_items(params, USER_OPTIONS, USER_SHARED, "uid", "users")
    rdn_attribute = params["rdn_attribute"]
    wanted = []
    for item in items:
        uid = check_name("uid", item["uid"])
        what = "user %r" % uid
        dn = build_dn(rdn_attribute, uid, parent_dn)
        if item["state"] == "absent":
            wanted.append(Wanted(dn, what, state="absent"))
            continue
        classes = ["top"] + [c for c in item["object_classes"] if c.lower() != "top"]
        lower_classes = {c.lower() for c in classes}
        cn = list(item["cn"] or [uid])
        if rdn_attribute == "cn" and uid.casefold() not in {c.casefold() for c in cn}:
            cn.insert(0, uid)  # the RDN value must be one of the entry's values
        values = dict(uid=uid, cn=cn, sn=item["sn"], uid_number=item["uid_number"], gid_number=item["gid_number"],
                      home_directory=item["home_directory"], login_shell=item["login_shell"])
        if values["sn"] is None and lower_classes & {"person", "organizationalperson", "inetorgperson"}:
            values["sn"] = uid  # as the cookbook: sn is required by person, uid is the natural value
        home_default = values["home_directory"] is None and "posixaccount" in lower_classes
        if home_default:
            values["home_directory"] = "/home/%s" % uid
        attrs = {"objectClass": classes}
        option_names = dict((attr, option) for option, attr in _USER_ATTRS.items())
        if home_default:
            option_names["homeDirectory"] = "home_directory, /home/<uid> by default"
        for option, attr in _USER_ATTRS.items():
            value = values[option]
            if value is None:
                continue
            attrs[attr] = [check_text("%s: %s" % (what, option), str(v)) for v in (value if isinstance(value, list) else [value])]
        _extra_attributes(what, item["attributes"], {a.lower() for a in _USER_ATTRS.values()}, attrs, option_names)
        if item["password"] is not None:
            check_text("%s: password" % what, item["password"])
            if not item["password"]:  # a simple bind with an empty password is an anonymous bind
                raise LdapError("%s: password is empty; leave it unset to keep the stored one" % what)
        wanted.append(Wanted(dn, what, attrs=attrs, modes={"objectClass": "append"}, password=item["password"],
                             update_password=item["update_password"], password_hash=params["password_hash"],
                             option_names=option_names))
    _duplicates([(normalize_dn(w.dn), w.label) for w in wanted])
    _duplicates([(int(w.attrs["uidNumber"][0]), "uid_number %s" % w.attrs["uidNumber"][0])
                 for w in wanted if w.attrs.get("uidNumber")])
    return wanted


def group_items(params):
    items = batch_items(params, GROUP_OPTIONS, GROUP_SHARED, "name", "groups")
    for item in items:
        check_name("group name", item["name"])
        for member in item["members"] or []:
            check_text("group %r: member" % item["name"], member)
    return items


def member_kind(member, base_dn):
    """`dn` for a DN under base_dn, `uid` for anything else (so a uid may contain `=` or `,`)."""
    try:
        return "dn" if is_under(member, base_dn) and normalize_dn(member) != normalize_dn(base_dn) else "uid"
    except LdapError:
        return "uid"


def member_terms(items, base_dn):
    """The filter terms of the one search that resolves every member of every group."""
    terms = []
    for item in items:
        for member in item["members"] or []:
            terms.append(rdn_filter(member) if member_kind(member, base_dn) == "dn" else eq_filter("uid", member))
    return list(dict.fromkeys(terms))


def resolve_members(items, found, base_dn):
    """{(group name, member as given): (dn, uid)} from the member search; LdapError naming every
    member that does not exist or is ambiguous."""
    by_dn, by_uid = {}, {}
    for dn, attrs in found:
        uids = [v.decode("utf-8", "replace") for v in attrs.get("uid", [])]
        by_dn[normalize_dn(dn)] = (dn, uids[0] if uids else None)
        for uid in uids:
            by_uid.setdefault(uid.casefold(), []).append((dn, uid))  # uid is caseIgnoreMatch
    resolved, problems = {}, []
    for item in items:
        for member in item["members"] or []:
            if member_kind(member, base_dn) == "dn":
                hit = by_dn.get(normalize_dn(member))
                if hit is None:
                    problems.append("group %r: member %s does not exist" % (item["name"], member))
                    continue
            else:
                hits = by_uid.get(" ".join(member.split()).casefold(), [])
                if not hits:
                    hint = " (a DN outside %s is taken as a uid)" % base_dn if "=" in member else ""
                    problems.append("group %r: members: no entry with uid %r under %s%s"
                                    % (item["name"], member, base_dn, hint))
                    continue
                if len(hits) > 1:
                    problems.append("group %r: members: uid %r is ambiguous (%s); give the DN"
                                    % (item["name"], member, ", ".join(dn for dn, _u in hits)))
                    continue
                hit = hits[0]
            resolved[(item["name"], member)] = hit
    if problems:
        raise LdapError("; ".join(problems))
    return resolved


def find_members(lconn, items, base_dn, planned=None):
    """Resolve every member of every group with one paged search under base_dn.

    planned: {normalised DN: (dn, uid) or None} of a user batch planned in the same task and not
    written yet; its entries count as they will be (None: the entry is being removed).
    """
    terms = member_terms(items, base_dn)
    if not terms:
        return {}
    try:
        found = search_any(lconn, base_dn, terms, ["uid"])
    except ldap.LDAPError as exc:
        raise LdapError(describe_error(exc, "looking up group members under %s" % base_dn))
    if planned:
        entries = dict((normalize_dn(dn), (dn, attrs)) for dn, attrs in found)
        for ndn, entry in planned.items():
            if entry is None:
                entries.pop(ndn, None)
            elif is_under(entry[0], base_dn):
                entries[ndn] = (entry[0], {"uid": [entry[1].encode("utf-8")]})
        found = list(entries.values())
    return resolve_members(items, found, base_dn)


def sync_directory(lconn, params, schema, check_mode):
    """db2_ldap_directory: users, then groups whose members may be those users, all validated and
    planned before the first write, over one connection. Returns the combined Plan."""
    base = params["base_dn"]
    plan, planned = Plan(), {}
    if params["users"] is not None:
        users_parent = join_dn(params["users_ou"], base, "users_ou")
        user_params = dict((name, None) for name in USER_OPTIONS)
        user_params.update(USER_DEFAULTS, users=params["users"], rdn_attribute=params["rdn_attribute"],
                           password_hash=params["password_hash"])
        users = user_wanted(user_params, users_parent)
        plan.extend(sync_entries(lconn, users, users_parent, ("uid", "uidNumber"), True, schema))
        for entry in users:
            planned[normalize_dn(entry.dn)] = (entry.dn, entry.attrs["uid"][0]) if entry.state == "present" else None
    if params["groups"] is not None:
        groups_parent = join_dn(params["groups_ou"], base, "groups_ou")
        group_params = dict((name, None) for name in GROUP_OPTIONS)
        group_params.update(GROUP_DEFAULTS, groups=params["groups"])
        items = group_items(group_params)
        members_base = join_dn("", params["members_base"] or base,
                               base_option="members_base" if params["members_base"] else "base_dn")
        resolved = find_members(lconn, items, members_base, planned)
        plan.extend(sync_entries(lconn, group_wanted(items, groups_parent, resolved), groups_parent,
                                 ("cn", "gidNumber"), True, schema))
    if not check_mode:
        apply_plan(lconn, plan)
    return plan


def group_wanted(items, parent_dn, resolved):
    """Wanted entries for db2_ldap_group from its items and the resolved members."""
    wanted = []
    for item in items:
        name = item["name"]
        what = "group %r" % name
        dn = build_dn("cn", name, parent_dn)
        if item["state"] == "absent":
            wanted.append(Wanted(dn, what, state="absent"))
            continue
        object_class = item["object_class"]
        member_attr = MEMBER_ATTRIBUTE[object_class]
        members = []
        for member in item["members"] or []:
            member_dn, uid = resolved[(name, member)]
            if object_class == "posixGroup":
                if uid is None:
                    raise LdapError("%s: member %s has no uid, which posixGroup's memberUid needs" % (what, member_dn))
                members.append(uid)
            else:
                members.append(member_dn)
        mode = item["members_mode"]
        if object_class != "posixGroup" and mode == "exact" and not members:
            raise LdapError("%s: %s needs at least one member (%s is required by the schema); give members, "
                            "or use object_class=posixGroup for a group that may be empty"
                            % (what, object_class, member_attr))
        attrs = {"objectClass": ["top", object_class], "cn": [name]}
        option_names = {"cn": "name", member_attr: "members", "gidNumber": "gid_number"}
        if item["members"] is not None or mode == "exact":
            attrs[member_attr] = members
        if item["description"] is not None:
            attrs["description"] = [check_text("%s: description" % what, item["description"])]
        if item["gid_number"] is not None:
            attrs["gidNumber"] = [str(item["gid_number"])]
        _extra_attributes(what, item["attributes"], {"cn", "description", "gidnumber", member_attr.lower()},
                          attrs, option_names)
        wanted.append(Wanted(dn, what, attrs=attrs, option_names=option_names,
                             modes={"objectClass": "append", member_attr: mode}))
    _duplicates([(normalize_dn(w.dn), w.label) for w in wanted])
    _duplicates([(int(w.attrs["gidNumber"][0]), "gid_number %s" % w.attrs["gidNumber"][0])
                 for w in wanted if w.attrs.get("gidNumber")])
    return wanted
