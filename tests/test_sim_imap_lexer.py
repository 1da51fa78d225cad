"""Reading IMAP commands off the wire (simulator/protocols/imap/lexer.py): `CommandReader` assembles
command lines and literals from an InputBuffer (RFC 3501 4.3 and 7.5, LITERAL+ RFC 7888, literal8 RFC 3516),
and `tokenize` splits an assembled command into atoms, strings and lists (RFC 3501 9).

Every reader conversation runs twice: the input fed whole and fed one byte at a time. Both runs must report
the same steps (Need aside); the tests then look at the result. No sockets.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.framing import InputBuffer
from simulator.protocols.imap.lexer import (
    Assembled,
    CommandReader,
    Continue,
    LexError,
    Need,
    Overflow,
    tokenize,
)
from simulator.protocols.imap.tokens import Atom, List, String, astring

MAX_LINE = 100
MAX_LITERAL = 50

# --- the in-memory driver ------------------------------------------------------------------------------------

Answer = Callable[[CommandReader, Continue], None]


def grant(reader: CommandReader, step: Continue) -> None:
    reader.granted()


def refuse(reader: CommandReader, step: Continue) -> None:
    reader.refuse_literal()


@dataclass
class Run:
    steps: list[object]  # Continue / Assembled / Overflow, in order (Need left out)
    reader: CommandReader
    buffer: InputBuffer

    def of(self, kind: type) -> list:
        return [s for s in self.steps if isinstance(s, kind)]


def _read_once(data: bytes, bytewise: bool, *, on_continue: Answer, max_line: int, max_literal: int,
               literal_plus: bool) -> Run:
    buffer = InputBuffer(max_line)
    reader = CommandReader(buffer, max_literal, literal_plus=literal_plus)
    steps: list[object] = []
    pieces = [data[i:i + 1] for i in range(len(data))] if bytewise else [data]
    for piece in pieces:
        buffer.feed(piece)
        for _ in range(1000):
            step = reader.next()
            if isinstance(step, Need):
                break
            steps.append(step)
            if isinstance(step, Continue):
                on_continue(reader, step)
        else:
            pytest.fail("next() never asked for more input")
    return Run(steps, reader, buffer)


def read(data: bytes, *, on_continue: Answer = grant, max_line: int = MAX_LINE, max_literal: int = MAX_LITERAL,
         literal_plus: bool = True) -> Run:
    """Read `data` whole and byte by byte; both must give the same steps."""
    kw = {"on_continue": on_continue, "max_line": max_line, "max_literal": max_literal, "literal_plus": literal_plus}
    whole = _read_once(data, False, **kw)
    bytewise = _read_once(data, True, **kw)
    assert bytewise.steps == whole.steps, "byte-at-a-time feeding changed what the reader reports"
    assert len(bytewise.buffer) == len(whole.buffer)
    return whole


def lit(value: bytes, binary: bool = False) -> String:
    return String(value, literal=True, binary=binary)


# --- plain commands ------------------------------------------------------------------------------------------

def test_a_plain_command_line_is_one_segment_without_its_crlf():
    run = read(b"A1 NOOP\r\n")
    assert run.steps == [Assembled([b"A1 NOOP"])]


def test_pipelined_commands_come_out_one_at_a_time_in_order():
    run = read(b"A1 NOOP\r\nA2 CAPABILITY\r\nA3 LOGOUT\r\n")
    assert run.steps == [Assembled([b"A1 NOOP"]), Assembled([b"A2 CAPABILITY"]), Assembled([b"A3 LOGOUT"])]


def test_a_line_without_its_crlf_is_not_a_command_yet():
    run = read(b"A1 NOOP\r")
    assert run.steps == []


def test_a_bare_lf_does_not_end_a_command_line():
    run = read(b"A1 NOOP\nA2 NOOP\r\n")
    assert run.steps == [Assembled([b"A1 NOOP\nA2 NOOP"])]


# --- synchronizing literals (RFC 3501 4.3, 7.5) ------------------------------------------------------------------

def test_a_synchronizing_literal_asks_for_a_continuation_and_waits_for_it():
    buffer = InputBuffer(MAX_LINE)
    reader = CommandReader(buffer, MAX_LITERAL)
    buffer.feed(b"A1 LOGIN {5}\r\nalice secret\r\n")  # a client that did not wait: the octets stay unread
    assert reader.next() == Continue(5)
    assert reader.next() == Continue(5), "the octets are not taken before the continuation was granted"
    assert len(buffer) == len(b"alice secret\r\n")
    assert reader.pending_text() == b"A1 LOGIN "
    reader.granted()
    assert reader.next() == Assembled([b"A1 LOGIN ", lit(b"alice"), b" secret"])
    assert isinstance(reader.next(), Need)


def test_the_octets_and_the_rest_of_the_line_follow_a_granted_literal():
    run = read(b"A1 LOGIN {5}\r\nalice secret\r\nA2 NOOP\r\n")
    assert run.steps == [Continue(5), Assembled([b"A1 LOGIN ", lit(b"alice"), b" secret"]),
                         Assembled([b"A2 NOOP"])]


def test_a_second_literal_on_the_continuation_line_asks_again():
    run = read(b"A1 LOGIN {5}\r\nalice {6}\r\nsecret\r\n")
    assert run.steps == [Continue(5), Continue(6),
                         Assembled([b"A1 LOGIN ", lit(b"alice"), b" ", lit(b"secret"), b""])]


def test_literal_octets_are_taken_verbatim_crlf_and_specials_included():
    data = b'a\r\nB2 LOGOUT\r\n"(\x00\xff'
    run = read(b"A1 APPEND INBOX {%d}\r\n" % len(data) + data + b"\r\n")
    assert run.steps == [Continue(len(data)), Assembled([b"A1 APPEND INBOX ", lit(data), b""])]


def test_an_empty_literal_is_an_empty_string():
    run = read(b"A1 LOGIN {0}\r\n {0}\r\n\r\n")
    assert run.of(Assembled) == [Assembled([b"A1 LOGIN ", lit(b""), b" ", lit(b""), b""])]


def test_a_refused_synchronizing_literal_ends_the_command_and_the_next_one_reads_intact():
    run = read(b"A1 XYZZY {5}\r\nA2 NOOP\r\n", on_continue=refuse)
    assert run.steps == [Continue(5), Assembled([b"A2 NOOP"])]


# --- non-synchronizing literals (RFC 7888) and literal8 (RFC 3516) ------------------------------------------------

def test_a_literal_plus_needs_no_continuation():
    run = read(b"A1 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n")
    assert run.steps == [Assembled([b"A1 LOGIN ", lit(b"alice"), b" ", lit(b"secret"), b""])]


def test_without_literal_plus_a_non_synchronizing_literal_up_to_4096_octets_is_accepted():
    data = b"x" * 4096
    run = read(b"A1 APPEND INBOX {4096+}\r\n" + data + b"\r\n", literal_plus=False, max_literal=10_000)
    assert run.steps == [Assembled([b"A1 APPEND INBOX ", lit(data), b""])]


def test_without_literal_plus_a_non_synchronizing_literal_over_4096_octets_overflows():
    data = b"x" * 4097
    run = read(b"A1 APPEND INBOX {4097+}\r\n" + data + b"\r\nA2 NOOP\r\n", literal_plus=False, max_literal=10_000)
    assert run.steps == [Overflow("literal", "A1", 4097), Assembled([b"A2 NOOP"])]


def test_a_literal8_marks_its_string_binary():
    run = read(b"A1 APPEND INBOX ~{3}\r\na\x00b\r\n")
    assert run.steps == [Continue(3), Assembled([b"A1 APPEND INBOX ", lit(b"a\x00b", binary=True), b""])]


def test_a_non_synchronizing_literal8_is_binary_and_needs_no_continuation():
    run = read(b"A1 APPEND INBOX ~{3+}\r\na\x00b\r\n")
    assert run.steps == [Assembled([b"A1 APPEND INBOX ", lit(b"a\x00b", binary=True), b""])]


def test_a_literal_marker_inside_the_line_is_not_a_literal():
    run = read(b'A1 LOGIN {5} "x"\r\n')
    assert run.steps == [Assembled([b'A1 LOGIN {5} "x"'])]


def test_a_minus_after_the_count_is_not_a_literal():
    run = read(b"A1 X {3-}\r\nA2 NOOP\r\n")
    assert run.steps == [Assembled([b"A1 X {3-}"]), Assembled([b"A2 NOOP"])]


# --- limits -----------------------------------------------------------------------------------------------

def test_a_synchronizing_literal_over_the_limit_overflows_before_any_octet():
    buffer = InputBuffer(MAX_LINE)
    reader = CommandReader(buffer, MAX_LITERAL)
    buffer.feed(b"A1 APPEND INBOX {51}\r\n")
    assert reader.next() == Overflow("literal", "A1", 51)
    reader.refuse_literal()
    assert isinstance(reader.next(), Need)


def test_after_a_refused_oversized_literal_the_next_command_reads_intact():
    run = read(b"A1 APPEND INBOX {51}\r\nA2 NOOP\r\n")
    assert run.steps == [Overflow("literal", "A1", 51), Assembled([b"A2 NOOP"])]


def test_a_literal_of_exactly_the_limit_is_accepted():
    run = read(b"A1 APPEND INBOX {50+}\r\n" + b"y" * 50 + b"\r\n")
    assert run.steps == [Assembled([b"A1 APPEND INBOX ", lit(b"y" * 50), b""])]


def test_a_non_synchronizing_literal_over_the_limit_is_swallowed_then_refused_once():
    octets = b"A2 LOGOUT\r\n" * 6  # 66 octets that look like commands: none of them is read as one
    run = read(b"A1 APPEND INBOX {66+}\r\n" + octets + b"\r\nA3 NOOP\r\n")
    assert run.steps == [Overflow("literal", "A1", 66), Assembled([b"A3 NOOP"])]


def test_the_overflow_of_a_non_synchronizing_literal_comes_only_after_its_last_octet():
    buffer = InputBuffer(MAX_LINE)
    reader = CommandReader(buffer, MAX_LITERAL)
    buffer.feed(b"A1 APPEND INBOX {60+}\r\n" + b"z" * 59)
    assert isinstance(reader.next(), Need)
    buffer.feed(b"z flags\r\n")
    assert reader.next() == Overflow("literal", "A1", 60)
    assert isinstance(reader.next(), Need)


def test_further_non_synchronizing_literals_of_a_refused_command_are_swallowed_too():
    data = b"A1 X {60+}\r\n" + b"a" * 60 + b" {3+}\r\nabc {4+}\r\nabcd\r\nA2 NOOP\r\n"
    run = read(data)
    assert run.steps == [Overflow("literal", "A1", 60), Assembled([b"A2 NOOP"])]


def test_a_line_over_the_limit_is_one_overflow_naming_its_tag_and_the_next_command_reads_intact():
    long_line = b"A7 LOGIN " + b"x" * 200
    run = read(long_line + b"\r\nA8 NOOP\r\n")
    assert run.steps == [Overflow("line", "A7", len(long_line)), Assembled([b"A8 NOOP"])]


def test_the_overflowing_line_is_discarded_even_when_its_crlf_is_split_across_feeds():
    buffer = InputBuffer(MAX_LINE)
    reader = CommandReader(buffer, MAX_LITERAL)
    buffer.feed(b"T1 " + b"q" * 150 + b"\r")
    assert isinstance(reader.next(), Need)
    buffer.feed(b"\nT2 NOOP\r\n")
    assert reader.next() == Overflow("line", "T1", 153)
    assert reader.next() == Assembled([b"T2 NOOP"])


def test_a_line_exactly_at_the_limit_with_its_crlf_is_accepted():
    line = b"A1 " + b"n" * (MAX_LINE - 5)  # + CRLF = MAX_LINE octets
    run = read(line + b"\r\n")
    assert run.steps == [Assembled([line])]
    run = read(line + b"n\r\n")
    assert run.steps == [Overflow("line", "A1", len(line) + 1)]


def test_an_overlong_continuation_line_after_a_literal_names_the_commands_tag():
    run = read(b"B5 LOGIN {3}\r\nabc " + b"p" * 200 + b"\r\nB6 NOOP\r\n")
    assert run.steps == [Continue(3), Overflow("line", "B5", 201), Assembled([b"B6 NOOP"])]


# --- any input, whole or byte by byte ---------------------------------------------------------------------------

PIECES = [b"A1 NOOP\r\n", b"A2 LOGIN {3}\r\nabc x\r\n", b"A3 X {2+}\r\nab\r\n", b"A4 Y ~{1}\r\n\x00\r\n",
          b"A5 " + b"L" * 120 + b"\r\n", b"A6 Z {70+}\r\n" + b"k" * 70 + b"\r\n", b"A7 W {80}\r\n", b"\r\n",
          b"A8 {1}\r\n)\r\n", b"\n", b"\r"]


@given(st.lists(st.sampled_from(PIECES), max_size=8), st.booleans())
@settings(max_examples=60, deadline=None)
def test_any_input_is_read_the_same_whole_and_byte_by_byte(pieces, refuse_all):
    read(b"".join(pieces), on_continue=refuse if refuse_all else grant)  # read() compares both runs


# --- tokenize ------------------------------------------------------------------------------------------------

def tokens(line: bytes) -> list:
    return tokenize([line])


def test_atoms_are_split_on_spaces():
    assert tokens(b"A1 SELECT INBOX") == [Atom("A1"), Atom("SELECT"), Atom("INBOX")]


def test_several_spaces_between_tokens_are_skipped():
    assert tokens(b"A1  NOOP ") == [Atom("A1"), Atom("NOOP")]


def test_sequence_sets_and_wildcards_are_atoms():
    assert tokens(b"1:* 2,4:7 % *") == [Atom("1:*"), Atom("2,4:7"), Atom("%"), Atom("*")]


def test_a_system_flag_keeps_its_backslash():
    assert tokens(b"\\Seen \\Deleted") == [Atom("\\Seen"), Atom("\\Deleted")]


def test_backslash_star_is_a_flag():
    assert tokens(b"(\\Seen \\*)") == [List((Atom("\\Seen"), Atom("\\*")))]


def test_a_lone_backslash_is_a_lex_error():
    with pytest.raises(LexError):
        tokens(b"A1 STORE 1 +FLAGS \\ x")


def test_a_quoted_string_is_a_string_not_a_literal():
    assert tokens(b'"hello world"') == [String(b"hello world")]
    assert tokens(b'""') == [String(b"")]


def test_quoted_specials_are_unescaped():
    assert tokens(b'"a\\"b\\\\c"') == [String(b'a"b\\c')]


@pytest.mark.parametrize("escape", [b"\\n", b"\\a", b"\\x", b"\\ "])
def test_other_escapes_in_a_quoted_string_are_lex_errors(escape):
    with pytest.raises(LexError):
        tokens(b'"a' + escape + b'b"')


@pytest.mark.parametrize("char", [b"\r", b"\n", b"\x00"])
def test_cr_lf_and_nul_inside_a_quoted_string_are_lex_errors(char):
    with pytest.raises(LexError):
        tokens(b'"a' + char + b'b"')


def test_an_unterminated_quoted_string_is_a_lex_error():
    with pytest.raises(LexError):
        tokens(b'A1 LOGIN "alice')


def test_a_quoted_nil_is_a_string_and_an_atom_nil_is_an_atom():
    assert tokens(b'NIL "NIL"') == [Atom("NIL"), String(b"NIL")]


def test_literals_are_strings_marked_literal():
    assert tokenize([b"A1 LOGIN ", lit(b"alice"), b" ", lit(b"se cret"), b""]) == \
        [Atom("A1"), Atom("LOGIN"), lit(b"alice"), lit(b"se cret")]


def test_a_literal_inside_a_list_stays_in_the_list():
    assert tokenize([b"A1 X (a ", lit(b"b c"), b" d)"]) == [Atom("A1"), Atom("X"), List((Atom("a"), lit(b"b c"),
                                                                                         Atom("d")))]


def test_lists_nest():
    assert tokens(b"(a (b (c)) ())") == [List((Atom("a"), List((Atom("b"), List((Atom("c"),)))), List(())))]


def test_a_section_atom_keeps_spaces_and_parens_inside_its_brackets():
    assert tokens(b"A1 FETCH 1 (BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.10> FLAGS)") == [
        Atom("A1"), Atom("FETCH"), Atom("1"),
        List((Atom("BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.10>"), Atom("FLAGS")))]


def test_nested_brackets_in_an_atom_are_balanced():
    assert tokens(b"X[a[b c]d] y") == [Atom("X[a[b c]d]"), Atom("y")]


def test_a_closing_bracket_alone_is_an_astring_char():
    # ASTRING-CHAR = ATOM-CHAR / resp-specials (RFC 3501 9): "]" may appear in an astring
    assert tokens(b"A1 LOGIN us]er pw") == [Atom("A1"), Atom("LOGIN"), Atom("us]er"), Atom("pw")]


@pytest.mark.parametrize("line", [b"A1 X (a b", b"A1 X a)", b"A1 X ((a)", b"A1 X (a))", b"A1 FETCH 1 BODY[TEXT",
                                  b"A1 FETCH 1 BODY[HEADER.FIELDS (FROM)"])
def test_unbalanced_parens_and_brackets_are_lex_errors(line):
    with pytest.raises(LexError):
        tokens(line)


def test_cr_or_lf_inside_a_section_is_a_lex_error():
    with pytest.raises(LexError):
        tokens(b"BODY[HEADER\nX]")


@pytest.mark.parametrize("char", [b"{", b"\x01", b"\x7f"])
def test_atom_specials_outside_strings_are_lex_errors(char):
    with pytest.raises(LexError):
        tokens(b"A1 X a" + char + b"b")


def test_astring_gives_the_text_of_atoms_and_strings_and_none_for_lists():
    assert astring(Atom("INBOX")) == "INBOX"
    assert astring(String("Entwürfe".encode())) == "Entwürfe"
    assert astring(List(())) is None


def test_what_the_reader_assembles_tokenizes_like_the_same_command_on_one_line():
    run = read(b"A1 LOGIN {5}\r\nalice {6+}\r\nsecret\r\n")
    (assembled,) = run.of(Assembled)
    assert [astring(t) for t in tokenize(assembled.segments)] == ["A1", "LOGIN", "alice", "secret"]
