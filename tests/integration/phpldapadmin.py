"""phpLDAPadmin for the tests: the test image, and what a user does in its pages.

`PhpLdapAdmin` wraps a headless Chromium (browser.py) and knows phpLDAPadmin 1.2's pages: the
login form, the tree on the left, and the cookbook's way to add a user (recipe 4: on ou=Users,
"Create a child entry", template "Default", objectClass inetOrgPerson, cn as RDN, cn, sn, uid
and userPassword, then "Create Object" and "Commit").
"""
from __future__ import annotations

import ssl
import urllib.parse
import urllib.request
from pathlib import Path

from browser import Browser
from conftest import _build_images, wait_for_log

PLA_IMAGE = "db2ops/phpldapadmin:test"
READY = "phpldapadmin-test: apache ready"
CERTS_DIR = "/container/service/phpldapadmin/assets/apache2/certs"
TREE = "#ajSID_1_nodes"


def build_image() -> str:
    _build_images("phpldapadmin")
    return PLA_IMAGE


def cert_mounts(tls: dict) -> dict:
    """Docker SDK volumes giving make_tls_material()'s server certificate under osixia's names."""
    return {tls["server"]: {"bind": f"{CERTS_DIR}/phpldapadmin.crt", "mode": "ro"},
            tls["server_key"]: {"bind": f"{CERTS_DIR}/phpldapadmin.key", "mode": "ro"},
            tls["ca"]: {"bind": f"{CERTS_DIR}/ca.crt", "mode": "ro"}}


def wait_ready(container) -> str:
    return wait_for_log(container, READY, timeout=90)


def fetch(url: str, ca_file: str | None = None) -> tuple[int, str]:
    """GET with the certificate verified against ca_file (https) - what a browser that trusts it sees."""
    context = ssl.create_default_context(cafile=ca_file) if url.startswith("https:") else None
    with urllib.request.urlopen(url, timeout=30, context=context) as reply:
        return reply.status, reply.read().decode("utf-8", "replace")


class PhpLdapAdmin:
    """The pages of one phpLDAPadmin at base_url, in a headless Chromium."""

    def __init__(self, base_url: str, tmp_path: Path, trust_cert: bytes | None):
        self.base_url = base_url.rstrip("/") + "/"
        self.page = Browser(tmp_path, trust_cert=trust_cert)

    def close(self):
        self.page.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def open(self, query: str = "") -> None:
        self.page.goto(self.base_url + query)

    def login(self, dn: str, password: str) -> str:
        """Fill and send the login form; return the text of the page that answers."""
        self.open("cmd.php?cmd=login_form&server_id=1")
        self.page.fill("#login", dn)
        self.page.fill("#password", password)
        self.page.click("input[type=submit][name=submit]")
        return self.page.text()

    def logged_in(self) -> bool:
        return "Logged in as:" in self.page.text()

    def expand_tree(self, base_dn: str, child: str) -> str:
        """Open the base entry in the tree (the '+' a user clicks); return the tree's text."""
        shown = f"document.querySelector('{TREE}').innerText.includes({child!r})"
        if not self.page.evaluate(shown):  # a second click would close it again
            self.page.click(f'{TREE} a[onclick^="return opencloseTreeNode"]', navigates=False)
            self.page.wait_for(shown, f"{child} under {base_dn} in the tree")
        return self.page.evaluate(f"document.querySelector('{TREE}').innerText")

    def create_user(self, container_dn: str, cn: str, sn: str, uid: str, password: str) -> str:
        """Recipe 4 through the web form: a child inetOrgPerson of container_dn, {SSHA} password."""
        self.open("cmd.php?cmd=template_engine&server_id=1&template=none&container="
                  + urllib.parse.quote(container_dn))
        self.page.fill('select[name="new_values[objectclass][]"]', "inetOrgPerson")
        self.page.click("#create_button")  # Proceed >>
        self.page.fill("#rdn_attribute", "cn")
        for attr, value in (("cn", cn), ("sn", sn), ("uid", uid), ("userpassword", password)):
            self.page.fill(f"#new_values_{attr}_0", value)
        self.page.fill("#enc_userpassword_0", "ssha")
        self.page.click("#create_button")  # Create Object -> the confirmation page
        self.page.click("input[type=submit][value=Commit]", navigates=False)  # sent by script
        self.page.wait_for("!document.body.innerText.includes('Do you want to create this entry?')",
                           "the answer to Commit")
        self.page.wait_for("document.body.innerText.includes('Creation successful') || "
                           "document.body.innerText.includes('Could not')", "the creation result")
        return self.page.text()
