"""The messages the IMAP probes put into their scratch mailboxes, and what a server must say about them.

Every message is fixed text with CRLF line ends, so its size, its header, its MIME structure and the
answers to searches over it are known in advance: the probes compare what the server reports (RFC822.SIZE,
ENVELOPE, BODYSTRUCTURE, BODY[...] sections, SEARCH results) with these constants.
"""
from __future__ import annotations

import base64


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


# A plain RFC 5322 message without MIME headers (it has only a part 1).
PLAIN = crlf("""\
Date: Mon, 7 Feb 1994 21:52:25 -0800
From: Fred Foobar <foobar@example.org>
Subject: afternoon meeting
To: mooch@example.net
Message-ID: <plain.1@wireproof.invalid>

Hello Joe, do you think we can meet at 3:30 tomorrow?
A second line of the body.
""")
PLAIN_HEADER, PLAIN_BODY = PLAIN.split(b"\r\n\r\n", 1)
PLAIN_HEADER += b"\r\n\r\n"  # HEADER includes the blank line (RFC 3501 6.4.5)

# Every envelope field present, in an unusual order, so ENVELOPE's fixed order is visible.
FULL = crlf("""\
Message-ID: <full.2@wireproof.invalid>
In-Reply-To: <plain.1@wireproof.invalid>
Bcc: Hidden <hidden@example.com>
Cc: Carol <carol@example.com>, dave@example.com
To: Joe Mooch <mooch@example.net>
Reply-To: Replies <replies@example.org>
Sender: Secretary <secretary@example.org>
From: Fred Foobar <foobar@example.org>
Subject: Re: afternoon meeting
Date: Tue, 8 Feb 1994 09:10:11 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Yes, 3:30 works.
""")

# multipart/mixed: a text part and a base64 part whose decoded octets include NUL and 8-bit octets.
BINARY_OCTETS = bytes(range(0, 256)) + b"\x00\x00wireproof\x00"
_B64 = base64.encodebytes(BINARY_OCTETS).decode("ascii").replace("\n", "\r\n")
MULTI_TEXT_PART = b"The text part.\r\nSecond line."  # the CRLF before a boundary belongs to the boundary
MULTI = crlf("""\
Date: Wed, 9 Feb 1994 10:00:00 +0000
From: Attach Ment <attach@example.org>
To: mooch@example.net
Subject: two parts
Message-ID: <multi.3@wireproof.invalid>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="wp-boundary"

This is the preamble.
--wp-boundary
Content-Type: text/plain; charset=us-ascii

The text part.
Second line.
--wp-boundary
Content-Type: application/octet-stream; name="blob.bin"
Content-Transfer-Encoding: base64
Content-Description: some octets

""") + _B64.encode("ascii") + crlf("""\
--wp-boundary--
""")
MULTI_PART2_ENCODED = _B64.encode("ascii")[:-2]

# 8-bit UTF-8 body, declared as such.
EIGHTBIT = crlf("""\
Date: Thu, 10 Feb 1994 10:00:00 +0000
From: Ümlaut Sender <sender@example.org>
To: mooch@example.net
Subject: eight bit
Message-ID: <eightbit.4@wireproof.invalid>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Grüße aus Zürich — ½ € ✓
""")
EIGHTBIT_BODY = EIGHTBIT.split(b"\r\n\r\n", 1)[1]

# Four messages for SEARCH, SORT and THREAD: distinct senders, recipients, subjects, dates, sizes.
SEARCH_SET = [
    crlf("""\
Date: Sat, 1 Jan 2000 08:00:00 +0000
From: Alpha <alpha@one.example>
To: Zulu <zulu@two.example>
Cc: Kilo <kilo@three.example>
Subject: Banana report
Message-ID: <s1@wireproof.invalid>
X-Wireproof-Kind: fruit

The banana harvest was large this year.
"""),
    crlf("""\
Date: Sun, 2 Jan 2000 08:00:00 +0000
From: Bravo <bravo@one.example>
To: Yankee <yankee@two.example>
Subject: Re: Banana report
Message-ID: <s2@wireproof.invalid>
In-Reply-To: <s1@wireproof.invalid>
References: <s1@wireproof.invalid>

Thanks for the numbers. QUOKKA is the word of the day.
"""),
    crlf("""\
Date: Mon, 3 Jan 2000 08:00:00 +0000
From: Charlie <charlie@four.example>
To: Zulu <zulu@two.example>
Subject: apple pie
Message-ID: <s3@wireproof.invalid>
X-Wireproof-Kind: dessert

A much longer message about apples, so that LARGER and SMALLER can tell it apart.
""" + "Apples are grown in orchards all over the world.\n" * 20),
    crlf("""\
Date: Tue, 4 Jan 2000 08:00:00 +0000
From: Delta <delta@one.example>
To: Xray <xray@five.example>
Subject: Cherry
Message-ID: <s4@wireproof.invalid>

Short.
"""),
]
# Internal dates given with APPEND (so SINCE/BEFORE/ON have something to decide on).
SEARCH_DATES = ["01-Feb-2001 10:00:00 +0000", "02-Feb-2001 10:00:00 +0000", "03-Feb-2001 10:00:00 +0000",
                "04-Feb-2001 10:00:00 +0000"]
SEARCH_FLAGS = [r"\Seen", r"\Flagged \Answered", r"\Seen \Draft", None]
