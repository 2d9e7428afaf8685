"""Write phpLDAPadmin's config.php from osixia/phpldapadmin's PHPLDAPADMIN_LDAP_HOSTS.

The value is either host names (one, or several separated by commas or blanks) or osixia's
'#PYTHON2BASH:' form: a Python list whose items are a host name or {host: [{section: [{key:
value}, ...]}, ...]}; each key/value becomes $servers->setValue(section, key, value), which is
what osixia's own template does. Usage: config.py OUTPUT (reads the environment).
"""
import ast
import os
import re
import secrets
import sys

PREFIX = "#PYTHON2BASH:"


def php(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "array(" + ",".join(php(v) for v in value) + ")"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def hosts(raw):
    """[(host, [(section, key, value), ...]), ...] from the variable's value."""
    if raw.startswith(PREFIX):
        items = ast.literal_eval(raw[len(PREFIX):])
        items = items if isinstance(items, list) else [items]
    else:
        items = [h for h in re.split(r"[\s,]+", raw) if h]
    result = []
    for item in items:
        if isinstance(item, str):
            result.append((item, []))
            continue
        for host, sections in item.items():
            settings = []
            for section in sections:
                for name, pairs in section.items():
                    for pair in pairs:
                        settings.extend((name, key, value) for key, value in pair.items())
            result.append((host, settings))
    return result


def main(out):
    raw = os.environ.get("PHPLDAPADMIN_LDAP_HOSTS", "").strip() or "ldap.example.org"
    lines = ["<?php", "// Written by /container/tool/run at container start.",
             f"$config->custom->session['blowfish'] = {php(secrets.token_hex(16))};",
             "$config->custom->appearance['timezone'] = 'UTC';",
             "$config->custom->appearance['hide_template_warning'] = true;",
             "$servers = new Datastore();"]
    for host, settings in hosts(raw):
        if not re.fullmatch(r"[A-Za-z0-9._:\[\]-]+", host):
            sys.exit("phpldapadmin-test: ERROR: PHPLDAPADMIN_LDAP_HOSTS: bad host name")
        lines += ["$servers->newServer('ldap_pla');",
                  f"$servers->setValue('server','name',{php(host)});",
                  f"$servers->setValue('server','host',{php(host)});",
                  "$servers->setValue('server','base',array());",
                  "$servers->setValue('login','auth_type','session');",
                  "$servers->setValue('login','bind_id','');"]
        lines += [f"$servers->setValue({php(s)},{php(k)},{php(v)});" for s, k, v in settings]
    old = os.umask(0o027)
    with open(out, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.umask(old)


if __name__ == "__main__":
    main(sys.argv[1])
