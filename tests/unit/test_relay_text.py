"""Relayed replies: checked, files folded in, long ones split into pieces that fit
one message everywhere and put back together give the text exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hdops.chat import FieldPart
from hdops.domain.relay import (
    CHUNK_UNITS,
    MAX_RELAY_CHARS,
    SharedFile,
    relay_text,
    split_text,
    units,
)
from hdops.errors import InvalidInput
from hdops.render.relay import relayed


def test_text_and_files_become_one_text() -> None:
    files = [SharedFile("chart.png", "https://x.slack.com/files/U1/F1"), SharedFile("notes")]
    assert relay_text("  See the chart.  ", files) == (
        "See the chart.\n\nFile: chart.png (https://x.slack.com/files/U1/F1)\nFile: notes"
    )


def test_a_file_alone_is_relayed_and_nothing_at_all_is_refused() -> None:
    assert (
        relay_text("", [SharedFile("photo.jpg", "https://f/1")]) == "File: photo.jpg (https://f/1)"
    )
    with pytest.raises(InvalidInput, match="empty"):
        relay_text(" \n\t ")


def test_up_to_slacks_limit_is_accepted_beyond_it_refused_with_the_numbers() -> None:
    assert relay_text("x" * MAX_RELAY_CHARS) == "x" * MAX_RELAY_CHARS
    with pytest.raises(InvalidInput) as refused:
        relay_text("x" * (MAX_RELAY_CHARS + 1))
    assert "40,001 characters" in refused.value.message and "40,000" in refused.value.message


def test_files_never_push_a_reply_over_the_limit() -> None:
    files = [SharedFile(f"file-{i}.pdf", f"https://f/{i}") for i in range(10)]
    assert relay_text("x" * MAX_RELAY_CHARS, files).endswith("File: file-9.pdf (https://f/9)")


def test_long_text_breaks_at_paragraphs_then_lines_then_words() -> None:
    paragraph = "word " * 300  # 1,500 characters
    pieces = split_text(paragraph.strip() + "\n\n" + paragraph.strip())
    assert pieces[0].endswith("\n\n") and len(pieces) == 2
    lines = split_text(("a line of text\n" * 200).strip())
    assert all(p.endswith("\n") for p in lines[:-1])
    words = split_text("word " * 1000)
    assert all(p.endswith(" ") for p in words[:-1])


def test_a_word_longer_than_a_piece_is_cut_but_never_between_a_letter_and_its_accent() -> None:
    text = "e\u0301" * 2000
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert all(not p.startswith("\u0301") for p in pieces)


def test_astral_characters_count_twice() -> None:
    pieces = split_text("😀" * 1000)
    assert [len(p) for p in pieces] == [900, 100]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["word", " ", "\n", "\n\n", "😀", "e\u0301", "\u200d", "x" * 50]),
        max_size=800,
    ).map("".join)
    | st.text(max_size=6000),
    st.integers(2, 3000),
)
def test_pieces_fit_and_join_back_exactly(text: str, size: int) -> None:
    pieces = split_text(text, size)
    assert "".join(pieces) == text
    assert all(p and units(p) <= size for p in pieces)
    if size >= 20:  # a cut is made in the second half of a piece (or at a cluster edge)
        assert all(units(p) >= size // 2 - 8 for p in pieces[:-1])


def test_chunk_size_leaves_room_for_the_label_on_discord() -> None:
    [part] = relayed("A" * 120, "x", "researcher", part=(12, 23), edited=True).parts
    assert isinstance(part, FieldPart)
    assert CHUNK_UNITS + len(part.label) + len(": ") <= 2000


def test_relayed_pieces_are_labelled_and_edits_marked() -> None:
    assert relayed("Rita", "hi", "researcher").text == "Rita (researcher): hi"
    assert relayed("Rita", "hi", "researcher", part=(2, 5)).text == "Rita (researcher) (2/5): hi"
    assert relayed("Rita", "hi", "researcher", part=(1, 1)).text == "Rita (researcher): hi"
    assert relayed("Rita", "hi", "ops", edited=True).text == "Rita (ops), edited: hi"
