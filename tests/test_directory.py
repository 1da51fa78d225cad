"""The directory: validation, queries, change notifications, the TOML file, minimal and demo contents."""
from __future__ import annotations

import pytest

from simulator.demo import build_demo
from simulator.directory import (
    Directory,
    Limits,
    Organization,
    PublicFolder,
    SinkBinding,
    User,
    VirtualServer,
)
from simulator.directory_toml import dumps_toml, load_toml, loads_toml, save_toml


@pytest.fixture
def d() -> Directory:
    return Directory.minimal()


# -- the dataclasses check their own fields -------------------------------------------------------
@pytest.mark.parametrize("field, value, message", [
    ("line_length", 999, "line_length: 999 is too small: must be at least 1000"),
    ("message_size", 65535, "RFC 5321 4.5.3.1.7"),
    ("recipients", 99, "at least 100"),
    ("connections", 0, "connections"),
    ("idle_timeout", 0, "idle_timeout"),
    ("idle_timeout", float("inf"), "finite"),
    ("line_length", "4096", "must be an integer"),
    ("line_length", True, "must be an integer"),
])
def test_limits_below_the_rfc_floors_are_refused(field, value, message):
    with pytest.raises(ValueError, match=message):
        Limits(**{field: value})


def test_limits_take_an_integer_timeout_as_seconds():
    assert Limits(idle_timeout=30).idle_timeout == 30.0
    assert isinstance(Limits(idle_timeout=30).idle_timeout, float)


@pytest.mark.parametrize("kwargs, message", [
    ({"protocol": "gopher"}, "unknown protocol 'gopher'; use one of smtp, pop3"),
    ({"tls": "ssl"}, "unknown TLS mode 'ssl'"),
    ({"port": 70000}, "port: 70000 is too large"),
    ({"port": -1}, "port: -1 is too small"),
    ({"auth_methods": ["APOP"]}, "'APOP' is not offered by smtp"),
    ({"auth_methods": ["PLAIN", "plain"]}, "lists a method twice"),
    ({"auth_methods": "PLAIN"}, "must be a list of strings"),
    ({"banner": "hello\r\n250 fake"}, "control character"),
    ({"bind": "not an address"}, "neither an IP address nor a host name"),
    ({"id": "smtp 1"}, "id: 'smtp 1' is not a valid id"),
    ({"limits": {"line_length": 2000}}, "limits: must be a Limits"),
])
def test_virtual_server_fields_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VirtualServer(**{"id": "smtp-1", "protocol": "smtp", **kwargs})


def test_virtual_server_normalises_case_and_has_exchange_defaults():
    vs = VirtualServer("pop3-9", "POP3", tls="Implicit", auth_methods=["user", "apop"])
    assert (vs.protocol, vs.tls, vs.auth_methods) == ("pop3", "implicit", ["USER", "APOP"])
    smtp = VirtualServer("smtp-9", "smtp")
    assert (smtp.bind, smtp.port, smtp.tls, smtp.auth_methods, smtp.enabled) == (
        "127.0.0.1", 0, "starttls", ["PLAIN", "LOGIN"], True)
    assert smtp.limits == Limits()
    assert VirtualServer("smtp-6", "smtp", bind="::1").bind == "::1"


@pytest.mark.parametrize("kwargs, message", [
    ({"alias": "al ice"}, "alias"),
    ({"password": ""}, "password: must not be empty"),
    ({"addresses": []}, "at least one SMTP address"),
    ({"addresses": ["alice"]}, "not an SMTP address"),
    ({"addresses": ["a@x.test", "A@X.test"]}, "lists an address twice"),
    ({"display_name": "Alice\n"}, "control character"),
])
def test_user_fields_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        User(**{"alias": "alice", "display_name": "Alice", "password": "pw", "addresses": ["a@x.test"], **kwargs})


def test_other_dataclasses_check_their_fields():
    with pytest.raises(ValueError, match="empty segment"):
        PublicFolder("Marketing//News")
    with pytest.raises(ValueError, match="newsgroup"):
        PublicFolder("News", newsgroup="bad name")
    with pytest.raises(ValueError, match="priority: 40000 is too large"):
        SinkBinding("s", "OnArrival", "Sink", priority=40000)
    with pytest.raises(ValueError, match="server_name"):
        Organization("Org", server_name="A-NAME-TOO-LONG-FOR-NETBIOS")
    with pytest.raises(ValueError, match="fqdn"):
        Organization("Org", fqdn="exch01..test")


# -- directory-wide rules ---------------------------------------------------------------------------
def test_duplicates_are_refused_case_insensitively(d):
    with pytest.raises(ValueError, match="user 'Alice' already exists"):
        d.add_user(User("Alice", "A", "pw", ["alice2@wireproof.test"]))
    with pytest.raises(ValueError, match="already belongs to user 'alice'"):
        d.add_user(User("carol", "Carol", "pw", ["ALICE@wireproof.test"]))
    with pytest.raises(ValueError, match="virtual server 'smtp-1' already exists"):
        d.add_virtual_server(VirtualServer("smtp-1", "smtp"))
    with pytest.raises(ValueError, match="local domain 'wireproof.test' already exists"):
        d.add_local_domain("WIREPROOF.test")
    with pytest.raises(ValueError, match="already exists"):
        d.add_public_folder(PublicFolder("announcements"))


def test_addresses_must_be_in_a_local_domain(d):
    with pytest.raises(ValueError, match=r"'carol@example.com' is not in a local domain \(local: wireproof.test\)"):
        d.add_user(User("carol", "Carol", "pw", ["carol@example.com"]))
    d.add_local_domain("Example.COM")
    assert d.local_domains == ["wireproof.test", "example.com"]
    d.add_user(User("carol", "Carol", "pw", ["carol@example.com"]))
    with pytest.raises(ValueError, match="still used by user 'carol'"):
        d.remove_local_domain("example.com")
    d.remove_user("carol")
    d.remove_local_domain("EXAMPLE.com")
    assert not d.is_local_domain("example.com")


def test_newsgroups_and_fixed_bindings_are_unique(d):
    d.add_public_folder(PublicFolder("News", newsgroup="wireproof.news"))
    with pytest.raises(ValueError, match="already published by 'News'"):
        d.add_public_folder(PublicFolder("Other", newsgroup="Wireproof.News"))
    d.update_virtual_server("smtp-1", port=2525)
    with pytest.raises(ValueError, match="127.0.0.1:2525 is already used by 'smtp-1'"):
        d.add_virtual_server(VirtualServer("smtp-2", "smtp", port=2525))
    d.add_virtual_server(VirtualServer("smtp-3", "smtp", port=0))  # 0 never collides


def test_updates_check_fields_and_refuse_key_changes(d):
    with pytest.raises(ValueError, match="virtual server 'smtp-1': unknown field 'prot'"):
        d.update_virtual_server("smtp-1", prot=25)
    with pytest.raises(ValueError, match="protocol cannot change"):
        d.update_virtual_server("smtp-1", protocol="pop3")
    with pytest.raises(ValueError, match="virtual server 'smtp-1': tls: unknown TLS mode"):
        d.update_virtual_server("smtp-1", tls="ssl")
    with pytest.raises(ValueError, match="limits: line_length: 10 is too small"):
        d.update_virtual_server("smtp-1", limits={"line_length": 10})
    with pytest.raises(ValueError, match="did you mean 'password'"):
        d.update_user("alice", pasword="x")
    with pytest.raises(ValueError, match="no virtual server 'nope'"):
        d.remove_virtual_server("nope")
    with pytest.raises(ValueError, match="no user 'nope'"):
        d.remove_user("nope")


def test_update_merges_a_dict_of_limits(d):
    d.update_virtual_server("smtp-1", limits={"message_size": 1_048_576}, banner="ready")
    vs = d.virtual_servers["smtp-1"]
    assert (vs.limits.message_size, vs.limits.line_length, vs.banner) == (1_048_576, 4096, "ready")


def test_objects_handed_in_are_copied_and_views_are_read_only(d):
    user = User("carol", "Carol", "pw", ["carol@wireproof.test"])
    d.add_user(user)
    user.addresses.append("sneaky@wireproof.test")
    assert d.find_address("sneaky@wireproof.test") is None
    with pytest.raises(TypeError):
        d.users["mallory"] = user  # type: ignore[index]


# -- queries --------------------------------------------------------------------------------------
def test_find_address_is_case_insensitive(d):
    alice = d.users["alice"]
    assert d.find_address("alice@wireproof.test") is alice
    assert d.find_address("ALICE@WireProof.TEST") is alice
    assert d.find_address("Postmaster@wireproof.test") is alice
    assert d.find_address("carol@wireproof.test") is None
    assert d.find_address("alice") is None


def test_is_local_domain_is_case_insensitive(d):
    assert d.is_local_domain("wireproof.test")
    assert d.is_local_domain("WIREPROOF.Test")
    assert d.is_local_domain("wireproof.test.")
    assert not d.is_local_domain("example.com")


@pytest.mark.parametrize("name", ["alice", "ALICE", "alice@wireproof.test", "Postmaster@WIREPROOF.TEST"])
def test_authenticate_by_alias_or_any_address(d, name):
    assert d.authenticate(name, "alice-pw") is d.users["alice"]


@pytest.mark.parametrize("name, password", [("alice", "bob-pw"), ("alice", "ALICE-PW"), ("carol", "x"),
                                            ("bob@wireproof.test", "alice-pw"), ("alice", "")])
def test_authenticate_refuses_wrong_names_and_passwords(d, name, password):
    assert d.authenticate(name, password) is None


def test_virtual_servers_of(d):
    assert [vs.id for vs in d.virtual_servers_of("smtp")] == ["smtp-1"]
    assert [vs.id for vs in d.virtual_servers_of("POP3")] == ["pop3-1"]
    assert d.virtual_servers_of("imap") == []


# -- change notifications -------------------------------------------------------------------------
def test_every_change_bumps_the_usn_and_notifies(d):
    seen: list[int] = []
    unsubscribe = d.subscribe(seen.append)
    start = d.usn
    d.add_local_domain("example.test")
    d.add_user(User("carol", "Carol", "pw", ["carol@example.test"]))
    d.update_user("carol", password="new")
    d.add_virtual_server(VirtualServer("imap-1", "imap"))
    d.update_virtual_server("imap-1", port=1143)
    d.add_public_folder(PublicFolder("Sales"))
    d.add_sink(SinkBinding("log", "OnArrival", "Logger"))
    d.update_organization(fqdn="mail.wireproof.test")
    d.remove_sink("log")
    d.remove_public_folder("sales")
    d.remove_virtual_server("imap-1")
    d.remove_user("CAROL")
    d.remove_local_domain("example.test")
    assert seen == list(range(start + 1, start + 14))
    assert d.usn == start + 13
    unsubscribe()
    d.add_local_domain("quiet.test")
    assert seen[-1] == start + 13


def test_refused_and_empty_changes_do_not_bump_the_usn(d):
    start = d.usn
    with pytest.raises(ValueError):
        d.add_user(User("dave", "Dave", "pw", ["dave@elsewhere.test"]))
    d.update_user("alice", password="alice-pw")
    d.update_virtual_server("smtp-1", limits={"line_length": 4096})
    assert d.usn == start


def test_a_failing_subscriber_does_not_starve_the_others(d):
    seen = []

    def broken(usn: int) -> None:
        raise RuntimeError("boom")

    d.subscribe(broken)
    d.subscribe(seen.append)
    with pytest.raises(RuntimeError, match="boom"):
        d.add_local_domain("example.test")
    assert seen == [d.usn]
    assert d.is_local_domain("example.test")


# -- minimal and demo -----------------------------------------------------------------------------
def test_minimal_contents(d):
    assert d.organization.name == "Wireproof"
    assert d.local_domains == ["wireproof.test"]
    assert set(d.users) == {"alice", "bob"}
    assert d.authenticate("bob", "bob-pw") is d.users["bob"]
    assert d.find_address("postmaster@wireproof.test") is d.users["alice"]
    assert [(vs.id, vs.protocol, vs.tls) for vs in d.virtual_servers.values()] == [
        ("smtp-1", "smtp", "starttls"), ("pop3-1", "pop3", "starttls")]
    assert list(d.public_folders) == ["Announcements"]


def test_demo_is_deterministic_per_seed():
    assert build_demo(3) == build_demo(3)
    assert build_demo(3).to_dict() != build_demo(4).to_dict()
    assert build_demo() == build_demo(0)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_demo_contents(seed):
    d = build_demo(seed)
    assert d.organization.name and d.organization.name != "Wireproof"
    assert len(d.local_domains) == 2 and all(dom.endswith(".test") for dom in d.local_domains)
    assert 23 <= len(d.users) <= 27
    primary, secondary = d.local_domains
    assert d.find_address(f"postmaster@{primary}") is not None
    assert any(a.endswith("@" + secondary) for u in d.users.values() for a in u.addresses[1:])
    for user in d.users.values():
        assert " " in user.display_name or user.alias == "administrator"
        assert user.addresses[0].endswith("@" + primary)
        assert d.authenticate(user.alias, user.password) is user
    assert 5 <= len(d.public_folders) <= 8
    assert any(f.newsgroup for f in d.public_folders.values())
    servers = {vs.id: vs for vs in d.virtual_servers.values()}
    assert [(vs.protocol, vs.name, vs.tls) for vs in servers.values()] == [
        ("smtp", "Default SMTP Virtual Server", "starttls"), ("smtp", "Internet Relay", "none"),
        ("pop3", "Default POP3 Virtual Server", "starttls"), ("pop3", "Secure POP3 Virtual Server", "implicit"),
        ("imap", "Default IMAP4 Virtual Server", "starttls"), ("imap", "Secure IMAP4 Virtual Server", "implicit"),
        ("http", "Default Web Site", "none")]
    assert all(vs.port == 0 for vs in servers.values())


# -- dict and TOML forms --------------------------------------------------------------------------
def test_dict_round_trip(d):
    d.add_sink(SinkBinding("archive", "OnArrival", "Wireproof.ArchiveSink", priority=100, rule="rcpt to=*@x"))
    d.add_public_folder(PublicFolder("Marketing/News", "Press", "wireproof.marketing.news"))
    again = Directory.from_dict(d.to_dict())
    assert again == d
    assert again.to_dict() == d.to_dict()
    assert "usn" not in d.to_dict()


@pytest.mark.parametrize("seed", [0, 5])
def test_toml_round_trip(tmp_path, seed):
    d = build_demo(seed)
    d.add_sink(SinkBinding("archive", "OnArrival", "Wireproof.ArchiveSink", enabled=False))
    d.update_virtual_server("smtp-1", banner='quoted "banner" \\ with\ttab', limits={"idle_timeout": 0.25})
    path = tmp_path / "org.toml"
    save_toml(d, path)
    assert load_toml(path) == d


def test_a_hand_written_file_with_defaults():
    d = loads_toml('''
        local_domains = ["Wireproof.test"]

        [[users]]
        alias = "alice"
        display_name = "Alice"
        password = "pw"
        addresses = ["alice@wireproof.test"]

        [[virtual_servers]]
        id = "smtp-1"
        protocol = "smtp"
        limits = { message_size = 1048576, idle_timeout = 30 }
    ''')
    assert d.organization == Organization("Wireproof")
    assert d.local_domains == ["wireproof.test"]
    vs = d.virtual_servers["smtp-1"]
    assert vs.limits == Limits(message_size=1_048_576, idle_timeout=30.0)
    assert vs.tls == "starttls"
    assert loads_toml("") == Directory()


def test_saved_file_reads_like_the_documented_format(d):
    text = dumps_toml(d)
    assert text.startswith('local_domains = ["wireproof.test"]\n\n[organization]\nname = "Wireproof"\n')
    assert '[[users]]\nalias = "alice"\n' in text
    assert "limits = { line_length = 4096, " in text
    assert "newsgroup" not in text  # None is left out: TOML has no null


@pytest.mark.parametrize("text, message", [
    ('local_domains = ["x.test"]\n[[users]]\nalias = "a"\ndisplay_name = "A"\npasword = "p"\naddresses = ["a@x.test"]',
     r"^org.toml: \[\[users\]\] #1 \(alias 'a'\): unknown key 'pasword' \(did you mean 'password'\?\); known keys: "),
    ('[[users]]\nalias = "a"\ndisplay_name = "A"\naddresses = ["a@x.test"]',
     r"\[\[users\]\] #1 \(alias 'a'\): missing key 'password'; add password = \.\.\."),
    ('[[users]]\nalias = "a"\ndisplay_name = "A"\npassword = "p"\naddresses = ["a@x.test"]',
     r"\[\[users\]\] #1: user 'a': address 'a@x.test' is not in a local domain \(local: none\); add the domain"),
    ('[[virtual_servers]]\nid = "s"\nprotocol = "smtp"\nlimits = { line_length = 80 }',
     r"\[\[virtual_servers\]\] #1 \(id 's'\): limits.line_length: 80 is too small: must be at least 1000"),
    ('[[virtual_servers]]\nid = "s"\nprotocol = "smtp"\nlimits = { line_lenght = 2000 }',
     r"unknown key 'limits.line_lenght' \(did you mean 'line_length'\?\)"),
    ('[[virtual_servers]]\nid = "s"\nprotocol = "smtp"\nport = "25"',
     r"\[\[virtual_servers\]\] #1 \(id 's'\): port: must be an integer \(no quotes"),
    ('[[virtual_servers]]\nid = "s"\nprotocol = "smtp"\n[[virtual_servers]]\nid = "s"\nprotocol = "pop3"',
     r"\[\[virtual_servers\]\] #2: virtual server 's' already exists"),
    ('[users]\nalias = "a"', r"users: must be an array of tables; write each entry as \[\[users\]\]"),
    ('local_domains = "x.test"', r"local_domains: must be a list of strings"),
    ('local_domains = ["bad domain"]', r"local_domains: local domain: 'bad domain' is not a valid domain name"),
    ('[organization]\nname = "X"\nfqdn = "no spaces.test"', r"\[organization\]: fqdn: 'no spaces.test'"),
    ('[organisation]\nname = "X"', r"top level: unknown key 'organisation' \(did you mean 'organization'\?\)"),
    ('[[public_folders]]\npath = "A"\nnewsgroup = "a b"', r"\[\[public_folders\]\] #1 \(path 'A'\): newsgroup"),
    ('[[sinks]]\nid = "s"\nevent = "OnArrival"\nsink = "X"\npriority = -1', r"\[\[sinks\]\] #1 \(id 's'\): priority"),
    ("local_domains = [", r"^org.toml: not valid TOML: "),
])
def test_file_errors_are_one_line_naming_the_key_and_the_fix(text, message):
    with pytest.raises(ValueError, match=message) as info:
        loads_toml(text, "org.toml")
    assert "\n" not in str(info.value)
