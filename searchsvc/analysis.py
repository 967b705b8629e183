"""The text-analysis rules every engine shares: how text becomes the words that are indexed and
searched (tokens, apostrophes, case and accent folding, stop words, length limit, Porter2 stemming).

Engine-neutral: the Whoosh schema builds its analyzers from these constants and functions, and a
test checks that analyse() and analyse_plain() yield exactly what those analyzers yield."""

from __future__ import annotations

import re
import threading

import Stemmer

# Words are runs of letters and digits: "cartoq.com" is "cartoq" and "com", so either finds it.
# An apostrophe between two of them does not end a word, as in Unicode's word boundaries (UAX #29)
# and Lucene's standard tokenizer: "d'Or", "O'Brien", "aujourd'hui" and "Trump's" are one word
# each (see join_apostrophes for what the index keeps of them). The apostrophes: ' (U+0027), the
# right and left single quotation marks ’ ‘ (U+2019 and U+2018, which typesetting and autocorrect
# put in their place) and the fullwidth ＇ (U+FF07). The modifier letter apostrophe ʼ (U+02BC) is
# a letter: \w runs hold it already. (Possessive quantifiers: as fast as \w+ alone.)
TOKEN_PATTERN = r"\w++(?:['\u2019\u2018\uff07]\w++)*+"
APOSTROPHES = "'\u2019\u2018\uff07\u02bc"
# The endings of English possessives and contractions ("Trump's", "don't", "we'll", "I'm",
# "they're", "I've", "she'd"): cut from the end of a word, they leave what splitting the word at
# the apostrophe left before (their pieces are stop words), and keep "she'll" apart from "shell".
CLITICS = ("s", "t", "d", "m", "ll", "re", "ve")
# Increased whenever a change of these rules changes the words an index holds: an index records
# the version it was built with. 1: words split at apostrophes ("d'Or" was "d" and "or", both
# dropped). 2: apostrophes between letters join words (join_apostrophes).
ANALYSIS_VERSION = 2
# English function words, and the pieces a possessive or contraction leaves ("India's").
# Smaller than Whoosh's list on purpose: in news "US", "May", "Will", "IT" and "Can" are names.
STOP_WORDS = frozenset(
    "a an and are as at be by for from if in is of on or that the this to with s t d ll m re ve".split()
)
# Longer words are dropped from every text field when indexing and from queries (as Lucene's
# LengthFilter drops them): one 2,000,000-letter "word" must not cost anything per letter later
# (spelling variants, postings file widths, highlighting). 64 characters is also the postings
# files' term width (postings_file.MAX_TERM_BYTES), so every ASCII word fits them.
MAX_TOKEN_LENGTH = 64

# Function words dropped from a long relaxed query (one of more than and_like_words words, which is
# prose: "What countries have newly joined the United Nations?"): Lucene's English stop set, the
# question words, auxiliaries and other words that say nothing about a topic. They are in most
# long articles, so each one matched nudges long articles up. Short queries keep every word (the
# index's own stop list is smaller, see STOP_WORDS). Measured: CISI MAP 0.208 -> 0.215.
LONG_QUERY_FUNCTION_WORDS = frozenset(
    """a an and are as at be but by for if in into is it no not of on or such that the their then
    there these they this to was will with what which who whom whose how why when where did does do
    has have had were been being its them those some any than also about over after before during
    between other more most very can could would should""".split()
)

# Accent folding: exactly Whoosh's whoosh.support.charset.accent_map (the accent-folding table of
# aristus/accent-folding), applied after lower-casing as Whoosh's CharsetFilter is. It is kept
# verbatim rather than derived from Unicode decompositions, for parity with indexes Whoosh built:
# it folds letters Unicode does not decompose (ø -> o, ß -> s, ł -> l, đ -> d, þ -> t), folds
# ligatures to their first letter (æ and ǽ -> a), maps a few characters oddly (Ĺ -> a; the lone
# combining marks U+0303 -> p, U+0308 -> t, U+030A -> y, U+030C -> j, U+0323 -> l, U+0329 -> s,
# U+0331 -> h) and leaves others alone that a decomposition would fold (ĳ, ŉ, Greek and Cyrillic
# letters, superscripts). Each target with the characters folded to it:
_FOLDED = {
    "0": "０",
    "1": "１",
    "2": "２",
    "3": "３",
    "4": "４",
    "5": "５",
    "6": "６",
    "7": "７",
    "8": "８",
    "9": "９",
    "A": "Ａ",
    "B": "Ｂ",
    "C": "Ｃ",
    "D": "Ｄ",
    "E": "Ｅ",
    "F": "Ｆ",
    "G": "Ｇ",
    "H": "Ｈ",
    "I": "Ｉ",
    "J": "Ｊ",
    "K": "Ｋ",
    "L": "Ｌ",
    "M": "Ｍ",
    "N": "Ｎ",
    "O": "Ｏ",
    "P": "Ｐ",
    "Q": "Ｑ",
    "R": "Ｒ",
    "S": "Ｓ",
    "T": "Ｔ",
    "U": "Ｕ",
    "V": "Ｖ",
    "W": "Ｗ",
    "X": "Ｘ",
    "Y": "Ｙ",
    "Z": "Ｚ",
    "a": "ÀÁÂÃÄÅàáâãäåĀāĂăĄąĹǍǎǞǟǠǡǢǣǺǻǼǽȀȁȂȃȦȧȺḀḁẚẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặⱥａ",
    "b": "ƀƁƂƃɃɓᵬḂḃḄḅḆḇｂ",
    "c": "ÇçĆćĈĉĊċČčƇƈȻȼɕḈḉｃ",
    "d": "ðĎďĐđƉƊƋƌȡɖɗᵭḊḋḌḍḎḏḐḑḒḓｄ",
    "e": "ÈÉÊËèéêëĒēĔĕĖėĘęĚěƎƏǝȄȅȆȇȨȩɆɇɚɝḔḕḖḗḘḙḚḛḜḝẸẹẺẻẼẽẾếỀềỂểỄễỆệｅ",
    "f": "ƑƒᵮḞḟｆ",
    "g": "ĜĝĞğĠġĢģƓǤǥǦǧǴǵɠḠḡｇ",
    "h": "HĤĥĦħȞȟ\u0331ḢḣḤḥḦḧḨḩḪḫẖⱧⱨｈ",
    "i": "IiÌÍÎÏìíîïĨĩĪīĬĭĮįİıƗǏǐȈȉȊȋɨḬḭḮḯỈỉỊịｉ",
    "j": "JĴĵǰȷɈɉɟʄʝ\u030cｊ",
    "k": "ĶķƘƙǨǩḰḱḲḳḴḵⱩⱪｋ",
    "l": "ĺĻļĽľĿŀŁłƚȴȽɫɬɭ\u0323ḶḷḸḹḺḻḼḽⱠⱡⱢｌ",
    "m": "ɱḾḿṀṁṂṃｍ",
    "n": "NnÑñŃńŅņŇňƝƞǸǹȠȵɲɳṄṅṆṇṈṉṊṋｎ",
    "o": "ÒÓÔÕÖØòóôõöøŌōŎŏŐőƟƠơǑǒǪǫǬǭǾǿȌȍȎȏȪȫȬȭȮȯȰȱɵṌṍṎṏṐṑṒṓỌọỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợｏ",
    "p": "PpƤƥ\u0303ṔṕṖṗⱣｐ",
    "q": "Ɋɋʠｑ",
    "r": "ŔŕŖŗŘřȐȑȒȓɌɍɼɽɾᵲᵳṘṙṚṛṜṝṞṟⱤｒ",
    "s": "SsßŚśŜŝŞşŠšȘșʂ\u0329ṠṡṢṣṤṥṦṧṨṩẛｓ",
    "t": "TÞþŢţŤťŦŧƫƬƭƮȚțȶȾʈ\u0308ᵵṪṫṬṭṮṯṰṱẗⱦｔ",
    "u": "ÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųƯưǓǔǕǖǗǘǙǚǛǜȔȕȖȗɄʉṲṳṴṵṶṷṸṹṺṻỤụỦủỨứỪừỬửỮữỰựｕ",
    "v": "ƲʋṼṽṾṿｖ",
    "w": "WŴŵẀẁẂẃẄẅẆẇẈẉẘｗ",
    "x": "ẊẋẌẍｘ",
    "y": "YÝýÿŶŷŸƳƴȲȳɎɏʏ\u030aẎẏẙỲỳỴỵỶỷỸỹｙ",
    "z": "ŹźŻżŽžƵƶƺǮǯȤȥʐʑẐẑẒẓẔẕⱫⱬｚ",
}
_FOLD = {ord(char): target for target, chars in _FOLDED.items() for char in chars}
_TOKENS = re.compile(TOKEN_PATTERN)
_NO_APOSTROPHES = {ord(char): None for char in APOSTROPHES}
_CLITIC = re.compile(rf"(?<=\w)[{APOSTROPHES}](?:{'|'.join(CLITICS)})\Z")
_STEMMERS = threading.local()


def stem(word: str) -> str:
    """Porter2 (Snowball English) from the reference C implementation (PyStemmer). Unlike
    Whoosh's default Porter it keeps "news" apart from "new"; unlike Whoosh's Python port of
    Porter2 it stems "added" to "add" (not "ad") and "emergency" apart from "emerge", and it is
    six times faster. One stemmer per thread (a PyStemmer object is not thread-safe)."""
    stemmer = getattr(_STEMMERS, "english", None)
    if stemmer is None:
        stemmer = _STEMMERS.english = Stemmer.Stemmer("english")
    return stemmer.stemWord(word)


def fold(text: str) -> str:
    """Lower-cased, accents folded: "Élysée" -> "elysee", "Øresund" -> "oresund"."""
    return text.lower().translate(_FOLD)


def join_apostrophes(word: str) -> str:
    """A lower-cased word without its apostrophes (APOSTROPHES): a last one that starts a
    possessive or a contraction (CLITICS) is cut with it ("trump's" -> "trump", "don't" -> "don",
    "o'neill's" -> "oneill"), the others are removed ("d'or" -> "dor", "o'brien" -> "obrien").

    So "d'Or", "d’Or" and "dor" are one word, as "O'Brien" and "obrien" are: typed without its
    apostrophe a word still finds it, and names transliterated both ways agree ("Qur'an" and
    "Quran", "Shi'ite" and "Shiite", "Hawai'i" and "Hawaii"). Cutting before removing keeps
    "we'll", "she'll" and "I'd" apart from "well", "shell" and "id". Applied after lower-casing and
    before accent folding, as the OpenSearch mapping's character filters see the text."""
    kept = word.translate(_NO_APOSTROPHES)
    if len(kept) == len(word):
        return word
    return _CLITIC.sub("", word, count=1).translate(_NO_APOSTROPHES)


def fold_token(token: str) -> str:
    """One token as the index compares it, before stop words and stemming: lower-cased,
    apostrophes joined (join_apostrophes), accents folded: "Trump’s" -> "trump", "d'Or" -> "dor"."""
    return join_apostrophes(token.lower()).translate(_FOLD)


def analyse_term(token: str) -> str:
    """The indexed word one token becomes ('' when it is dropped: a stop word or too long)."""
    word = fold_token(token)
    if not word or len(word) > MAX_TOKEN_LENGTH or word in STOP_WORDS:
        return ""
    return stem(word)


def analyse_plain_term(token: str) -> str:
    """The indexed word one token of a name (provider, domain) becomes: folded, not stemmed."""
    word = fold_token(token)
    return word if word and len(word) <= MAX_TOKEN_LENGTH else ""


def analyse(text: str) -> list[str]:
    """The words text is indexed and searched as: tokens, folded, stop words and words over
    MAX_TOKEN_LENGTH dropped, stemmed."""
    return [term for term in map(analyse_term, _TOKENS.findall(text)) if term]


def analyse_plain(text: str) -> list[str]:
    """The words of a name (provider, domain): tokens, folded, long ones dropped; not stemmed."""
    return [term for term in map(analyse_plain_term, _TOKENS.findall(text)) if term]


# the function words as the index spells them (stemmed; the index's stop words are never terms)
FUNCTION_TERMS = frozenset(analyse_term(word) for word in LONG_QUERY_FUNCTION_WORDS) - {""}
