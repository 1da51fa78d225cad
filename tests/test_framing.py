"""The framing layer every simulator protocol reads through (simulator/framing.py), tested in memory.

Every reader test runs with the input fed whole and fed one byte at a time (and, where it matters, in
other chunkings): a line reader that answers differently depending on how TCP cut the stream is broken.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.framing import CRLF, DotReader, InputBuffer, TooLong, dot_stuff


def chunks(data: bytes, how: str | int) -> list[bytes]:
    """`data` cut as TCP might: "whole", "bytewise", or in pieces of `how` octets."""
    if how == "whole":
        return [data]
    size = 1 if how == "bytewise" else how
    return [data[i:i + size] for i in range(0, len(data), size)]


def read_lines(pieces: list[bytes], max_line: int = 1000) -> tuple[list[bytes | TooLong], InputBuffer]:
    """Feed the pieces one after the other, taking every complete line after each one."""
    buf = InputBuffer(max_line)
    out: list[bytes | TooLong] = []
    for piece in pieces:
        buf.feed(piece)
        for _ in range(len(piece) + 2):  # bounded: a piece cannot complete more lines than it has octets
            line = buf.line()
            if line is None:
                break
            out.append(line)
        else:
            pytest.fail("line() kept returning lines after the input was used up")
    return out, buf


FEEDINGS = ["whole", "bytewise", 3]


# --- InputBuffer.line() ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", FEEDINGS)
def test_lines_end_only_at_crlf_and_bare_cr_or_lf_stay_inside_the_line(how):
    lines, buf = read_lines(chunks(b"a\rb\nc\r\n\n\r\r\nlast\r\n", how))
    assert lines == [b"a\rb\nc", b"\n\r", b"last"]
    assert len(buf) == 0


@pytest.mark.parametrize("how", FEEDINGS)
def test_an_empty_line_is_a_line(how):
    lines, _ = read_lines(chunks(b"\r\n\r\nx\r\n", how))
    assert lines == [b"", b"", b"x"]


@pytest.mark.parametrize("how", FEEDINGS)
def test_an_incomplete_line_is_not_returned_and_stays_pending(how):
    lines, buf = read_lines(chunks(b"one\r\ntwo\r", how))
    assert lines == [b"one"]
    assert len(buf) == len(b"two\r")
    buf.feed(b"\n")
    assert buf.line() == b"two"
    assert buf.line() is None


def test_a_cr_ending_one_chunk_and_the_lf_starting_the_next_make_one_crlf():
    lines, _ = read_lines([b"abc\r", b"\ndef\r", b"\n"])
    assert lines == [b"abc", b"def"]


def test_a_cr_ending_a_chunk_followed_by_something_else_stays_in_the_line():
    lines, _ = read_lines([b"abc\r", b"x\r\n"])
    assert lines == [b"abc\rx"]


@pytest.mark.parametrize("how", FEEDINGS)
def test_a_line_of_exactly_max_line_octets_with_its_crlf_is_accepted(how):
    lines, _ = read_lines(chunks(b"x" * 8 + CRLF, how), max_line=10)
    assert lines == [b"x" * 8]


@pytest.mark.parametrize("how", FEEDINGS)
def test_a_line_one_octet_over_max_line_is_too_long(how):
    lines, _ = read_lines(chunks(b"x" * 9 + CRLF + b"ok" + CRLF, how), max_line=10)
    assert lines == [TooLong(9), b"ok"]


@pytest.mark.parametrize("how", FEEDINGS + [4, 7])
def test_an_overlong_line_is_reported_once_with_its_discarded_length_and_the_next_line_is_intact(how):
    data = b"x" * 50 + CRLF + b"NOOP" + CRLF
    lines, buf = read_lines(chunks(data, how), max_line=10)
    assert lines == [TooLong(50), b"NOOP"]
    assert len(buf) == 0


def test_an_overlong_line_whose_crlf_is_split_across_chunks_is_reported_once():
    lines, _ = read_lines([b"x" * 30 + b"\r", b"\nNOOP\r\n"], max_line=10)
    assert lines == [TooLong(30), b"NOOP"]


def test_an_overlong_line_arriving_in_many_small_chunks_is_reported_once_when_its_crlf_comes():
    buf = InputBuffer(10)
    for _ in range(40):
        buf.feed(b"yy")
        assert buf.line() is None  # nothing to report before the CRLF: the line is still arriving
    buf.feed(b"\r")
    assert buf.line() is None
    buf.feed(b"\nnext\r\n")
    assert buf.line() == TooLong(80)
    assert buf.line() == b"next"
    assert buf.line() is None


def test_an_overlong_line_with_bare_crs_inside_counts_them_as_discarded_octets():
    lines, _ = read_lines([b"x" * 20 + b"\r", b"\ry\r", b"z\r\nok\r\n"], max_line=10)
    assert lines == [TooLong(20 + 1 + 2 + 1 + 1), b"ok"]


@given(
    data=st.lists(st.sampled_from([b"a", b"bb", b"\r", b"\n", b"\r\n", b"x" * 7]), max_size=30).map(b"".join),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=10),
    max_line=st.integers(min_value=2, max_value=12),
)
@settings(max_examples=200, deadline=None)
def test_the_lines_read_never_depend_on_how_the_input_was_chunked(data, cuts, max_line):
    points = sorted({c for c in cuts if 0 < c < len(data)})
    pieces = [data[a:b] for a, b in zip([0] + points, points + [len(data)])]
    whole, _ = read_lines([data], max_line)
    assert read_lines(pieces, max_line)[0] == whole
    assert read_lines(chunks(data, "bytewise"), max_line)[0] == whole
    # and what comes out is what the definition says: the CRLF-separated lines, overlong ones as TooLong
    complete = data.split(CRLF)[:-1]
    assert whole == [TooLong(len(l)) if len(l) + 2 > max_line else l for l in complete]


# --- exactly(), take_available() --------------------------------------------------------------------------


@pytest.mark.parametrize("how", FEEDINGS)
def test_exactly_waits_for_n_octets_then_returns_them_and_lines_continue_after(how):
    buf = InputBuffer(100)
    got = None
    for piece in chunks(b"ab\r\n.\r\nrest\r\n", how):
        buf.feed(piece)
        if got is None:
            got = buf.exactly(7)
    assert got == b"ab\r\n.\r\n"
    assert buf.line() == b"rest"


def test_exactly_returns_none_until_enough_octets_and_takes_nothing_meanwhile():
    buf = InputBuffer(100)
    buf.feed(b"abc")
    assert buf.exactly(4) is None
    assert len(buf) == 3
    buf.feed(b"d")
    assert buf.exactly(4) == b"abcd"
    assert buf.exactly(0) == b""


def test_take_available_returns_at_most_limit_of_what_is_pending():
    buf = InputBuffer(100)
    assert buf.take_available(10) == b""
    buf.feed(b"abcdef")
    assert buf.take_available(4) == b"abcd"
    assert buf.take_available(10) == b"ef"
    assert buf.take_available(10) == b""
    assert len(buf) == 0


# --- mark / rollback / commit ------------------------------------------------------------------------------


def test_rollback_puts_back_everything_taken_since_mark():
    buf = InputBuffer(100)
    buf.feed(b"one\r\ntwo\r\nthr")
    buf.mark()
    assert buf.line() == b"one"
    assert buf.exactly(3) == b"two"
    buf.rollback()
    assert buf.line() == b"one"
    assert buf.line() == b"two"


def test_commit_keeps_what_was_taken_and_a_later_rollback_has_nothing_to_undo():
    buf = InputBuffer(100)
    buf.feed(b"one\r\ntwo\r\n")
    buf.mark()
    assert buf.line() == b"one"
    buf.commit()
    buf.rollback()
    assert buf.line() == b"two"


def test_rollback_without_mark_changes_nothing():
    buf = InputBuffer(100)
    buf.feed(b"one\r\ntwo\r\n")
    assert buf.line() == b"one"
    buf.rollback()
    assert buf.line() == b"two"


def test_rollback_returns_to_the_mark_even_after_more_than_64k_was_taken_under_it():
    buf = InputBuffer(100)
    lines = [b"%08d" % i for i in range(10_000)]  # 100 000 octets: past the compaction threshold
    buf.feed(b"".join(line + CRLF for line in lines))
    assert buf.line() == lines[0]
    buf.mark()
    for expected in lines[1:]:
        assert buf.line() == expected
    buf.rollback()
    assert buf.line() == lines[1]


def test_compaction_after_much_input_keeps_the_pending_octets():
    buf = InputBuffer(100)
    for i in range(10_000):
        buf.feed(b"%08d\r\n" % i)
        assert buf.line() == b"%08d" % i
    buf.feed(b"tail")
    assert len(buf) == 4
    buf.feed(b"\r\n")
    assert buf.line() == b"tail"


# --- clear() ------------------------------------------------------------------------------------------------


def test_clear_drops_everything_pending_and_says_how_much():
    buf = InputBuffer(100)
    buf.feed(b"STARTTLS\r\nMAIL FROM:<a@b>\r\nRCPT")
    assert buf.line() == b"STARTTLS"
    assert buf.clear() == len(b"MAIL FROM:<a@b>\r\nRCPT")
    assert len(buf) == 0
    assert buf.line() is None
    buf.feed(b"EHLO x\r\n")
    assert buf.line() == b"EHLO x"


def test_clear_forgets_a_mark():
    buf = InputBuffer(100)
    buf.feed(b"one\r\n")
    buf.mark()
    assert buf.line() == b"one"
    buf.clear()
    buf.rollback()
    buf.feed(b"two\r\n")
    assert buf.line() == b"two"


def test_clear_in_the_middle_of_an_overlong_line_leaves_the_next_line_intact():
    buf = InputBuffer(10)
    buf.feed(b"x" * 30)
    assert buf.line() is None
    buf.clear()
    buf.feed(b"NOOP\r\n")
    assert buf.line() == b"NOOP"


# --- DotReader ----------------------------------------------------------------------------------------------


def read_text(data: bytes, how: str | int = "whole", max_size: int = 10_000, max_line: int = 1000) -> DotReader:
    """Run `data` through an InputBuffer into a DotReader, stopping at the end of the text."""
    buf = InputBuffer(max_line)
    reader = DotReader(max_size)
    for piece in chunks(data, how):
        buf.feed(piece)
        while not reader.done and (line := buf.line()) is not None:
            reader.feed_line(line)
    return reader


@pytest.mark.parametrize("how", FEEDINGS)
def test_dot_reader_ends_at_a_line_holding_only_a_dot(how):
    reader = read_text(b"Subject: x\r\n\r\nbody\r\n.\r\n", how)
    assert reader.done
    assert reader.text() == b"Subject: x\r\n\r\nbody\r\n"
    assert not (reader.overflow or reader.too_long_line or reader.bare_cr_lf)


@pytest.mark.parametrize("how", FEEDINGS)
def test_dot_reader_is_not_done_before_the_dot_line(how):
    reader = read_text(b"body\r\n.x\r\n. \r\n", how)
    assert not reader.done


@pytest.mark.parametrize("how", FEEDINGS)
def test_dot_reader_deletes_the_first_dot_of_a_line_that_has_more_after_it(how):
    # RFC 5321 4.5.2: if the line is not "." alone and starts with a dot, that first dot is deleted
    reader = read_text(b"..\r\n...\r\n..x\r\n.x\r\nx.\r\n.\r\n", how)
    assert reader.text() == b".\r\n..\r\n.x\r\nx\r\nx.\r\n"


def test_dot_reader_size_counts_stored_text_with_crlfs():
    reader = read_text(b"..ab\r\n\r\n.\r\n")
    assert reader.size == len(b".ab\r\n\r\n")


def test_dot_reader_accepts_text_of_exactly_max_size():
    reader = read_text(b"12345678\r\n.\r\n", max_size=10)
    assert reader.done and not reader.overflow
    assert reader.text() == b"12345678\r\n"


@pytest.mark.parametrize("how", FEEDINGS)
def test_dot_reader_past_max_size_keeps_consuming_to_the_dot_but_stops_storing(how):
    reader = read_text(b"12345678\r\n9\r\n" + b"more\r\n" * 20 + b".\r\nNEXT\r\n", how, max_size=10)
    assert reader.done
    assert reader.overflow
    assert reader.text() == b""  # nothing of an oversized message is kept
    assert reader.size == 10 + 3 + 6 * 20


def test_dot_reader_overflow_does_not_leave_the_buffer_before_the_dot():
    buf = InputBuffer(1000)
    buf.feed(b"x" * 50 + b"\r\n" + b"y\r\n.\r\nQUIT\r\n")
    reader = DotReader(10)
    while not reader.done:
        reader.feed_line(buf.line())
    assert buf.line() == b"QUIT"


@pytest.mark.parametrize("how", FEEDINGS)
def test_dot_reader_flags_a_too_long_line_and_keeps_reading_to_the_dot(how):
    reader = read_text(b"ok\r\n" + b"z" * 100 + b"\r\nafter\r\n.\r\n", how, max_line=20)
    assert reader.done
    assert reader.too_long_line
    assert not reader.overflow


@pytest.mark.parametrize("text", [b"a\rb\r\n.\r\n", b"a\nb\r\n.\r\n", b"..\n\r\n.\r\n", b"\r\r\n.\r\n"])
def test_dot_reader_flags_a_bare_cr_or_lf_inside_a_line(text):
    reader = read_text(text)
    assert reader.done
    assert reader.bare_cr_lf


@pytest.mark.parametrize("lookalike", [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r"])
@pytest.mark.parametrize("how", ["whole", "bytewise"])
def test_a_bare_cr_or_lf_end_of_data_lookalike_never_ends_the_text(lookalike, how):
    reader = read_text(b"a" + lookalike + b"MAIL FROM:<x@y>\r\n", how)
    assert not reader.done
    reader2 = read_text(b"a" + lookalike + b"MAIL FROM:<x@y>\r\n.\r\n", how)
    assert reader2.done and reader2.bare_cr_lf


# --- dot_stuff ----------------------------------------------------------------------------------------------


def test_dot_stuff_doubles_leading_dots_and_ends_with_the_dot_line():
    assert dot_stuff(b".a\r\nb.\r\n.\r\n") == b"..a\r\nb.\r\n..\r\n.\r\n"


def test_dot_stuff_of_empty_text_is_the_dot_line_alone():
    assert dot_stuff(b"") == b".\r\n"


def test_dot_stuff_ends_a_last_line_that_lacks_its_crlf():
    assert dot_stuff(b"a\r\nb") == b"a\r\nb\r\n.\r\n"


def test_dot_stuff_keeps_empty_lines():
    assert dot_stuff(b"\r\n\r\na\r\n") == b"\r\n\r\na\r\n.\r\n"


LINE = st.binary(max_size=12).filter(lambda b: b"\r" not in b and b"\n" not in b)


@given(lines=st.lists(st.one_of(LINE, st.sampled_from([b".", b"..", b".x", b""])), max_size=12),
       how=st.sampled_from(["whole", "bytewise", 2, 5]))
@settings(max_examples=150, deadline=None)
def test_dot_stuffed_text_read_back_line_by_line_is_the_original_text(lines, how):
    text = b"".join(line + CRLF for line in lines)
    stuffed = dot_stuff(text)
    assert stuffed.endswith(b"\r\n.\r\n") or stuffed == b".\r\n"
    # only the final line is "." alone: the text cannot end early
    assert stuffed.split(CRLF)[:-2].count(b".") == 0
    reader = read_text(stuffed, how)
    assert reader.done
    assert reader.text() == text
    assert not (reader.overflow or reader.too_long_line or reader.bare_cr_lf)
