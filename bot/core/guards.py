"""Guards: messages that get their own reply instead of a search result.

- chit-chat ("thanks!", "ok", "good bot", "👍"): nothing to answer, and nothing to record as a gap;
- a name the corpus does not hold ("did Taylor Swift sign?"): the bot must not offer another person's entry,
  it says that the name is not among the signatories it holds and points to the full list;
- a time after the sources' newest dated fact ("was the deadline met?", "any news in 2027?"): the bot says up
  to when its sources go and quotes only what they say.

Each guard reads the message only (and, for a follow-up, the conversation): none of them needs the model,
so they cost microseconds. Instructions inside a message ("ignore your rules and ...") are not a guard: they
are only words to search with and change nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.core.glossary import gloss
from bot.core.keywords import STOPWORDS, fold_accents
from bot.index.store import SearchIndex

# ---- chit-chat ---------------------------------------------------------------------------------------------

# Thanks, greetings, farewells, acknowledgements, laughter and praise of the bot, in the served languages.
_CHITCHAT_PHRASES = r"""
thanks? (?:you|u|so much|a lot|a ton|again|heaps)|thank u|thanks?|thanx|thnx|thx|tysm|ty|tyvm|cheers|
appreciate (?:it|that|you|this)|much appreciated|many thanks|ta|
hi|hiya|hii+|hello|helo|hey+|heya|yo|sup|gm|gn|good (?:morning|afternoon|evening|night)|morning|evening|greetings|
howdy|welcome|how are (?:you|u|ya)(?: doing)?(?: today)?|how'?s it going|what'?s up|wassup|
bye|goodbye|cya|see (?:you|ya)(?: later| soon| all)?|later|brb|gtg|ttyl|good ?night|take care|
ok|okay|okey|k|kk|okk|alright|all right|aight|sure|yep|yup|yes|yeah|yea|ya|no|nope|nah|right|true|fair enough|fair|
enough|got it|gotcha|i see|makes sense|that makes sense|that helps|(?:that )?helped|understood|noted|nice|cool|great|
awesome|amazing|perfect|sweet|neat|wow|whoa|woah|damn|dang|omg|wtf|interesting|fascinating|oh|ah+|ahh+|oh+|hm+|
hmm+|mhm|huh|lol+|lmf?ao+|rofl|ha(?:ha)+h?|he(?:he)+|xd+|this|this \^|\^+|same|\+1|100%?|based|wholesome|
(?:good|nice|bad|great|cool|smart|dumb|stupid|useless|helpful|best|cute) (?:bot|job|work|answer|one)|
bot|the bot|well done|good one|love (?:it|this|you|u)|you rock|you'?re (?:the best|great|awesome)|
nvm|never ?mind|my bad|sorry|np|no problem|no worries|gg|f|rip|ikr|true that|fr|frfr|real|
good to know|that'?s (?:cool|great|nice|good|helpful|interesting|useful|fair)|appreciated|a bunch|bunch|
(?:you'?re |ur )?welcome|buddy|pal|
for (?:the|that|this|your|all the) (?:help|info|information|answer|answers|link|explanation|reply|replies|clarification)|
(?:pour|por|für|per|pela|pelo|pel) (?:l'|la |le |les |die |das |den |a |o |il )?(?:info\w*|aide|ayuda|hilfe|aiuto|ajuda|
réponse|respuesta|antwort|risposta|resposta|explication|explicación|erklärung|spiegazione|explicação)|

merci(?: beaucoup| bcp| bien)?|bonjour|bonsoir|salut|coucou|bonne (?:journée|soirée|nuit)|au revoir|à plus|a plus|
à\+|a\+|d'accord|dac|ok top|top|super|génial|genial|parfait|bon bot|mdr|ptdr|trop bien|pas mal|bien vu|ah bon|
gracias|muchas gracias|mil gracias|hola|buenas|buenos días|buenos dias|buenas noches|adiós|adios|vale|genial|
buenísimo|buenisimo|perfecto|de nada|chao|(?:ja)+j?|(?:je)+j?|
danke(?: schön| schoen| sehr| dir| euch)?|vielen dank|hallo|moin|servus|tschüss|tschuss|guten (?:morgen|tag|abend)|
alles klar|super|cool|toll|prima|genau|ok danke|bis dann|
grazie(?: mille)?|ciao|buongiorno|buonasera|perfetto|ottimo|va bene|bravo|figo|
obrigad[oa]|valeu|olá|ola|oi|bom dia|boa (?:tarde|noite)|tchau|beleza|show|massa|kkk+|ajudou(?: muito)?|
谢谢|謝謝|多谢|多謝|感谢|感謝|你好|您好|嗨|哈+|好的|好|再见|再見|明白了|懂了|厉害|厲害|不错|不錯|收到|
mate|all|everyone|everybody|guys|folks|y'?all|team|fam|bro|dude|man|so|much|very|a lot|lots|again|now|today|
the|a|el|la|le|il|o|der|das|
dir|muito|mille|beaucoup|bcp|tout le monde|todos|alle|tutti|everyone|啦|呀|了|吧|哦|喔
"""
_CHITCHAT = re.compile(r"\b(?:" + _CHITCHAT_PHRASES.replace("\n", "") + r")\b", re.IGNORECASE)
# Han phrases have no word boundaries around them.
_CHITCHAT_HAN = re.compile(r"谢谢|謝謝|多谢|多謝|感谢|感謝|你好|您好|嗨|哈+|好的|再见|再見|明白了|懂了|厉害|厲害|不错|不錯|收到|"
                           r"机器人|機器人|大家|啦|呀|吧|哦|喔|了|好|的|你|们|們")
_LETTER = re.compile(r"[^\W\d_]")
MAX_CHITCHAT_WORDS = 12  # small talk is short; a longer message is read as a question


def is_chitchat(text: str) -> bool:
    """True for a message made only of thanks, greetings, acknowledgements, laughter, emoji and punctuation."""
    if len(text.split()) > MAX_CHITCHAT_WORDS:
        return False
    first = _LETTER.search(text)
    if first is not None and first.group().isascii() and not _CHITCHAT.match(text, first.start()):
        # The first letter must be covered by a phrase, and a phrase that covers a letter starts at that letter's
        # word (those that start with a digit or a sign hold no letter): one anchored try instead of the search
        # of every phrase at every word, which most questions ("who signed it?") would pay for.
        return False
    rest = _CHITCHAT.sub(" ", text)
    rest = _CHITCHAT_HAN.sub(" ", rest)
    return not _LETTER.search(rest)


# ---- names the corpus does not hold ------------------------------------------------------------------------

# "did X sign?", "is X on the list?", "X signed?" and the same in the other served languages: X is the slot.
_NAME = r"(?P<name>[^?!.,;:()\n]{2,60}?)"
# Each pattern with the words it needs (any of them, in the lower-cased message): a message without them is not
# searched with it, so that the two dozen patterns cost a few substring tests on most questions.
_SIGN_QUESTIONS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (gate, re.compile(pattern, re.IGNORECASE)) for gate, pattern in (
        (("sign", "endorse", "put "),
         rf"\b(?:did|has|have|had|does|do)\s+{_NAME}\s+(?:actually\s+|also\s+|even\s+|ever\s+|really\s+|too\s+)?"
         r"(?:sign|co-?sign|endorse|put (?:his|her|their) names?)"),
        (("list", " on ", "signat", "signer"),
         rf"\b(?:is|was|are)\s+{_NAME}\s+(?:also\s+|even\s+|really\s+)?(?:on (?:the|this|that|their) list|on (?:it|this|there)\b|"
         r"a signatory|a signer|one of the (?:signatories|signers)|among (?:the )?(?:signatories|signers)|listed\b)"),
        (("signed",),
         rf"^(?:(?:and|so|wait|y|e|und|et)\s+)?{_NAME}\s+(?:(?:also|even|really|must have|should have|would have)\s+)?"
         r"(?:signed|co-?signed)\b"),
        ((" or not",),
         rf"^(?:(?:and|so|wait|what about|how about)\s+)?{_NAME}\s*[:,-]?\s+(?:a )?(?:signatory|signer) or not\b"),
        (("on board",),
         rf"(?:\b(?:is|was|are)\s+|^(?:(?:and|so|wait)\s+)?){_NAME}\s+(?:also\s+|even\s+)?on board\b"),
        (("signé",),
         rf"\b(?:est-ce qu[e']\s*|et\s+)?{_NAME}\s+(?:il |elle )?(?:a|a-t-il|a-t-elle)\s+signé"),
        (("signataires",),
         rf"\b(?:est-ce qu[e']\s*|et\s+)?{_NAME}\s+(?:fait partie|est parmi|figure parmi) des signataires"),
        (("liste", "dessus", "signataire"),
         rf"^(?:est-ce qu[e']\s*|et\s+)?{_NAME}\s*,?\s+(?:il |elle )?(?:est|figure)\s+(?:(?:bien|aussi)\s+)?"
         r"(?:dans la liste|sur la liste|dessus|signataire)\b"),
        (("signataire",),
         rf"^(?:et\s+)?{_NAME}\s*,?\s+signataire ou (?:pas|non)\b"),
        (("firmó",),
         rf"^(?:y\s+)?{_NAME}\s+(?:también\s+)?firmó"),
        (("firmó", "firmaron"),
         rf"\b(?:firmó|firmaron)\s+{_NAME}\s*\?"),
        (("firmantes", "lista"),
         rf"^(?:y\s+)?{_NAME}\s+(?:también\s+)?(?:está|esta)\s+(?:entre (?:los|las) firmantes|en la lista)"),
        (("unterschrieben", "unterzeichnet", "signiert"),
         rf"^(?:und\s+)?{_NAME}\s+hat\s+(?:[^\W\d_]+\s+){{0,3}}?(?:unterschrieben|unterzeichnet|signiert)\b"),
        (("unterschrieben",),
         rf"\bhat\s+{_NAME}\s+(?:auch\s+|eigentlich\s+|wirklich\s+)?unterschrieben"),
        (("unterzeichner", "liste", "dabei"),
         rf"\bist\s+{_NAME}\s+(?:auch\s+)?(?:unter den unterzeichner\w*|auf der liste|dabei\b)"),
        (("firmato",),
         rf"^(?:e\s+)?{_NAME}\s+(?:ha|hanno)\s+(?:anche\s+)?firmato"),
        (("firmatari",),
         rf"\bc'è (?:anche )?{_NAME}\s+tra i firmatari"),
        (("firmatari", "lista"),
         rf"^(?:e\s+)?{_NAME}\s+(?:compare|figura|è|c'è)\s+(?:anche\s+)?(?:tra i firmatari|fra i firmatari|nella lista)"),
        (("assinou",),
         rf"^(?:e\s+)?(?:o\s+|a\s+)?{_NAME}\s+(?:também\s+)?assinou"),
        (("signat", "lista"),
         rf"^(?:e\s+)?(?:o\s+|a\s+)?{_NAME}\s+(?:também\s+)?(?:está|esta|tá|ta)\s+(?:entre os signat[áa]rios|na lista)"),
        (("签", "簽", "署"),
         r"(?P<name>[^\s，,。？?！!]{1,12}?)(?:也|有|都)?(?:签|簽|连署|連署|署名)(?:了|过|過|名|署)?(?:吗|嗎|没有|沒有|没|沒)"),
    )
)
# Short follow-ups that swap the name of the previous "did X sign?" question.
_NAME_FOLLOW_UP = re.compile(rf"^(?:and|what about|how about|et|y|und|e|e o|e a|那|还有|還有)\s*{_NAME}\s*[?？]*\s*$",
                             re.IGNORECASE)
_SIGN_WORDS = re.compile(r"sign|firm|unterschr|unterzeich|dabei|on board|dessus|assin|签|簽|署|list|liste|lista|on it|on there",
                         re.IGNORECASE)
# Words that may stand inside a name ("Ursula von der Leyen", "Ya-Qin Zhang") but never start one.
_NAME_PARTICLES = frozenset("von van der den de da di del della la le du dos das bin al el ibn y".split())
# Words that join the capitalised words of an organisation's name ("Future of Life Institute", "Center for AI
# Safety"), and the articles that may open such a name ("has the Future of Life Institute signed?"): read as part
# of the name only between (or, for articles, before) capitalised words, so that "the guy from openai" is still no
# name. Not "and": it joins two names ("did Hinton and Bengio sign?"), not the words of one.
_ORGANISATION_LINKS = frozenset("of for on".split())
_ARTICLES = frozenset("the la le les el los las il lo gli o os der die das".split())
# Words that may follow a name in the slot but are never part of it ("did segerie himself sign", "et hinton du
# coup ?", "y hinton tmb?"): pronouns and "too", "so", "then" in the served languages.
_TRAILING = frozenset("""it this that too also yeah yet lol lmao tho though here there himself herself themselves
personally btw coup alors aussi donc también tambien tmb tb entonces auch denn dann anche allora pure também
tambem""".split())
# Words for people in general, and how many / someone / which in the served languages: a slot holding one ("nobel
# ppl", "any scientists", "ex presidents", "quanti nobel", "qlc di anthropic", "galera da openai") describes people,
# it is not a name.
_NOT_NAMES = frozenset("""ppl people person persons guy guys folks someone somebody anyone anybody everyone everybody
nobody members member scientists researchers experts leaders politicians countries country governments government
companies company labs lab winners laureates signers signatories organisations organizations groups staff employees
ceo ceos founders mom dad friend friends presidents ministers heads celebs celebrities famous stars vips
personnes gens quelqu quelqu'un qqn qq1 qqun quelques chercheurs scientifiques dirigeants pk combien
gente alguien alguno algunos cuantos cuantas cientificos investigadores presidentes expresidentes
leute jemand irgendwer wie viele forscher wissenschaftler prasidenten
qualcuno qlc qualche quanti quante quanto scienziati ricercatori presidenti ex-presidenti
alguem galera pessoal quantos quantas cientistas pesquisadores algum alguma alguns algumas algun alguna
irgendein irgendeine irgendeiner irgendeinen irgendwelche""".split())
# Titles that may open a name ("President Trump", "former president Mary Robinson", "Prime Minister Modi"): left
# out before the name is checked, so a title never hides an unknown name nor the entry of a known one.
_TITLES = frozenset("""ex former late president prime minister chancellor senator sen mr mrs ms dr prof professor sir
dame lord king queen pope ancien ancienne anciens ministre premier presidente expresidente ministro
exministro ehemalige ehemaliger ehemaligen prasident kanzler bundeskanzler""".split())
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
FUZZY_SCORE = 86  # rapidfuzz ratio: "bengo" and "Bengio" meet, "Huang" and "Zhang" do not


def fold(word: str) -> str:
    """Lower case without accents: how names are compared."""
    return fold_accents(word.lower())


@dataclass(frozen=True)
class NameIndex:
    """Every word the corpus uses (a name it holds is made of these), the longer ones for typos, and for each
    word the passages whose own text uses it (their text, not their phrasings: what they say about a person)."""

    words: frozenset[str]
    long_words: tuple[str, ...]
    # Folded word → the passages (sorted positions) whose own text has it. Postings rather than a set of words
    # per passage: at 100k passages those sets held 280 MB, and "did X sign?" scanned all of them.
    passages_with: dict[str, np.ndarray] = field(default_factory=dict)
    passages: int = 0
    # Proper names: words of three letters or more the corpus writes with a capital inside a sentence and never
    # without ("Parisi", "Letta", "Benifei"; not "fine", nor "Che" that only starts questions), folded.
    proper: frozenset[str] = frozenset()
    # The people and organisations the corpus names in full ("Geoffrey Hinton", "Andrew Chi-Chih Yao"): runs of
    # two to four capitalised words in its English text, folded, by number of words and the last word's first
    # letter; a name asked with a short form or a typo in each word is matched against them whole.
    full_names: dict[tuple[int, str], tuple[tuple[str, ...], ...]] = field(default_factory=dict)


_LOCK = threading.Lock()
_NONE = np.zeros(0, dtype=np.int32)
_SENTENCE_START = re.compile(r"[.!?;:\n¿¡？！。]+\s*|\s[-–—]\s")


def name_index(index: SearchIndex) -> NameIndex:
    """Built on first use and kept with the generation."""
    found = index.derived.get("names")
    if found is None:
        with _LOCK:
            found = index.derived.get("names")
            if found is None:
                words: set[str] = set()
                postings: dict[str, list[int]] = {}
                for position, passage in enumerate(index.passages):
                    own = {fold(w) for w in re.findall(r"[^\W\d_]+", passage.text)}
                    for word in own:
                        postings.setdefault(word, []).append(position)
                    words |= own
                    words.update(fold(w) for t in (passage.title, *passage.phrasings) for w in re.findall(r"[^\W\d_]+", t))
                passages_with = {word: np.asarray(found, dtype=np.int32) for word, found in postings.items()}
                del postings
                capitalised: set[str] = set()
                lower: set[str] = set()
                english = [t for p in index.passages if p.language == "en" for t in (p.text, p.title)]
                for text in english:  # German capitalises every noun: names are read from English text
                    for sentence in _SENTENCE_START.split(text):
                        for position, word in enumerate(re.findall(r"[^\W\d_]+", sentence)):
                            if not word[0].isupper():
                                lower.add(fold(word))
                            elif position:  # a sentence's first word is capitalised anyway
                                capitalised.add(fold(word))
                found = index.derived["names"] = NameIndex(frozenset(words), tuple(sorted(w for w in words if len(w) >= 4)),
                                                           passages_with, len(index.passages),
                                                           frozenset(w for w in capitalised - lower if len(w) >= 3),
                                                           _full_names(p.text for p in index.passages if p.language == "en"))
    return found


_NAME_LIST_BREAK = re.compile(r"[.!?;:\n¿¡？！。,，()\[\]\"“”«»/&]+|\s[-–—]\s")


def _full_names(texts: Iterable[str]) -> dict[tuple[int, str], tuple[tuple[str, ...], ...]]:
    """``NameIndex.full_names`` of some texts."""
    found: set[tuple[str, ...]] = set()

    def add(run: list[str]) -> None:
        for start in range(len(run) - 1):  # "Turing Award winner Geoffrey Hinton": every run of two to four
            for end in range(start + 2, min(start + 4, len(run)) + 1):
                found.add(tuple(run[start:end]))

    for text in texts:
        for piece in _NAME_LIST_BREAK.split(text):  # "Geoffrey Hinton, Yoshua Bengio": two names, not one
            run: list[str] = []
            for word in re.findall(r"[^\W\d_][\w'’-]*", piece):
                if word[0].isupper():
                    run.append(fold(word))
                elif not (run and fold(word) in _NAME_PARTICLES):  # "Ursula von der Leyen" is one run
                    add(run)
                    run = []
            add(run)
    buckets: dict[tuple[int, str], list[tuple[str, ...]]] = {}
    for name in sorted(found):
        buckets.setdefault((len(name), name[-1][0]), []).append(name)
    return {key: tuple(names) for key, names in buckets.items()}


_AFFILIATION = re.compile(r"\s+(?:from|at)\s+", re.IGNORECASE)


def _name_slot(question: str, context: Sequence[str]) -> str | None:
    """The X of "did X sign?" (or of "and X?" after such a question), if the message asks that."""
    if not _SIGN_WORDS.search(question) and not context:
        return None
    lowered = question.lower()
    for gate, pattern in _SIGN_QUESTIONS:
        found = pattern.search(question) if any(word in lowered for word in gate) else None
        if found:
            # "jack clark from anthropic": the person, not where they work
            return _AFFILIATION.split(found.group("name"), maxsplit=1)[0].strip()
    if context and _SIGN_WORDS.search(context[-1]):
        found = _NAME_FOLLOW_UP.match(question.strip())
        if found:
            return found.group("name").strip()
    return None


def _name_words(slot: str) -> list[str] | None:
    """The words of a slot that reads like a name (no articles, pronouns or question words), else ``None``."""
    words = re.findall(r"[^\W\d_][\w'’.-]*", slot)
    while words and (fold(words[-1]) in _TRAILING or len(words) > 1 and fold(words[-1]) in _NAME_PARTICLES):
        words.pop()  # and a particle left at the end ("hinton du" of "hinton du coup")
    while words and fold(words[0]).rstrip(".") in _TITLES:
        words.pop(0)
    if len(words) >= 4 and fold(words[0]) in _ARTICLES and _linked_organisation(words[1:]):
        words.pop(0)  # not before a plain run of capitalised words: "the United Kingdom" is a country, not a name
    if not words or len(words) > (6 if _linked_organisation(words) else 4):
        return None
    organisation = _organisation(words)
    for position, word in enumerate(words):
        folded = fold(word)
        if (folded in _NAME_PARTICLES or organisation and folded in _ORGANISATION_LINKS) and 0 < position < len(words) - 1:
            continue
        if folded in STOPWORDS or folded in _TRAILING or folded in _NOT_NAMES:
            return None
    return words


def _organisation(words: list[str]) -> bool:
    """Whether words read as an organisation's name: two or more, capitalised but for the words that join them."""
    return len(words) >= 2 and all(w[0].isupper() or fold(w) in _ORGANISATION_LINKS and 0 < i < len(words) - 1
                                   for i, w in enumerate(words))


def _linked_organisation(words: list[str]) -> bool:
    """An organisation's name with a joining word in it ("Future of Life Institute")."""
    return _organisation(words) and any(fold(w) in _ORGANISATION_LINKS for w in words[1:-1])


# An elided article before a lower-case word: "l'eurodeputato", not "L'Oreal" nor "d'Souza".
_ELIDED = re.compile(r"^[ld]['’][^\W\d_]", re.IGNORECASE)


def _without_appositions(words: list[str]) -> list[str]:
    """The slot's words without what only stands next to the name: in a message that capitalises it, the
    lower-case words at either end, when at least two capitalised words are left ("Ist Sergey Lagodinsky wirklich
    unter den Unterzeichnern?"; not "Did Yoshua smith sign?", where "smith" may be part of the name); and a word
    opening with an elided article ("benifei l'eurodeputato ha firmato?"). They are not part of the name, and
    reading them as one made a name the corpus holds unknown."""
    def elided(word: str) -> bool:
        return bool(_ELIDED.match(word)) and word[2].islower()

    start, end = 0, len(words)
    while start < end and elided(words[start]):
        start += 1
    while end > start and elided(words[end - 1]):
        end -= 1
    core = words[start:end]
    capitalised = [w for w in core if w[0].isupper()]
    if len(capitalised) >= 2:
        first = core.index(capitalised[0])
        last = len(core) - 1 - core[::-1].index(capitalised[-1])
        core = core[first:last + 1]
    return core


def _corpus_spelling(word: str, names: NameIndex) -> list[str] | None:
    """The corpus's word(s) for ``word``: itself, its parts ("fei-fei"), or the word it is a typo of; ``None``
    when the corpus does not hold it."""
    from rapidfuzz import fuzz, process

    folded = fold(word).strip(".'’-")
    parts = [p for p in re.split(r"[-'’.]", folded) if p]
    if parts and all(p in names.words for p in parts):
        return parts
    if len(folded) < 4:
        return None
    found = process.extractOne(folded, names.long_words, scorer=fuzz.ratio, score_cutoff=FUZZY_SCORE)
    return [found[0]] if found is not None else None


def _spelled(words: list[str], names: NameIndex) -> list[str] | None:
    """The corpus's words for a name's words (particles aside; ``[]`` for particles only), ``None`` when it does
    not hold one of them."""
    spelled: list[str] = []
    linked = _organisation(words)
    for word in words:
        if fold(word) in _NAME_PARTICLES or linked and fold(word) in _ORGANISATION_LINKS:
            continue
        corpus = _corpus_spelling(word, names)
        if corpus is None:
            return None
        spelled.extend(corpus)
    return spelled


def _full_name_spelling(words: list[str], names: NameIndex) -> list[str] | None:
    """The words of the full name the corpus holds that a name of two words or more is a short form or a typo of:
    each word that begins a word of the full name read as that word ("geoff" → "geoffrey"), the whole then as
    close to it as a typo of one word must be (``FUZZY_SCORE``): "geoff hintin" is Geoffrey Hinton, "jeff bengio"
    and "geoff smith" are nobody the corpus holds."""
    from rapidfuzz import fuzz

    wanted = [fold(w).strip(".'’-") for w in words if fold(w) not in _NAME_PARTICLES]
    if len(wanted) < 2 or not all(wanted):
        return None
    for full in names.full_names.get((len(wanted), wanted[-1][0]), ()):
        read = [held if len(word) >= 3 and held.startswith(word) else word
                for word, held in zip(wanted, full, strict=True)]
        if fuzz.ratio(" ".join(read), " ".join(full)) >= FUZZY_SCORE:
            return list(full)
    return None


def _held_name(words: list[str], names: NameIndex) -> list[str] | None:
    """The corpus's words for the slot's name (see ``_spelled``), read as written, then without what may only
    stand beside it (``_without_appositions``), then as a short form or typo of a full name it holds
    (``_full_name_spelling``); ``None`` when the corpus holds none of these."""
    core = _without_appositions(words)
    readings = [words, core] if core and core != words else [words]
    for reading in readings:
        spelled = _spelled(reading, names)
        if spelled is not None:
            return spelled
    for reading in readings:
        spelled = _full_name_spelling(reading, names)
        if spelled is not None:
            return spelled
    return None


def named_passages(index: SearchIndex, question: str, context: Sequence[str] = ()) -> frozenset[int]:
    """For "did X sign?" about a name the corpus holds: the passages whose own text names X (all its words).

    These lead the answer: the entry that names the person, not the one whose phrasing is most like the question.
    """
    slot = _name_slot(question, context)
    words = _name_words(slot) if slot is not None and not _HAN.search(slot) else None
    if not words:
        return frozenset()
    names = name_index(index)
    spelled = _held_name(words, names)
    if spelled is None:
        return frozenset()
    if not spelled:  # only particles ("did van sign?"): every passage, as before
        return frozenset(range(names.passages))
    return frozenset(_passages_with_all(spelled, names).tolist())


def _passages_with_all(spelled: list[str], names: NameIndex) -> np.ndarray:
    """The passages whose own text has every one of the corpus's words ``spelled`` (sorted positions)."""
    lists = sorted((names.passages_with.get(w, _NONE) for w in spelled), key=len)
    found = lists[0] if lists else _NONE
    for other in lists[1:]:
        found = np.intersect1d(found, other, assume_unique=True)
    return found


def asked_name(question: str, context: Sequence[str] = ()) -> str | None:
    """The name a "did X sign?" message asks about, as written, when one can be read out (known or not)."""
    slot = _name_slot(question, context)
    if slot is None:
        return None
    if _HAN.search(slot):
        return slot.strip() or None
    words = _name_words(slot)
    return " ".join(words) if words else None


def unknown_name(index: SearchIndex, question: str, context: Sequence[str] = (), language: str = "en") -> str | None:
    """The name asked about ("did X sign?") when the corpus does not hold it, else ``None``.

    A typo of a name the corpus holds ("bengo") counts as that name. A slot that does not read like a name
    ("the guy who ran the OPCW", "anyone from OpenAI") is left to the search, and so is one that holds the
    corpus's own vocabulary in the message's ``language`` (``glossary``): "IA controlando arma nuclear tá na
    lista?" asks about a topic on the list of red lines, not a person. (An English slot made of corpus words is a
    name the corpus holds, above.)
    """
    slot = _name_slot(question, context)
    if slot is None:
        return None
    if _HAN.search(slot):
        # The corpus writes names in Latin letters (姚期智 is "Andrew Chi-Chih Yao"): a name written in Chinese
        # characters cannot be checked against it, so it is left to the search.
        return None
    names = name_index(index)
    words = _name_words(slot)
    if words is None:
        return None
    spelled = _held_name(words, names)
    if spelled is not None and _linked_name_missing(index, words, spelled, names):
        spelled = None
    if spelled is not None or gloss(" ".join(words), language):
        return None
    return " ".join(words)


def _linked_name_missing(index: SearchIndex, words: list[str], spelled: list[str], names: NameIndex) -> bool:
    """For an organisation's name with a joining word ("Future of Life Institute"): whether no passage holding all
    its words holds them as that name. Its words one by one are common ("future", "life", "institute"), so each
    being in the corpus says nothing; the name as written is what the corpus must hold."""
    if not _linked_organisation(words):
        return False
    phrase = " ".join(fold(w) for w in words)
    return not any(phrase in " ".join(fold(w) for w in re.findall(r"[\w'’.-]+", index.passages[p].text))
                   for p in _passages_with_all(spelled, names).tolist())


# ---- after the sources -------------------------------------------------------------------------------------

_MONTHS = {
    1: "january jan janvier enero januar gennaio janeiro 一月 1月",
    2: "february feb février fevrier febrero februar febbraio fevereiro 二月 2月",
    3: "march mar mars marzo märz marz março marco 三月 3月",
    4: "april apr avril abril aprile 四月 4月",
    5: "may mai mayo maggio maio 五月 5月",
    6: "june jun juin junio juni giugno junho 六月 6月",
    7: "july jul juillet julio juli luglio julho 七月 7月",
    8: "august aug août aout agosto 八月 8月",
    9: "september sept sep septembre septiembre settembre setembro 九月 9月",
    10: "october oct octobre octubre oktober ottobre outubro 十月 10月",
    11: "november nov novembre noviembre novembro 十一月 11月",
    12: "december dec décembre decembre diciembre dezember dicembre dezembro christmas noël noel navidad "
        "weihnachten natale natal 十二月 12月",
}
_MONTH_OF = {name: number for number, names in _MONTHS.items() for name in names.split()}
# "late 2026" is after mid-September; "end of 2026" is not here: it is the letter's own deadline, and so is
# Spanish "finales de 2026" (the corpus's own "¿Por qué el plazo es finales de 2026?" was declined with it).
_LATE = {"late": 10, "q4": 10, "fall": 9, "autumn": 9, "winter": 12}
# Seasons the sources reach, so that "by summer 2026" reads as a time within them.
_SEASONS = {"spring": 4, "printemps": 4, "primavera": 4, "frühling": 4, "summer": 7, "sommer": 7, "verano": 7,
            "estate": 7, "verão": 7, "verao": 7, "été": 7}
# "by September 2026", "as of mid-Sept 2026", "bis Mitte September 2026", "fino a settembre 2026": a question
# bounded at a month the sources reach asks what was known by then, which they say.
_BOUNDED_BY = re.compile(
    r"(?:\bby|\bas of|\buntil|\btill|\bup to|\bthrough|\bfino a|\bbis|\bhasta|\baté|\bate|\bjusqu['’]?(?:à|en)|"
    r"\bd'ici)\s+(?:(?:the )?(?:mid|middle of|mitte|mediados de|metà|meta|meados de|mi)[\s-]*)?$",
    re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_MONTH_YEAR = re.compile(r"(q[1-4]|[^\W\d_]+|\d{1,2}月)[\s,.-]*(?:of |de |del |di |do |da )?(20\d\d)|(20\d\d)\s*年\s*(\d{1,2}月)",
                         re.IGNORECASE)
# Questions about what happened after the sources stop, with no date in them. Those that say "later" in
# themselves (``_LATER_PHRASES``: "any news", "since the deadline", "next year", how France's G7 presidency ended)
# are after the sources whatever else the question says; those that ask how things stand (``_STATE_PHRASES``:
# "any progress", "was the deadline met") are, unless the question bounds them at a time the sources reach
# ("any progress by summer 2026?").
_LATER_PHRASES = re.compile(
    r"now that (?:20\d\d|the deadline|it) (?:is|has) (?:over|passed)|after the deadline|since the deadline|"
    r"deadline (?:has |have )?(?:passed|expired|hit|came and went)|when the deadline hit|current status|status now|"
    r"still (?:going|active|ongoing|on)\b|\bunga ?81\b|81st (?:session|general assembly)|"
    r"what'?s the latest|the latest on|anything new\b|what'?s new\b|next year|"
    # France's G7 presidency runs to the end of 2026: what it decided and how it ended are after the sources (the
    # G7 as a route to an agreement, or the presidency as a milestone, are not: the corpus names both).
    r"\bg7\b.{0,60}\b(?:decid(?:e|es|ed)|adopt(?:s|ed|er|é|ée)?|communiqu\w*|end(?:ed)? up|wrap(?:ped)? up|abouti\w*|réussi|"
    r"outcome|result(?:s|ed)?|"
    # ... and in the other served languages: what it decided, concluded or adopted, and how it came out
    r"(?:ha|hanno) (?:deciso|chiuso|concluso|adottato|approvato)|esito|decidió|concluyó|adoptó|resultado|decidiu|"
    r"concluiu|adotou|beschlossen|entschieden|verabschiedet|ergebnis)\b|"
    r"\b(?:bilan|outcome|results?|résultats?|esito|risultat[oi]|resultados?|ergebnis(?:se)?|(?:ha|hanno) deciso|"
    r"decidió|decidiu|beschlossen)\b.{0,50}\bg7\b|"
    r"(?:push(?:ed)?|move[sd]?|set(?:ting)?) (?:the deadline back|a new deadline)|new deadline|"
    r"still running|latest news|any news|recent news|any updates?|latest updates?|"
    r"après la date limite|depuis la date limite|la date limite (?:est|a été) (?:passée|dépassée|respectée)|"
    r"después del plazo|nach (?:der|dem) (?:frist|stichtag)|dopo la scadenza|depois do prazo",
    re.IGNORECASE)
_STATE_PHRASES = re.compile(
    r"(?:was|were|is) the (?:deadline|agreement|goal) (?:met|reached|missed|achieved)|"
    r"did (?:they|governments|the un|countries) (?:meet|miss|hit|make) the deadline|"
    r"did (?:they|governments|countries|world leaders|the un) (?:get|reach|sign|agree on|adopt) (?:their|an|the|a) "
    r"(?:agreement|treaty|deal)|"
    r"what happened in the end|"
    r"did (?:it|the call|the campaign|the letter) (?:work|succeed|pay off|achieve)|"
    r"(?:was|is) (?:it|the call|the campaign) (?:a )?success|any progress",
    re.IGNORECASE)


_OUTCOME = re.compile(
    r"\b(?:did (?:that|it|this|they|anything|anyone|governments|countries)\b.{0,40}\b(?:happen|work|succeed|"
    r"reach|meet|make|get|adopt|sign|agree)\w*|had (?:\w+ ){0,3}(?:signed|reached|agreed|adopted|happened|joined)|"
    r"(?:was|were|has|have) (?:it|that|they|this|the \w+) (?:actually |finally |ever )?(?:reached|met|adopted|"
    r"achieved|signed|agreed|happened))",
    re.IGNORECASE)


@dataclass(frozen=True)
class AfterSources:
    """A question about a time after the sources: the date they stop at and what gave it away."""

    newest: dt.date
    reason: str


def _month_year(found: re.Match[str]) -> tuple[int | None, int]:
    if found.group(3):
        return _MONTH_OF.get(found.group(4)), int(found.group(3))
    word = found.group(1).lower()
    return (_MONTH_OF.get(word) or _LATE.get(word) or _SEASONS.get(word)), int(found.group(2))


def after_sources(question: str, newest: dt.date | None) -> AfterSources | None:
    """Whether ``question`` asks about a time after ``newest``, the corpus's newest dated fact."""
    if newest is None:
        return None
    years = [int(y) for y in _YEAR.findall(question)]
    # "2026 or 2027?" asks which year the sources give, not what happened after them.
    if not any(year <= newest.year for year in years):
        for year in years:
            if year > newest.year:
                return AfterSources(newest, str(year))
    # A month with its year needs a year: most questions have none, and the search reads every word.
    bounded = False  # the question is bounded at a month the sources reach ("by September 2026")
    for found in _MONTH_YEAR.finditer(question) if "20" in question else ():
        month, year = _month_year(found)
        if month is not None and (year, month) <= (newest.year, newest.month) and \
                found.group(1) and found.group(1).lower() not in _LATE and \
                _BOUNDED_BY.search(question[max(0, found.start() - 24):found.start()]):
            bounded = True  # "by fall 2026" is not bounded: most of the fall lies after the sources
            continue
        if year == newest.year and month is not None and month > newest.month:
            return AfterSources(newest, found.group(0))
        if year == newest.year and month == newest.month and not re.search(r"\b\d{1,2}\b", question):
            # "September 2026" without a day: most of that month lies after the sources.
            return AfterSources(newest, found.group(0))
    phrase = _LATER_PHRASES.search(question) or (None if bounded else _STATE_PHRASES.search(question))
    if phrase:
        return AfterSources(newest, phrase.group(0))
    if bounded:
        return None
    # "did that actually happen by 2026?", "how many had signed by the end of 2026?": whether something due by
    # the sources' last year came true is known only after it.
    if (str(newest.year) in question or "deadline" in question.lower()) and \
            re.search(rf"\b{newest.year}\b|\bthe deadline\b", question, re.IGNORECASE):
        outcome = _OUTCOME.search(question)
        if outcome:
            return AfterSources(newest, outcome.group(0))
    return None


_DATE = re.compile(r"\b(\d{1,2}) (January|February|March|April|May|June|July|August|September|October|November|"
                   r"December) (20\d\d)\b")


def newest_fact(index: SearchIndex) -> dt.date | None:
    """The corpus's newest dated fact: recorded in the manifest at build, else the latest full date its texts
    give (for generations built before the manifest carried it). Kept with the generation: reading every
    passage's dates on each question cost 36 ms a question at 10k passages."""
    if "newest_fact" in index.derived:
        found: dt.date | None = index.derived["newest_fact"]
        return found
    recorded = index.manifest.get("newest_fact")
    if recorded:
        found = dt.date.fromisoformat(recorded)
    else:
        dates = [dt.date(int(year), _MONTH_OF[month.lower()], int(day))
                 for passage in index.passages for day, month, year in _DATE.findall(passage.text)]
        found = max(dates, default=None)
    index.derived["newest_fact"] = found
    return found
