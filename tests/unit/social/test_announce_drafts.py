"""What an operator asks to announce, read and checked before anything is written; and how the
recipients are packed into batches."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from microblog_contracts import MailProfile
from microblog_contracts.announcements import MAX_TEXT_BYTES, RECIPIENTS_PER_BATCH
from social.announcements.attachments import content_type
from social.announcements.drafts import read_draft
from social.announcements.errors import DraftRefused
from social.announcements.recipients import BATCH_BYTES, pack_batches
from social.announcements.variants import parse_variant

from tests.support.social_announce import write

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def profile(user_id: int, *, nickname: str | None = None) -> MailProfile:
    return MailProfile(user_id=user_id, version=1, nickname=nickname or f"user{user_id}",
                       email=f"user{user_id}@example.com", email_confirmed_at=AT,
                       unsubscribe_urls={"announcements": f"http://social.test/unsubscribe/{user_id}.announcements.x"})


def test_a_variant_file_is_a_subject_line_a_blank_line_and_the_text() -> None:
    assert parse_variant("Subject: 新功能上线\n\n大家好，\n\n第二段。\n", "f") == (
        "新功能上线", "大家好，\n\n第二段。\n")
    assert parse_variant("subject:Hi\n\nText", "f") == ("Hi", "Text")


@pytest.mark.parametrize(("content", "says"), [
    ("Hello\n\nText", "the first line must be 'Subject: ...'"),
    ("Subject: Hi\nText right away", "the line after the subject must be blank"),
])
def test_a_variant_file_without_its_subject_line_is_refused_saying_the_format(content: str, says: str) -> None:
    with pytest.raises(DraftRefused, match=says):
        parse_variant(content, "--locale-variant zh-CN=f.txt")


def test_a_draft_reads_texts_html_variants_and_attachments(tmp_path: Path) -> None:
    zh_text = write(tmp_path / "zh.txt", "Subject: 新闻\n\n你好")
    draft = read_draft(
        subject="  News  ", text_file=write(tmp_path / "t.txt", "\ufeffHello,\r\nnews.\r\n"),
        html_file=write(tmp_path / "t.html", "<p>Hello</p>"),
        attach=[write(tmp_path / "报告 2026.pdf", b"%PDF-1.7 ...")],
        locale_variants=[f"zh-cn={zh_text}",
                         f"zh-CN={write(tmp_path / 'zh.HTML', '<p>你好</p>')}"],
    )
    assert (draft.default.subject, draft.default.text, draft.default.html) == (
        "News", "Hello,\nnews.\n", "<p>Hello</p>")
    assert {locale: (t.subject, t.text, t.html) for locale, t in draft.variants.items()} == {
        "zh-CN": ("新闻", "你好", "<p>你好</p>")}
    [attachment] = draft.attachments
    assert (attachment.filename, attachment.content_type, attachment.size) == ("报告 2026.pdf", "application/pdf", 12)


def test_a_file_is_sent_as_the_type_its_name_says_and_as_bytes_when_nobody_knows() -> None:
    assert content_type("报告 2026.pdf") == "application/pdf"
    assert content_type("photo.JPG") == "image/jpeg"
    assert content_type("backup.tar.gz") == "application/gzip"
    assert content_type("data.weird-extension") == "application/octet-stream"
    assert content_type("README") == "application/octet-stream"


def refused(tmp_path: Path, **asked: object) -> str:
    asked = {"subject": "News", "text_file": write(tmp_path / "text.txt", "Hello"), **asked}
    with pytest.raises(DraftRefused) as refusal:
        read_draft(**asked)  # type: ignore[arg-type]
    return str(refusal.value)


def test_a_missing_or_unreadable_file_is_named(tmp_path: Path) -> None:
    assert refused(tmp_path, text_file=str(tmp_path / "nope.txt")) == f"--text {tmp_path / 'nope.txt'}: no such file"
    assert refused(tmp_path, attach=[str(tmp_path)]) == f"--attach {tmp_path}: a directory, not a file"
    latin1 = write(tmp_path / "latin1.html", "<p>caf\xe9</p>".encode("latin-1"))
    assert "not UTF-8 text" in refused(tmp_path, html_file=latin1)


def test_attachments_over_ten_mebibytes_in_all_are_refused_with_the_total_and_the_limit(tmp_path: Path) -> None:
    big = [tmp_path / "a.bin", tmp_path / "b.bin"]
    for path, size in zip(big, (6 * 1024 * 1024, 5 * 1024 * 1024), strict=True):
        with path.open("wb") as file:
            file.truncate(size)  # sparse: the sizes are read before any content
    assert refused(tmp_path, attach=[str(p) for p in big]) == (
        "--attach: the attachments are 11.0 MiB (11,534,336 bytes) in all; at most 10.0 MiB (10,485,760 bytes)")


def test_texts_of_all_languages_over_the_limit_together_are_refused(tmp_path: Path) -> None:
    chinese = "字" * 7000  # 21,000 bytes in UTF-8, far fewer characters than a text may have
    variant = write(tmp_path / "zh.txt", f"Subject: 新闻\n\n{chinese}")
    message = refused(tmp_path, text_file=write(tmp_path / "t.txt", chinese), locale_variants=[f"zh-CN={variant}"])
    assert message.startswith("the subjects, texts and HTML of all languages are 42,0")
    assert message.endswith(f"at most {MAX_TEXT_BYTES:,} bytes (40 KiB)")


@pytest.mark.parametrize(("asked", "says"), [
    ({"subject": "Two\nlines"}, "--subject: the subject must be one line"),
    ({"subject": "   "}, "--subject: the subject is empty"),
    ({"subject": "x" * 201}, "--subject: the subject is 201 characters; at most 200"),
    ({"locale_variants": ["zh-CN"]}, "give LOCALE=FILE"),
    ({"locale_variants": ["=zh.txt"]}, "give LOCALE=FILE"),
    ({"locale_variants": ["xx-YY=zh.txt"]}, "unknown locale 'xx-YY'; users can have en, "),
    ({"locale_variants": ["zh_CN!=zh.txt"]}, "unknown locale 'zh_CN!'"),
])
def test_a_bad_subject_or_locale_variant_is_refused_saying_what_is_wrong(
    tmp_path: Path, asked: dict[str, object], says: str
) -> None:
    assert says in refused(tmp_path, **asked)


def test_an_empty_text_is_refused(tmp_path: Path) -> None:
    assert refused(tmp_path, text_file=write(tmp_path / "empty.txt", " \n\n")).endswith(": the text is empty")
    variant = write(tmp_path / "zh.txt", "Subject: 新闻\n\n")
    assert refused(tmp_path, locale_variants=[f"zh-CN={variant}"]).endswith(": the text is empty")


def test_an_html_variant_needs_its_text_and_a_language_only_one_of_each(tmp_path: Path) -> None:
    html = write(tmp_path / "zh.html", "<p>你好</p>")
    text = write(tmp_path / "zh.txt", "Subject: 新闻\n\n你好")
    assert "an HTML file needs a text file with its subject too" in refused(tmp_path, locale_variants=[f"zh-CN={html}"])
    assert "zh-CN has a text file already" in refused(tmp_path, locale_variants=[f"zh-CN={text}", f"zh-cn={text}"])


def test_an_attachment_name_must_be_one_a_mail_can_carry(tmp_path: Path) -> None:
    long_name = write(tmp_path / ("x" * 121), b"1")
    assert "the file name is 121 characters; at most 120" in refused(tmp_path, attach=[long_name])
    assert "at most 20" in refused(tmp_path, attach=[long_name] * 21)


def test_batches_take_at_most_the_contracts_number_of_recipients() -> None:
    batches = list(pack_batches((profile(n) for n in range(1, 131)), announcement_id="a-1", at=AT))
    assert [b.recipients for b in batches] == [RECIPIENTS_PER_BATCH, RECIPIENTS_PER_BATCH, 10]
    assert [b.number for b in batches] == [0, 1, 2]
    assert [p.user_id for b in batches for p in b.event.data.recipients] == list(range(1, 131))
    assert all(len(b.body) <= BATCH_BYTES for b in batches)


def test_batches_are_packed_greedily_up_to_their_size_in_bytes() -> None:
    profiles = [profile(n, nickname=("long" * 15 if n % 3 else "s") + str(n)) for n in range(1, 200)]
    limit = 4000
    batches = list(pack_batches(profiles, announcement_id="a-1", at=AT, max_bytes=limit))
    assert sum(b.recipients for b in batches) == len(profiles)
    for batch, following in itertools.pairwise(batches):
        assert len(batch.body) <= limit
        # Greedy: the next batch's first profile would not have fitted into this one.
        first = following.event.data.recipients[0].model_dump_json().encode()
        assert len(batch.body) + 1 + len(first) > limit
    assert json.loads(batches[0].body)["data"]["batch"] == 0
