"""Words for keyword search, in the seven served languages.

A text becomes its content words: function words dropped (short lists of our own below: the published
stop-word lists drop words that carry meaning in this corpus, such as "call", "line", "end" or "date"),
each word reduced to its Snowball stem in the text's language (``snowballstemmer``: "firmato" and
"firmata" meet at "firm", "signatory" and "signatories" at "signatori"), then accents folded. Chinese has no
spaces: a run of Han characters becomes its characters and its character pairs (bigrams), after traditional
characters are mapped to simplified ones (OpenCC), so that 簽署 and 签署 meet.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata

_FUNCTION_WORDS = {
    "en": """a an the of to in on for by with is are was were be been being am what who whom whose which when where why
        how does do did done can could should would will shall may might must it its it's this that these those and or
        but not no from at as about into than then there their they them he she his her we our you your i me my any some
        all also so if there's what's who's s t ai just like really pls please tell know hey yo u ur r many much have has had
        get got make made""",
    "fr": """le la les un une des du de d l qu que qui quoi quel quelle quels quelles est sont été était ont a ai as pour
        par sur dans avec sans pourquoi comment quand où combien ce cette ces cet au aux et ou mais donc ne pas plus il
        elle ils elles nous vous je tu on leur leurs se sa son ses y en n c s j m t ça ca me te moi toi lui mon ma mes
        ton ta tes notre votre être avoir fait faire fais font faut peut est-ce alors bien aussi très va vont""",
    "es": """el la los las lo un una unos unas de del al a en y o pero que qué quien quién quienes cual cuál cuales como
        cómo cuando cuándo donde dónde por para con sin sobre es son fue fueron ser está están estar ha han hay se le
        les su sus mi mis tu tus yo me te nos este esta estos estas ese esa eso esto no si sí muy más ya también q
        hacer hace hacen""",
    "de": """der die das den dem des ein eine einen einem einer eines und oder aber nicht kein keine ist sind war waren
        wird werden hat haben hatte gibt es ich du er sie wir ihr mich mir dich dir sich wer was wann wo warum wie
        welche welcher welches zu im in am an auf aus bei mit von vom zum zur für über um durch nach noch schon auch
        nur so dass da denn doch mal eigentlich man machen macht""",
    "it": """il lo la i gli le un uno una di del della dei degli delle da dal dalla in nel nella con su sul sulla per
        tra fra e o ma che chi cosa come quando dove perché quale quali è sono era stato stata ha hanno ho c ci si non
        mi ti vi ne l questo questa questi quelle quello anche già più fare fa fanno""",
    "pt": """o a os as um uma uns umas de do da dos das em no na nos nas por pelo pela para com sem e ou mas que quem
        qual quais como quando onde porque é são foi foram ser está estão tem têm há se não me te lhe eu você ele ela
        eles elas isso isto esse essa este esta também já mais pq fazer faz fazem""",
}
FUNCTION_WORDS = {language: frozenset(words.split()) for language, words in _FUNCTION_WORDS.items()}
STOPWORDS = frozenset().union(*FUNCTION_WORDS.values())  # in any served language


def function_words(language: str) -> frozenset[str]:
    """The words dropped from a text in ``language``: its own function words and English ones (English
    words turn up in every language here: "AI", "red lines")."""
    return FUNCTION_WORDS.get(language, frozenset()) | FUNCTION_WORDS["en"]
# Han characters that only make a question a question (particles, pronouns, question words).
_HAN_STOP = frozenset("的了吗嗎呢吧啊呀么麼是在有我你他她它们們这這那个個和与與及谁誰什哪怎为為也都就还還")
_STEMMERS = {"en": "english", "fr": "french", "es": "spanish", "de": "german", "it": "italian", "pt": "portuguese"}
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PIECE = re.compile(rf"[{_HAN}]+|[^\W_{_HAN}]+")
_HAN_RUN = re.compile(rf"^[{_HAN}]+$")
_local = threading.local()


def _stemmer(language: str):  # noqa: ANN202 - snowballstemmer's type
    """Snowball stemmers keep state while they work, so each thread has its own."""
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    if language not in stemmers:
        import snowballstemmer

        stemmers[language] = snowballstemmer.stemmer(_STEMMERS[language])
    return stemmers[language]


@functools.lru_cache(maxsize=65536)
def stem(word: str, language: str) -> str:
    """The Snowball stem of a lower-case word in ``language`` (English for Chinese text), accents folded."""
    return fold_accents(_stemmer(language if language in _STEMMERS else "en").stemWord(word))


def fold_accents(word: str) -> str:
    """``word`` without its accents (compatibility-decomposed, combining marks dropped)."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


@functools.cache
def _converter():  # noqa: ANN202 - OpenCC's type
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional Chinese characters mapped to simplified ones (other text unchanged)."""
    return _converter().convert(text)


def _han_tokens(run: str) -> list[str]:
    """Characters and character pairs of a Han run, split where a question particle stands."""
    run = to_simplified(run)
    tokens: list[str] = []
    for part in re.split(f"[{''.join(_HAN_STOP)}]+", run):
        tokens.extend(part)
        tokens.extend(part[i : i + 2] for i in range(len(part) - 1))
    return tokens


def keyword_tokens(text: str, language: str = "en") -> list[str]:
    """Content words of ``text`` (written in ``language``), stemmed and accent-folded; Han as characters and pairs."""
    tokens: list[str] = []
    dropped = function_words(language)
    for piece in _PIECE.findall(text.replace("'", " ").replace("’", " ").lower()):
        if _HAN_RUN.match(piece):
            tokens.extend(_han_tokens(piece))
            continue
        if piece in dropped or len(piece) < 2:
            continue
        tokens.append(stem(piece, language))
    return tokens


def name_tokens(text: str, language: str, names: frozenset[str] = frozenset()) -> list[str]:
    """For a message in a Latin-script language other than English: the English stems of its names, where its own
    language stems them otherwise. The corpus spells names as English text does and its keyword index stems them
    as English, so "cosa ha detto Harari?" must search "harari", not the Italian stem "harar". A name is a word
    written with a capital ("Harari", "OpenAI"), or one of ``names``, the corpus's own proper names (folded: lower
    case, no accents), however it is written ("giorgio parisi c'è?")."""
    if language in ("en", "zh"):
        return []
    dropped = function_words(language)
    found = []
    for piece in _PIECE.findall(text.replace("'", " ").replace("’", " ")):
        lowered = piece.lower()
        if len(piece) < 2 or lowered in dropped or _HAN_RUN.match(piece):
            continue
        if lowered == piece and fold_accents(lowered) not in names:
            continue
        english = stem(lowered, "en")
        if english != stem(lowered, language):
            found.append(english)
    return found
