"""Which texts cs reads at all: English ones, up to a cap (docs/text.md).

The sentiment lexicon is English: on German or Japanese text it finds no
word it knows and would call the text neutral, which is a claim nobody made.
So such a text gets no score (NULL). Telling the language apart is a cheap
guess from the script and from common function words, run on every text
before the analyser; it needs no model and no network."""

from __future__ import annotations

import re

# Only the first MAX_CHARS characters of a text are read: a pasted log or
# email thread of megabytes would otherwise hold up a whole batch, and the
# opening of a note says what it is about.
MAX_CHARS = 10_000

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_ENGLISH_WORDS = """the and to of is are was were be been we they he she it you i our their this that
    with for not but have has had will would can could should on at from by as or if
    about what when there which who all more very just also than then them its it's
    don't didn't can't won't isn't aren't wasn't my your his her us me do does did so"""
_ENGLISH = frozenset(_ENGLISH_WORDS.split())
# Function words of the languages a customer most often writes to a
# European or American team in, leaving out those English spells the same.
_OTHER_WORDS = """der das und ist nicht sich auf für ein eine einen dem des wir sie ich es
    wird sind haben nach auch noch aber oder wenn bei
    le les et est une des du pour pas que qui dans sur avec nous vous ils sont ce cette
    mais très été avons
    el los las y es una del para por que muy pero está están somos hemos como más
    não uma das para mais mas são está muito também
    il della che di è sono gli nella delle anche molto
    het een en niet zijn ook maar voor wij dat"""
_OTHER = frozenset(_OTHER_WORDS.split())
_LATIN_LAST = 0x024F  # Latin Extended-B: beyond it, another script


def readable(text: str) -> bool:
    """True when `text` has words and looks like English."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    foreign_script = sum(1 for c in letters if ord(c) > _LATIN_LAST)
    if foreign_script * 10 > len(letters) * 3:  # over 30% of letters in another script
        return False
    words = [w.lower() for w in _WORD.findall(text)]
    english = sum(1 for w in words if w in _ENGLISH)
    other = sum(1 for w in words if w in _OTHER)
    if other >= 2 and other > english:
        return False
    # One foreign function word and accents, nothing English: "Merci à vous".
    accented = sum(1 for c in letters if 0x00C0 <= ord(c) <= _LATIN_LAST)
    return not (english == 0 and (other >= 1 and (accented or len(words) >= 3)))
