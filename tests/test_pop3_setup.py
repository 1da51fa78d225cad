"""How POP3 checks get their maildrop: the [pop3] profile section, the `maildrop` need, whose maildrop it is,
and the run-wide lock that makes checks on one account take turns."""
from __future__ import annotations

import asyncio

import pytest

from conformance.context import Capabilities, CheckContext, RunOptions
from conformance.discovery import unmet_need
from conformance.errors import UsageError
from conformance.fill import pop3_account
from conformance.model import Check, Kind, Level, Skip
from conformance.target import load_profile

PROFILE = """name = "t"
[endpoints]
pop3 = "pop3://127.0.0.1:1110"
imap = "imap://127.0.0.1:1143"
[[accounts]]
user = "alice"
password = "a"
address = "alice@example.test"
[[accounts]]
user = "bob"
password = "b"
address = "bob@example.test"
[readback]
url = "imap://alice:a@127.0.0.1:1143/INBOX"
"""


def profile(tmp_path, extra: str = "", base: str = PROFILE):
    path = tmp_path / "p.toml"
    path.write_text(base + extra)
    return load_profile(path)


def context(target) -> CheckContext:
    check = Check(id="pop3.t.t", protocol="pop3", rfc=("rfc1939#5",), level=Level.MUST, requirement="t",
                  kind=Kind.PROBE, run=None)
    return CheckContext(check, target, {"pop3": Capabilities("pop3")}, RunOptions())


def test_pop3_section_names_the_fill_channel_and_user(tmp_path):
    target = profile(tmp_path, '[pop3]\nfill = "imap"\nuser = "alice"\n')
    assert (target.pop3_fill, target.pop3_user) == ("imap", "alice")
    assert profile(tmp_path).pop3_fill is None


@pytest.mark.parametrize("section, words", [
    ('[pop3]\nfill = "pigeon"\n', 'use "smtp" or "imap"'),
    ('[pop3]\nfill = "smtp"\n', "needs an smtp endpoint"),
    ('[pop3]\nuser = "carol"\n', "not one of the [[accounts]]"),
    ('[pop3]\nfil = "imap"\n', "unknown key 'fil' in [pop3]"),
    ('pop3 = "imap"\n', "must be a table"),
])
def test_bad_pop3_sections_are_one_line_usage_errors(tmp_path, section, words):
    top_level = not section.startswith("[")  # a bare key must come before the first table
    with pytest.raises(UsageError) as err:
        profile(tmp_path, "" if top_level else section, base=section + PROFILE if top_level else PROFILE)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_maildrop_need_names_the_profile_setting(tmp_path):
    caps = Capabilities("pop3")
    target = profile(tmp_path)
    verdict, reason = unmet_need("maildrop", "pop3", target, caps)
    assert verdict == "skip" and '[pop3] fill = "smtp" or "imap"' in reason
    assert unmet_need("maildrop", "pop3", profile(tmp_path, '[pop3]\nfill = "imap"\n'), caps) is None
    target.accounts = []
    assert "no account" in unmet_need("maildrop", "pop3", target, caps)[1]


def test_the_pop3_account_is_not_the_read_back_mailbox_unless_named(tmp_path):
    assert pop3_account(context(profile(tmp_path))).user == "bob"
    assert pop3_account(context(profile(tmp_path, '[pop3]\nuser = "alice"\n'))).user == "alice"
    target = profile(tmp_path)
    target.accounts = []
    with pytest.raises(Skip):
        pop3_account(context(target))


def test_exclusive_makes_checks_on_one_key_take_turns_and_is_reentrant(tmp_path):
    target = profile(tmp_path)
    options = RunOptions()
    log: list[str] = []

    async def one(name: str) -> None:
        ctx = CheckContext(context(target).check, target, {}, options)
        async with ctx.exclusive("pop3:bob"):
            async with ctx.exclusive("pop3:bob"):  # a helper of the same check asking again
                log.append(f"{name} in")
                await asyncio.sleep(0.01)
                log.append(f"{name} out")

    async def main() -> None:
        await asyncio.gather(one("a"), one("b"))

    asyncio.run(main())
    assert log in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
