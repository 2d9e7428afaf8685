"""Server-side checks of `CONNECT ... USER u USING p`.

With no SRVCON_PW_PLUGIN in effect, Db2 checks the operating system's password (its setuid
db2ckpw helper reads the shadow file); the stand-in reads /etc/shadow directly, which the
instance owner may do as a member of group `shadow`.

The server plug-in is the SRVCON_PW_PLUGIN in effect, i.e. read at the last db2start, not the
configured one (facts file 5: the plug-in parameters are not configurable online). IBM's LDAP
plug-in IBMLDAPauthserver is imitated by ldapplugin.py; with any other plug-in in effect,
connections with a password fail (reason 15).
"""
import hmac
import warnings

with warnings.catch_warnings():  # deprecated since Python 3.11, present in bookworm's 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt
    import spwd

# SQL30082N reason codes (IBM message reference for SQL30082N).
PASSWORD_INVALID = ("24", "USERNAME AND/OR PASSWORD INVALID")
PROCESSING_FAILURE = ("15", "PROCESSING FAILURE")


def authenticate(instance, user, password):
    """(None, authorization ID) if the user may connect, else (SQL30082N (reason, text), None)."""
    plugin = instance.dbm_in_effect().get("SRVCON_PW_PLUGIN")
    if plugin:
        from . import ldapplugin  # only needed (python-ldap) when a plug-in is in effect
        if plugin == ldapplugin.SERVER_PLUGIN:
            return ldapplugin.authenticate(instance, user, password)
        return PROCESSING_FAILURE, None
    failure = check_os_password(user, password)
    return failure, (None if failure else user.upper())


def check_os_password(user, password):
    """None if the OS password of `user` is `password`, else the SQL30082N (reason, text)."""
    for name in dict.fromkeys((user, user.lower())):
        try:
            hashed = spwd.getspnam(name).sp_pwdp
        except (KeyError, PermissionError):
            continue
        if hashed and not hashed.startswith(("!", "*")) and \
                hmac.compare_digest(crypt.crypt(password, hashed), hashed):
            return None
    return PASSWORD_INVALID
