"""A demo organization: a plausible company with people, public folders and seven virtual servers.

Built with faker from a seed, so one seed gives the same organization every time (for one faker
version). All domains are under the reserved .test TLD (RFC 2606), and every port is 0.
"""
from __future__ import annotations

import re
import unicodedata

from faker import Faker

from simulator.directory import (
    Directory,
    Limits,
    Organization,
    PublicFolder,
    User,
    VirtualServer,
)

PEOPLE = 24  # plus the administrator: about 25 mailboxes
# (path, newsgroup suffix or None): parents come before their children.
FOLDERS = [
    ("Announcements", "announce"),
    ("Marketing", None),
    ("Marketing/Press Releases", "marketing.press"),
    ("Sales", None),
    ("Sales/Leads", None),
    ("Engineering", None),
    ("Engineering/Discussion", "engineering.discussion"),
    ("Human Resources/Policies", None),
    ("Social/Classifieds", "social.classifieds"),
]


def build_demo(seed: int = 0) -> Directory:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    company = fake.company()
    slug = _domain_label(company)
    primary, secondary = f"{slug}.test", f"{slug}-mail.test"

    d = Directory(Organization(name=company, fqdn=f"exch01.{primary}"))
    d.add_local_domain(primary)
    d.add_local_domain(secondary)
    d.add_user(User("administrator", "Administrator", fake.password(length=14, special_chars=False),
                    [f"administrator@{primary}", f"postmaster@{primary}"]))
    for _ in range(PEOPLE):
        first, last = fake.first_name(), fake.last_name()
        alias = _unique_alias(d, _slug(first[0] + last, sep=""))
        addresses = [f"{_slug(first, sep='')}.{_slug(last, sep='')}@{primary}"]
        if d.find_address(addresses[0]):  # two people of one name: the alias tells them apart
            addresses = [f"{alias}@{primary}"]
        if fake.boolean(chance_of_getting_true=40):
            addresses.append(f"{alias}@{secondary}")
        d.add_user(User(alias, f"{first} {last}", fake.password(length=12, special_chars=False), addresses))

    chosen = sorted(fake.random_sample(range(len(FOLDERS)), length=fake.random_int(5, 8)))
    for index in chosen:
        path, group = FOLDERS[index]
        d.add_public_folder(PublicFolder(path, fake.catch_phrase(), f"{slug}.{group}" if group else None))

    d.add_virtual_server(VirtualServer("smtp-1", "smtp", name="Default SMTP Virtual Server", tls="starttls"))
    d.add_virtual_server(VirtualServer("smtp-2", "smtp", name="Internet Relay", tls="none", auth_methods=[],
                                       banner=f"{d.organization.fqdn} Internet relay ready"))
    d.add_virtual_server(VirtualServer("pop3-1", "pop3", name="Default POP3 Virtual Server", tls="starttls",
                                       auth_methods=["USER", "APOP", "PLAIN", "LOGIN"], plaintext_auth=False))
    d.add_virtual_server(VirtualServer("pop3-2", "pop3", name="Secure POP3 Virtual Server", tls="implicit",
                                       auth_methods=["USER", "PLAIN", "LOGIN"]))
    d.add_virtual_server(VirtualServer("imap-1", "imap", name="Default IMAP4 Virtual Server", tls="starttls",
                                       plaintext_auth=False, limits=Limits(line_length=65536)))
    d.add_virtual_server(VirtualServer("imap-2", "imap", name="Secure IMAP4 Virtual Server", tls="implicit",
                                       limits=Limits(line_length=65536)))
    d.add_virtual_server(VirtualServer("http-1", "http", name="Default Web Site", tls="none",
                                       auth_methods=["BASIC"]))
    return d


def _domain_label(company: str) -> str:
    """"Smith, Jones and Brown" -> "smith", "Chang-Fisher" -> "chang-fisher", "Lee LLC" -> "lee"."""
    words = _slug(company.split(",")[0]).split("-")
    kept = [w for w in words if w not in _COMPANY_SUFFIXES]
    return "-".join(kept or words) or "demo"


_COMPANY_SUFFIXES = {"inc", "llc", "ltd", "plc", "group", "and", "sons"}


def _slug(text: str, sep: str = "-") -> str:
    """Lower-case ASCII letters and digits, other runs replaced by `sep`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", sep, ascii_text.lower()).strip("-")


def _unique_alias(directory: Directory, alias: str) -> str:
    candidate, n = alias, 1
    while candidate in directory.users or candidate in ("administrator", "postmaster"):
        n += 1
        candidate = f"{alias}{n}"
    return candidate
