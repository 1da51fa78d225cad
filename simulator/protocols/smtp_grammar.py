"""The RFC 5321 grammar the SMTP server parses, each rule next to its regular expression (section 4.1.2),
plus the ESMTP parameters of the extensions the server offers."""
from __future__ import annotations

import re
from dataclasses import dataclass

# Let-dig = ALPHA / DIGIT ;  Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
# sub-domain = Let-dig [Ldh-str] ;  Domain = sub-domain *("." sub-domain)
SUB_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
DOMAIN = rf"{SUB_DOMAIN}(?:\.{SUB_DOMAIN})*"
# address-literal = "[" ( IPv4-address-literal / IPv6-address-literal / General-address-literal ) "]"
ADDRESS_LITERAL = r"\[[^\[\]\\\s]+\]"
# atext (RFC 5322) ;  Atom = 1*atext ;  Dot-string = Atom *("." Atom)
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
DOT_STRING = rf"{ATEXT}+(?:\.{ATEXT}+)*"
# Quoted-string = DQUOTE *QcontentSMTP DQUOTE ; QcontentSMTP = qtextSMTP / quoted-pairSMTP
QUOTED_STRING = r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"'
LOCAL_PART = rf"(?:{DOT_STRING}|{QUOTED_STRING})"
# Mailbox = Local-part "@" ( Domain / address-literal )
MAILBOX = rf"{LOCAL_PART}@(?:{DOMAIN}|{ADDRESS_LITERAL})"
# A-d-l = At-domain *( "," At-domain ) ; At-domain = "@" Domain  (source routes: accepted, ignored)
ADL = rf"@{DOMAIN}(?:,@{DOMAIN})*"
# Path = "<" [ A-d-l ":" ] Mailbox ">"
PATH_RE = re.compile(rf"^<(?:{ADL}:)?(?P<mailbox>{MAILBOX})>$")
# esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") ; esmtp-value = 1*(%d33-60 / %d62-126)
PARAM_RE = re.compile(r"^(?P<key>[A-Za-z0-9][A-Za-z0-9-]*)(?:=(?P<value>[\x21-\x3c\x3e-\x7e]+))?$")
# xtext (RFC 3461 4) = *( xchar / hexchar ) ; hexchar = "+" 2HEXCHAR ; xchar = %d33-42 / %d44-60 / %d62-126
XTEXT_RE = re.compile(r"^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$")

LIMIT_LOCAL_PART = 64  # RFC 5321 4.5.3.1.1
LIMIT_DOMAIN = 255  # 4.5.3.1.2
LIMIT_PATH = 256  # 4.5.3.1.3, brackets included


class GrammarError(ValueError):
    """The argument does not follow the grammar; the message says how (it goes into the 501 reply)."""


@dataclass(frozen=True)
class Path:
    mailbox: str  # "" for the null reverse-path <>

    @property
    def domain(self) -> str:
        return self.mailbox.rpartition("@")[2]

    @property
    def local_part(self) -> str:
        return self.mailbox.rpartition("@")[0]


def parse_path(text: str, *, null_ok: bool = False, postmaster_ok: bool = False) -> Path:
    if null_ok and text == "<>":
        return Path("")
    if postmaster_ok and text.lower() == "<postmaster>":
        return Path("postmaster")
    if len(text) > LIMIT_PATH:
        raise GrammarError(f"path longer than {LIMIT_PATH} octets")
    m = PATH_RE.match(text)
    if not m:
        raise GrammarError("path syntax: expected <local-part@domain>")
    mailbox = m.group("mailbox")
    local, _, domain = mailbox.rpartition("@")
    if len(local) > LIMIT_LOCAL_PART:
        raise GrammarError(f"local part longer than {LIMIT_LOCAL_PART} octets")
    if len(domain) > LIMIT_DOMAIN:
        raise GrammarError(f"domain longer than {LIMIT_DOMAIN} octets")
    return Path(mailbox)


def split_command(argument: str, keyword: str) -> tuple[str, list[str]]:
    """'FROM:<a@b> SIZE=10' -> ('<a@b>', ['SIZE=10']). Tolerates spaces after the colon, a common client
    habit, but nothing else outside the grammar."""
    if not argument.upper().startswith(keyword):
        raise GrammarError(f"expected {keyword}")
    rest = argument[len(keyword):].lstrip(" ")
    if not rest:
        raise GrammarError(f"{keyword} needs a path in angle brackets")
    if rest.startswith("<"):
        end = _path_end(rest)
        path, params = rest[:end + 1], rest[end + 1:]
        if params and not params.startswith(" "):
            raise GrammarError("a space must separate the path from its parameters")
        return path, params.split()
    raise GrammarError("the path must be in angle brackets")


def _path_end(text: str) -> int:
    quoted = False
    i = 1
    while i < len(text):
        c = text[i]
        if c == "\\" and quoted:
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == ">" and not quoted:
            return i
        i += 1
    raise GrammarError("the path is not closed with '>'")


def parse_params(words: list[str]) -> dict[str, str | None]:
    """ESMTP parameters, keywords upper-cased; a repeated keyword is an error (RFC 3461 4.5, 5321 4.1.2)."""
    params: dict[str, str | None] = {}
    for word in words:
        m = PARAM_RE.match(word)
        if not m:
            raise GrammarError(f"malformed parameter {word!r}")
        key = m.group("key").upper()
        if key in params:
            raise GrammarError(f"parameter {key} given twice")
        params[key] = m.group("value")
    return params


def decode_xtext(value: str) -> str:
    if not XTEXT_RE.match(value):
        raise GrammarError("not valid xtext")
    return re.sub(r"\+([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), value)
