"""The database manager configuration: parameters, defaults and the `get dbm cfg` layout.

Layout (facts 2.3): one leading blank, the label padded so that `(PARAM)` ends in column 56,
then ` = value`. Parameters are those of an 11.x `db2 get dbm cfg`, in IBM's order; the ones
the collection uses (plug-ins, authentication, SVCENAME, DIAGPATH) carry IBM's defaults.
"""

# (label, parameter or None, default). None as a row is a blank line. Defaults may use
# {home} (instance home) and {inst} (instance name).
LAYOUT = (
    ("CPU speed (millisec/instruction)", "CPUSPEED", "2.361721e-07"),
    ("Communications bandwidth (MB/sec)", "COMM_BANDWIDTH", "1.000000e+02"),
    None,
    ("Max number of concurrently active databases", "NUMDB", "32"),
    ("Federated Database System Support", "FEDERATED", "NO"),
    ("Transaction processor monitor name", "TP_MON_NAME", ""),
    None,
    ("Default charge-back account", "DFT_ACCOUNT_STR", ""),
    None,
    ("Java Development Kit installation path", "JDK_PATH", "{home}/sqllib/java/jdk64"),
    None,
    ("Diagnostic error capture level", "DIAGLEVEL", "3"),
    ("Notify Level", "NOTIFYLEVEL", "3"),
    ("Diagnostic data directory path", "DIAGPATH", "{home}/sqllib/db2dump/ $m"),
    ("Current member resolved DIAGPATH", None, "{home}/sqllib/db2dump/DIAG0000/"),
    ("Alternate diagnostic data directory path", "ALT_DIAGPATH", ""),
    ("Current member resolved ALT_DIAGPATH", None, ""),
    ("Size of rotating db2diag & notify logs (MB)", "DIAGSIZE", "0"),
    None,
    ("Default database monitor switches", None, None),
    ("  Buffer pool", "DFT_MON_BUFPOOL", "ON"),
    ("  Lock", "DFT_MON_LOCK", "ON"),
    ("  Sort", "DFT_MON_SORT", "ON"),
    ("  Statement", "DFT_MON_STMT", "ON"),
    ("  Table", "DFT_MON_TABLE", "ON"),
    ("  Timestamp", "DFT_MON_TIMESTAMP", "ON"),
    ("  Unit of work", "DFT_MON_UOW", "ON"),
    ("Monitor health of instance and databases", "HEALTH_MON", "OFF"),
    None,
    ("SYSADM group name", "SYSADM_GROUP", "DB2IADM1"),
    ("SYSCTRL group name", "SYSCTRL_GROUP", ""),
    ("SYSMAINT group name", "SYSMAINT_GROUP", ""),
    ("SYSMON group name", "SYSMON_GROUP", ""),
    None,
    ("Client Userid-Password Plugin", "CLNT_PW_PLUGIN", ""),
    ("Client Kerberos Plugin", "CLNT_KRB_PLUGIN", ""),
    ("Group Plugin", "GROUP_PLUGIN", ""),
    ("GSS Plugin for Local Authorization", "LOCAL_GSSPLUGIN", ""),
    ("Server Plugin Mode", "SRV_PLUGIN_MODE", "UNFENCED"),
    ("Server List of GSS Plugins", "SRVCON_GSSPLUGIN_LIST", ""),
    ("Server Userid-Password Plugin", "SRVCON_PW_PLUGIN", ""),
    ("Server Connection Authentication", "SRVCON_AUTH", "NOT_SPECIFIED"),
    ("Cluster manager", None, ""),
    None,
    ("Database manager authentication", "AUTHENTICATION", "SERVER"),
    ("Alternate authentication", "ALTERNATE_AUTH_ENC", "NOT_SPECIFIED"),
    ("Cataloging allowed without authority", "CATALOG_NOAUTH", "NO"),
    ("Trust all clients", "TRUST_ALLCLNTS", "YES"),
    ("Trusted client authentication", "TRUST_CLNTAUTH", "CLIENT"),
    ("Bypass federated authentication", "FED_NOAUTH", "NO"),
    None,
    ("Default database path", "DFTDBPATH", "/database/data"),
    None,
    ("Database monitor heap size (4KB)", "MON_HEAP_SZ", "AUTOMATIC(90)"),
    ("Java Virtual Machine heap size (4KB)", "JAVA_HEAP_SZ", "2048"),
    ("Audit buffer size (4KB)", "AUDIT_BUF_SZ", "0"),
    ("Global instance memory (% or 4KB)", "INSTANCE_MEMORY", "AUTOMATIC"),
    ("Agent stack size", "AGENT_STACK_SZ", "1024"),
    ("Sort heap threshold (4KB)", "SHEAPTHRES", "0"),
    None,
    ("Directory cache support", "DIR_CACHE", "YES"),
    None,
    ("Application support layer heap size (4KB)", "ASLHEAPSZ", "15"),
    ("Max requester I/O block size (bytes)", "RQRIOBLK", "65535"),
    ("Workload impact by throttled utilities", "UTIL_IMPACT_LIM", "10"),
    None,
    ("Priority of agents", "AGENTPRI", "SYSTEM"),
    ("Agent pool size", "NUM_POOLAGENTS", "AUTOMATIC(100)"),
    ("Initial number of agents in pool", "NUM_INITAGENTS", "0"),
    ("Max number of coordinating agents", "MAX_COORDAGENTS", "AUTOMATIC(200)"),
    ("Max number of client connections", "MAX_CONNECTIONS", "AUTOMATIC(MAX_COORDAGENTS)"),
    None,
    ("Keep fenced process", "KEEPFENCED", "YES"),
    ("Number of pooled fenced processes", "FENCED_POOL", "AUTOMATIC(MAX_COORDAGENTS)"),
    ("Initial number of fenced processes", "NUM_INITFENCED", "0"),
    None,
    ("Index re-creation time and redo index build", "INDEXREC", "RESTART"),
    None,
    ("Transaction manager database name", "TM_DATABASE", "1ST_CONN"),
    ("Transaction resync interval (sec)", "RESYNC_INTERVAL", "180"),
    None,
    ("SPM name", "SPM_NAME", ""),
    ("SPM log size", "SPM_LOG_FILE_SZ", "256"),
    ("SPM resync agent limit", "SPM_MAX_RESYNC", "20"),
    ("SPM log path", "SPM_LOG_PATH", ""),
    None,
    ("TCP/IP Service name", "SVCENAME", ""),
    ("Discovery mode", "DISCOVER", "SEARCH"),
    ("Discover server instance", "DISCOVER_INST", "ENABLE"),
    None,
    ("SSL server keydb file", "SSL_SVR_KEYDB", ""),
    ("SSL server stash file", "SSL_SVR_STASH", ""),
    ("SSL server certificate label", "SSL_SVR_LABEL", ""),
    ("SSL service name", "SSL_SVCENAME", ""),
    ("SSL cipher specs", "SSL_CIPHERSPECS", ""),
    ("SSL versions", "SSL_VERSIONS", ""),
    ("SSL client keydb file", "SSL_CLNT_KEYDB", ""),
    ("SSL client stash file", "SSL_CLNT_STASH", ""),
    None,
    ("Maximum query degree of parallelism", "MAX_QUERYDEGREE", "ANY"),
    ("Enable intra-partition parallelism", "INTRA_PARALLEL", "NO"),
    None,
    ("No. of int. communication buffers(4KB)", "FCM_NUM_BUFFERS", "AUTOMATIC(4096)"),
    ("No. of int. communication channels", "FCM_NUM_CHANNELS", "AUTOMATIC(2048)"),
    ("db2start/db2stop timeout (min)", "START_STOP_TIME", "10"),
)

PARAMETERS = {row[1]: row for row in LAYOUT if row and row[1]}

# Parameters whose values are keywords: Db2 stores them upper-cased and rejects others.
KEYWORDS = {
    "AUTHENTICATION": {"SERVER", "CLIENT", "SERVER_ENCRYPT", "SERVER_ENCRYPT_AES", "KERBEROS",
                       "KRB_SERVER_ENCRYPT", "DATA_ENCRYPT", "DATA_ENCRYPT_CMP", "GSSPLUGIN",
                       "GSS_SERVER_ENCRYPT"},
    "SRVCON_AUTH": {"NOT_SPECIFIED", "SERVER", "CLIENT", "SERVER_ENCRYPT", "SERVER_ENCRYPT_AES",
                    "KERBEROS", "KRB_SERVER_ENCRYPT", "DATA_ENCRYPT", "DATA_ENCRYPT_CMP",
                    "GSSPLUGIN", "GSS_SERVER_ENCRYPT"},
    "SRV_PLUGIN_MODE": {"FENCED", "UNFENCED"},
    "TRUST_ALLCLNTS": {"YES", "NO", "DRDAONLY"},
    "TRUST_CLNTAUTH": {"CLIENT", "SERVER"},
    "FEDERATED": {"YES", "NO"},
    "HEALTH_MON": {"ON", "OFF"},
}

LABEL_WIDTH = 56  # everything before " = "


def defaults(instance, home):
    """The configuration db2icrt writes for a new instance."""
    return {param: default.format(home=home, inst=instance)
            for param, (_label, _param, default) in PARAMETERS.items()}


def normalize(param, value):
    """The value Db2 stores for `update dbm cfg using PARAM value`, or None if it is invalid.

    NULL resets a parameter that takes a name (plug-ins, groups, paths) to no value."""
    if param in KEYWORDS:
        value = value.upper()
        return value if value in KEYWORDS[param] else None
    return "" if value.upper() == "NULL" else value


def render(values, instance, home, release):
    """`db2 get dbm cfg` output for the configured values."""
    lines = ["", "          Database Manager Configuration", "",
             "     Node type = Enterprise Server with local and remote clients", "",
             _line("Database manager configuration release level", None, release), ""]
    for row in LAYOUT:
        if row is None:
            lines.append("")
            continue
        label, param, default = row
        if default is None:  # a heading such as the monitor switches
            lines.append(" " + label)
            continue
        value = values.get(param, "") if param else default.format(home=home, inst=instance)
        lines.append(_line(label, param, value))
    return "\n".join(lines) + "\n\n"


def _line(label, param, value):
    head = " " + label
    tag = "(%s)" % param if param else ""
    return head + tag.rjust(max(LABEL_WIDTH - len(head), len(tag) + 1)) + " = " + value
