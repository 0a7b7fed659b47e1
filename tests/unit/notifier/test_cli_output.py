"""What the operator commands print of a message: its publisher's words, never its escape sequences."""

from __future__ import annotations

from notifier.cli.common import shown


def test_control_and_format_characters_are_printed_as_their_escapes() -> None:
    assert shown("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert shown("a\u202eb\u200bc\x9b1m\x7f") == "a\\u202eb\\u200bc\\x9b1m\\x7f"
    assert shown("line\nnext\u2028") == "line\\x0anext\\u2028"


def test_printable_text_in_any_script_is_left_as_it_is() -> None:
    assert shown("Grüße, 你好 — événement 42") == "Grüße, 你好 — événement 42"


def test_bytes_are_read_as_utf_8_and_what_is_not_is_escaped() -> None:
    assert shown(b"ok \xff \x1b") == "ok \\xff \\x1b"
