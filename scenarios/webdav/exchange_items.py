"""Exchange 2003's WebDAV extensions, part 2: items, their properties, attachments, the raw message, submission.

What Exchange documented (Exchange Server 2003 SDK; the property reference of the urn:schemas:httpmail:,
urn:schemas:mailheader:, urn:schemas:calendar: and urn:schemas:contacts: namespaces; "Getting an Item's Stream
(WebDAV)"; "X-MS-ENUMATTS Method"; "Sending a Message (WebDAV)"; MS-WDVSE for the Translate header):

- An item's properties come from what it is: a message PUT as message/rfc822 has DAV:contentclass
  urn:content-classes:message and its header fields as urn:schemas:httpmail: (subject, from, to, date,
  hasattachment, read) and urn:schemas:mailheader: properties; an appointment (text/calendar) has
  urn:schemas:calendar:dtstart and dtend; a contact (text/vcard) is urn:content-classes:person with
  urn:schemas:contacts: properties. PROPPATCH of httpmail:read marks a message read or unread.
- GET with "Translate: f" returns the item's stream untranslated: for a message, the RFC 822 octets as stored.
- X-MS-ENUMATTS on a message answers 207 with one response per attachment, whose href can be fetched with GET.
- The mailbox root names the special folders (httpmail:inbox, calendar, contacts, sentitems, deleteditems,
  drafts) and the mail submission URI (httpmail:sendmsg); a message/rfc822 body PUT or POSTed to the latter is
  sent, and by default a copy is kept in Sent Items.
"""
from __future__ import annotations

import datetime as dt
import email.utils
from urllib.parse import quote

from conformance.dialects.http_exchange import (CALENDAR, CONTACTS, HTTPMAIL, MAILHEADER, as_bool, as_instant,
                                                icalendar, message, vcard)
from conformance.registry import probe

from .common import XML, first, multistatus
from .exchange_common import EXCHANGE, RFC822, TRANSLATE_F, mailbox_scratch, url_path, wait_for_subject

CONTENTCLASS = "{DAV:}contentclass"
REF_PROPS = "ms-exchsdk#httpmail"
ATTACHMENTS = [("notes.txt", "text/plain", b"first attachment\r\nof the check\r\n"),
               ("data.bin", "application/octet-stream", bytes(range(256)))]


def hm(name: str) -> str:
    return f"{{{HTTPMAIL}}}{name}"


async def put_message(ex, name: str = "msg.eml", **kw) -> tuple[str, bytes]:
    body = message(ex.ctx.token, kw.pop("subject", f"item {ex.ctx.token}"), **kw)
    return await ex.put_item(name, body), body


# --- properties of a message ---------------------------------------------------------------------------------------

@probe("webdav.exchange.httpmail.subject-from-to", rfc=REF_PROPS, level="MUST", needs=EXCHANGE,
       tags=["exchange", "httpmail", "properties"],
       requirement="A message PUT as message/rfc822 has urn:schemas:httpmail:subject equal to its Subject field, and "
                   "httpmail:from and httpmail:to naming the addresses of its From and To fields.")
async def httpmail_fields(ctx):
    async with mailbox_scratch(ctx) as ex:
        path, _ = await put_message(ex, sender="sender@example.org", to="someone@example.net")
        entry, r = await ex.props(path, hm("subject"), hm("from"), hm("to"))
        ctx.expect(entry.value(hm("subject")) == f"item {ctx.token}", "httpmail:subject is the Subject field",
                   f"item {ctx.token}", r.show())
        ctx.expect("sender@example.org" in (entry.value(hm("from")) or ""), "httpmail:from names the From address",
                   "...sender@example.org...", r.show())
        ctx.expect("someone@example.net" in (entry.value(hm("to")) or ""), "httpmail:to names the To address",
                   "...someone@example.net...", r.show())


@probe("webdav.exchange.httpmail.date", rfc=REF_PROPS, level="MUST", needs=EXCHANGE,
       tags=["exchange", "httpmail", "properties"],
       requirement="urn:schemas:httpmail:date of a message is the instant of its Date field, as an ISO 8601 "
                   "date-time.")
async def httpmail_date(ctx):
    date = "Tue, 15 Nov 1994 08:12:31 -0500"
    async with mailbox_scratch(ctx) as ex:
        path, _ = await put_message(ex, date=date)
        entry, r = await ex.props(path, hm("date"))
        want = email.utils.parsedate_to_datetime(date).astimezone(dt.UTC)
        ctx.expect(as_instant(entry.value(hm("date"))) == want, "httpmail:date is the Date field's instant",
                   want.strftime("%Y-%m-%dT%H:%M:%SZ"), r.show())


@probe("webdav.exchange.httpmail.hasattachment", rfc=REF_PROPS, level="MUST", needs=EXCHANGE,
       tags=["exchange", "httpmail", "properties", "attachments"],
       requirement="urn:schemas:httpmail:hasattachment is true for a message with attachments and false for a "
                   "plain text one.")
async def httpmail_hasattachment(ctx):
    async with mailbox_scratch(ctx) as ex:
        plain, _ = await put_message(ex, "plain.eml")
        mixed, _ = await put_message(ex, "mixed.eml", attachments=ATTACHMENTS)
        for path, want in ((mixed, True), (plain, False)):
            entry, r = await ex.props(path, hm("hasattachment"))
            ctx.expect(as_bool(entry.value(hm("hasattachment"))) is want,
                       f"httpmail:hasattachment of {path.rsplit('/', 1)[-1]} is {want}", "1" if want else "0", r.show())


@probe("webdav.exchange.httpmail.read-proppatch", rfc=f"{REF_PROPS} rfc4918#9.2", level="MUST", needs=EXCHANGE,
       tags=["exchange", "httpmail", "proppatch"],
       requirement="PROPPATCH of urn:schemas:httpmail:read to 1 marks a message read (207 with 200, and it reads "
                   "back as true); setting it to 0 marks it unread again.")
async def httpmail_read(ctx):
    async with mailbox_scratch(ctx) as ex:
        path, _ = await put_message(ex)
        for value, want in (("1", True), ("0", False)):
            r, ms = await ex.proppatch(path, [("set", hm("read"), value)])
            entry = first(ms)
            ctx.expect(entry is not None and entry.prop_status(hm("read")) == 200,
                       f"PROPPATCH read={value} is answered 207 with 200 for it", "200", r.show())
            entry, pr = await ex.props(path, hm("read"))
            ctx.expect(as_bool(entry.value(hm("read"))) is want, f"httpmail:read reads back as {want}", value,
                       pr.show())


@probe("webdav.exchange.mailheader.fields", rfc="ms-exchsdk#mailheader", level="MUST", needs=EXCHANGE,
       tags=["exchange", "mailheader", "properties"],
       requirement="urn:schemas:mailheader:subject and :message-id of a message are the values of its Subject and "
                   "Message-ID header fields.")
async def mailheader_fields(ctx):
    async with mailbox_scratch(ctx) as ex:
        path, body = await put_message(ex)
        msgid = next(line[12:] for line in body.decode().split("\r\n") if line.startswith("Message-ID: "))
        names = [f"{{{MAILHEADER}}}subject", f"{{{MAILHEADER}}}message-id"]
        entry, r = await ex.props(path, *names)
        ctx.expect(entry.value(names[0]) == f"item {ctx.token}", "mailheader:subject is the Subject field",
                   f"item {ctx.token}", r.show())
        ctx.expect(entry.value(names[1]) == msgid, "mailheader:message-id is the Message-ID field", msgid, r.show())


@probe("webdav.exchange.contentclass.message", rfc="ms-exchsdk#contentclass", level="MUST", needs=EXCHANGE,
       tags=["exchange", "contentclass"],
       requirement="A message PUT as message/rfc822 has DAV:contentclass urn:content-classes:message.")
async def contentclass_message(ctx):
    async with mailbox_scratch(ctx) as ex:
        path, _ = await put_message(ex)
        entry, r = await ex.props(path, CONTENTCLASS)
        ctx.expect(entry.value(CONTENTCLASS) == "urn:content-classes:message", "DAV:contentclass of a message",
                   "urn:content-classes:message", r.show())


# --- appointments and contacts ----------------------------------------------------------------------------------

START = dt.datetime(2004, 3, 1, 9, 30, tzinfo=dt.UTC)
END = dt.datetime(2004, 3, 1, 11, 0, tzinfo=dt.UTC)


@probe("webdav.exchange.calendar.appointment", rfc="ms-exchsdk#calendar ms-exchsdk#contentclass", level="MUST",
       needs=EXCHANGE, tags=["exchange", "calendar", "contentclass"],
       requirement="An appointment PUT as text/calendar is urn:content-classes:appointment, with "
                   "urn:schemas:calendar:dtstart and dtend the instants of its DTSTART and DTEND.")
async def calendar_appointment(ctx):
    async with mailbox_scratch(ctx) as ex:
        path = await ex.put_item("meeting.ics", icalendar(f"{ctx.token}@wireproof.invalid", f"meeting {ctx.token}",
                                                         START, END), "text/calendar")
        names = [CONTENTCLASS, f"{{{CALENDAR}}}dtstart", f"{{{CALENDAR}}}dtend"]
        entry, r = await ex.props(path, *names)
        ctx.expect(entry.value(CONTENTCLASS) == "urn:content-classes:appointment", "DAV:contentclass of an "
                   "appointment", "urn:content-classes:appointment", r.show())
        ctx.expect(as_instant(entry.value(names[1])) == START, "calendar:dtstart is DTSTART", START.isoformat(),
                   r.show())
        ctx.expect(as_instant(entry.value(names[2])) == END, "calendar:dtend is DTEND", END.isoformat(), r.show())


@probe("webdav.exchange.contacts.person", rfc="ms-exchsdk#contacts ms-exchsdk#contentclass", level="MUST",
       needs=EXCHANGE, tags=["exchange", "contacts", "contentclass"],
       requirement="A contact PUT as text/vcard is urn:content-classes:person, and urn:schemas:contacts:email1 is "
                   "the address of its EMAIL line.")
async def contacts_person(ctx):
    email = f"{ctx.token}@example.org"
    async with mailbox_scratch(ctx) as ex:
        path = await ex.put_item("person.vcf", vcard("Ada", "Wireproof", email), "text/vcard")
        names = [CONTENTCLASS, f"{{{CONTACTS}}}email1"]
        entry, r = await ex.props(path, *names)
        ctx.expect(entry.value(CONTENTCLASS) == "urn:content-classes:person", "DAV:contentclass of a contact",
                   "urn:content-classes:person", r.show())
        ctx.expect(email in (entry.value(names[1]) or ""), "contacts:email1 is the vCard's EMAIL", email, r.show())


@probe("webdav.exchange.contacts.proppatch", rfc="ms-exchsdk#contacts rfc4918#9.2", level="MUST", needs=EXCHANGE,
       tags=["exchange", "contacts", "proppatch"],
       requirement="PROPPATCH sets urn:schemas:contacts: properties of a contact (givenName, sn): 207 with 200 for "
                   "each, and they read back with the new values.")
async def contacts_proppatch(ctx):
    async with mailbox_scratch(ctx) as ex:
        path = await ex.put_item("person.vcf", vcard("Ada", "Wireproof", f"{ctx.token}@example.org"), "text/vcard")
        given, sn = f"{{{CONTACTS}}}givenName", f"{{{CONTACTS}}}sn"
        r, ms = await ex.proppatch(path, [("set", given, "Grace"), ("set", sn, ctx.token)])
        entry = first(ms)
        ctx.expect(entry is not None and entry.prop_status(given) == 200 and entry.prop_status(sn) == 200,
                   "PROPPATCH of contacts:givenName and :sn is answered 207 with 200 for both", "200", r.show())
        entry, pr = await ex.props(path, given, sn)
        ctx.expect((entry.value(given), entry.value(sn)) == ("Grace", ctx.token), "the contact reads back the new "
                   "values", f"Grace / {ctx.token}", pr.show())


# --- special folders ---------------------------------------------------------------------------------------------

SPECIAL = ("inbox", "calendar", "contacts", "sentitems", "deleteditems", "drafts")


@probe("webdav.exchange.special-folders", rfc="ms-exchsdk#httpmail ms-exchsdk#special-folders", level="MUST",
       needs=EXCHANGE, tags=["exchange", "httpmail", "folders"],
       requirement="The mailbox root names its special folders in urn:schemas:httpmail:inbox, calendar, contacts, "
                   "sentitems, deleteditems and drafts, and each URL is a folder (PROPFIND finds a collection).")
async def special_folders(ctx):
    async with mailbox_scratch(ctx) as ex:
        entry, r = await ex.props(ex.mailbox, *(hm(n) for n in SPECIAL))
        for name in SPECIAL:
            value = entry.value(hm(name))
            ctx.expect(bool(value), f"the mailbox root names httpmail:{name}", "a URL", r.show())
            found, fr = await ex.props(url_path(value), "{DAV:}resourcetype")
            ctx.expect(found.is_collection is True, f"httpmail:{name} ({value}) is a folder", "DAV:collection",
                       fr.show())


async def _folder_class(ctx, special: str, want: str):
    async with mailbox_scratch(ctx) as ex:
        path = await ex.special(special)
        ctx.setup(path is not None, f"the mailbox root names httpmail:{special}", "a URL", "(none)")
        entry, r = await ex.props(path, CONTENTCLASS)
        ctx.expect(entry.value(CONTENTCLASS) == want, f"DAV:contentclass of the {special} folder", want, r.show())


@probe("webdav.exchange.contentclass.mailfolder", rfc="ms-exchsdk#contentclass", level="MUST", needs=EXCHANGE,
       tags=["exchange", "contentclass", "folders"],
       requirement="The Inbox has DAV:contentclass urn:content-classes:mailfolder.")
async def contentclass_mailfolder(ctx):
    await _folder_class(ctx, "inbox", "urn:content-classes:mailfolder")


@probe("webdav.exchange.contentclass.calendarfolder", rfc="ms-exchsdk#contentclass", level="MUST", needs=EXCHANGE,
       tags=["exchange", "contentclass", "folders"],
       requirement="The Calendar folder has DAV:contentclass urn:content-classes:calendarfolder.")
async def contentclass_calendarfolder(ctx):
    await _folder_class(ctx, "calendar", "urn:content-classes:calendarfolder")


@probe("webdav.exchange.contentclass.contactfolder", rfc="ms-exchsdk#contentclass", level="MUST", needs=EXCHANGE,
       tags=["exchange", "contentclass", "folders"],
       requirement="The Contacts folder has DAV:contentclass urn:content-classes:contactfolder.")
async def contentclass_contactfolder(ctx):
    await _folder_class(ctx, "contacts", "urn:content-classes:contactfolder")


# --- the raw message and its attachments -----------------------------------------------------------------------------

@probe("webdav.exchange.translate-f.raw-message", rfc="ms-exchsdk#translate ms-wdvse#3.2.5.1", level="MUST",
       needs=EXCHANGE, tags=["exchange", "translate", "get"],
       requirement="GET of a message with Translate: f returns its RFC 822 octets exactly as they were stored, "
                   "attachments and all.")
async def translate_raw(ctx):
    async with mailbox_scratch(ctx) as ex:
        path, body = await put_message(ex, attachments=ATTACHMENTS)
        r = await ex.get(path, [TRANSLATE_F])
        ctx.expect(r.status == 200 and r.body == body, "GET with Translate: f returns the message byte for byte",
                   body.decode("utf-8", "replace"), r.show(200))


async def _enumatts(ctx, ex, path):
    r = await ex.request("X-MS-ENUMATTS", path, [XML, TRANSLATE_F])
    ms = multistatus(r)
    ctx.expect(ms is not None, "X-MS-ENUMATTS is answered 207 Multi-Status", "HTTP/1.1 207 Multi-Status", r.show())
    return r, ms


@probe("webdav.exchange.enumatts.lists-attachments", rfc="ms-exchsdk#x-ms-enumatts", level="MUST",
       needs=EXCHANGE + ["METHOD=X-MS-ENUMATTS"], tags=["exchange", "attachments"],
       requirement="X-MS-ENUMATTS on a message with two attachments answers 207 with one response per attachment, "
                   "each naming its file in urn:schemas:httpmail:attachmentfilename.")
async def enumatts_lists(ctx):
    async with mailbox_scratch(ctx) as ex:
        path, _ = await put_message(ex, attachments=ATTACHMENTS)
        r, ms = await _enumatts(ctx, ex, path)
        names = sorted(e.value(hm("attachmentfilename")) or "" for e in ms.responses)
        want = sorted(n for n, _, _ in ATTACHMENTS)
        ctx.expect(names == want, "one response per attachment, with its file name", "\n".join(want), r.show())


@probe("webdav.exchange.enumatts.get-attachment", rfc="ms-exchsdk#x-ms-enumatts ms-exchsdk#translate",
       level="MUST", needs=EXCHANGE + ["METHOD=X-MS-ENUMATTS"], tags=["exchange", "attachments", "get"],
       requirement="The href X-MS-ENUMATTS gives for an attachment can be fetched with GET, which returns the "
                   "attachment's content decoded (here: all 256 octet values, sent in base64).")
async def enumatts_get(ctx):
    async with mailbox_scratch(ctx) as ex:
        path, _ = await put_message(ex, attachments=ATTACHMENTS)
        r, ms = await _enumatts(ctx, ex, path)
        entry = next((e for e in ms.responses if e.value(hm("attachmentfilename")) == "data.bin"), None)
        ctx.setup(entry is not None, "X-MS-ENUMATTS lists data.bin", "data.bin", r.show())
        got = await ex.get(quote(url_path(entry.href), safe="/%"), [TRANSLATE_F])
        ctx.expect(got.status == 200 and got.body == ATTACHMENTS[1][2], "GET of the attachment's href returns its "
                   "octets", "200 and the 256 octets 00..ff", got.show(10))


@probe("webdav.exchange.enumatts.none", rfc="ms-exchsdk#x-ms-enumatts", level="MUST",
       needs=EXCHANGE + ["METHOD=X-MS-ENUMATTS"], tags=["exchange", "attachments"],
       requirement="X-MS-ENUMATTS on a message without attachments answers 207 with no attachment responses.")
async def enumatts_none(ctx):
    async with mailbox_scratch(ctx) as ex:
        path, _ = await put_message(ex)
        r, ms = await _enumatts(ctx, ex, path)
        ctx.expect(ms.responses == [], "no responses for a message without attachments", "an empty multistatus",
                   r.show())


# --- the mail submission URI ---------------------------------------------------------------------------------------

async def _send_and_find(ctx, ex, method: str, check_sent: bool = False):
    account = ctx.target.accounts[0]
    address = account.address or ctx.vars.get("rcpt")
    ctx.require(bool(address), "the account's mail address is not known (give it in the profile's [[accounts]])")
    sendmsg = ctx.cap("webdav").params.get("sendmsg")
    ctx.require(bool(sendmsg), "the mailbox root names no submission URI (urn:schemas:httpmail:sendmsg)")
    inbox = await ex.special("inbox")
    ctx.setup(inbox is not None, "the mailbox root names httpmail:inbox", "a URL", "(none)")
    subject = f"submitted by {method} {ctx.token}"
    body = message(ctx.token, subject, sender=address, to=address, date=email.utils.formatdate(usegmt=True))
    r = await ex.request(method, url_path(sendmsg), [("Content-Type", RFC822), TRANSLATE_F], body)
    found, sent = None, None
    try:
        ctx.expect(r.status in (200, 201, 202, 204), f"{method} of a message to the submission URI is accepted",
                   "HTTP/1.1 201 Created", r.show())
        found = await wait_for_subject(ex, inbox, subject)
        ctx.expect(found is not None, "the message arrives in the recipient's Inbox", subject,
                   f"no item with that subject in {inbox} after 15 s")
        got = await ex.get(quote(found, safe="/"), [TRANSLATE_F])
        text = got.body.replace(b"\r\n", b"\n")
        ctx.expect(got.status == 200 and f"check run {ctx.token}".encode() in text and
                   f"Subject: {subject}".encode() in text,
                   "the delivered message, read with GET and Translate: f, is the one sent", subject, got.show(40))
        if check_sent:
            folder = await ex.special("sentitems")
            ctx.setup(folder is not None, "the mailbox root names httpmail:sentitems", "a URL", "(none)")
            sent = await wait_for_subject(ex, folder, subject, timeout=5)
            ctx.expect(sent is not None, "a copy of the sent message is kept in Sent Items", subject,
                       f"no item with that subject in {folder}")
    finally:
        await _remove_sent(ex, subject, [p for p in (found, sent) if p])


async def _remove_sent(ex, subject: str, known: list[str]) -> None:
    """Best effort: delete what the check sent, from the Inbox and from Sent Items (the copy Exchange keeps by
    default), whatever the verdict. Nothing here is judged."""
    try:
        for name in ("inbox", "sentitems"):
            _, ms = await ex.propfind(ex.mailbox, [hm(name)])
            found = ms.responses[0].value(hm(name)) if ms and ms.responses else None
            path = await wait_for_subject(ex, url_path(found), subject, timeout=0) if found else None
            if path and path not in known:
                known.append(path)
        for path in known:
            await ex.request("DELETE", quote(path, safe="/"))
    except Exception as exc:  # noqa: BLE001  (a copy left behind is noted, not judged)
        ex.ctx.transcript.note("cleanup", f"the sent message could not be removed: {exc!r}")


@probe("webdav.exchange.sendmsg.put", rfc="ms-exchsdk#sendmsg", level="MUST", needs=EXCHANGE + ["account"],
       tags=["exchange", "sendmsg", "delivery"], timeout=40,
       requirement="PUT of a message/rfc822 body to the mail submission URI (urn:schemas:httpmail:sendmsg) sends "
                   "it: the request succeeds and the message arrives in the recipient's Inbox.")
async def sendmsg_put(ctx):
    async with mailbox_scratch(ctx) as ex:
        await _send_and_find(ctx, ex, "PUT")


@probe("webdav.exchange.sendmsg.post", rfc="ms-exchsdk#sendmsg", level="MUST", needs=EXCHANGE + ["account"],
       tags=["exchange", "sendmsg", "delivery"], timeout=40,
       requirement="POST of a message/rfc822 body to the mail submission URI sends it as PUT does: it arrives in "
                   "the recipient's Inbox.")
async def sendmsg_post(ctx):
    async with mailbox_scratch(ctx) as ex:
        await _send_and_find(ctx, ex, "POST")


@probe("webdav.exchange.sendmsg.saved-in-sent-items", rfc="ms-exchsdk#sendmsg", level="SHOULD",
       needs=EXCHANGE + ["account"], tags=["exchange", "sendmsg", "delivery"], timeout=40,
       requirement="A message sent through the submission URI (without Saveinsent: f) is also kept in the "
                   "sender's Sent Items folder, as Exchange does by default.")
async def sendmsg_sent_items(ctx):
    async with mailbox_scratch(ctx) as ex:
        await _send_and_find(ctx, ex, "PUT", check_sent=True)
