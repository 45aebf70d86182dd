"""Does a chat message ask something? Used where the bot answers without being addressed (answer channels,
forum threads), so it must catch questions that don't end with "?" and leave conversation alone.

A message asks something when one of its sentences ends with a question mark, opens like a question or a
request ("who…", "tell me…", "qui…", "wer…"), or says so indirectly ("I wonder who…", "does anyone know…",
"je me demande…"). Chinese questions are recognised by their question words and particles. Off-topic
questions still count: the answer path declines them, quietly (see ``discord_app.answer_channels``).
"""

from __future__ import annotations

import re

from bot.core.text import clean_question, has_words

# Links and Discord mentions/emoji can hold "?" (query strings) or words; they never make a question.
_NOISE = re.compile(r"https?://\S+|<a?:\w+:\d+>|<[@#][!&]?\d+>")
_SENTENCES = re.compile(r"(?<=[.!?…。！？:;])\s+|\n+")  # "kurz und knapp: was fordern die"
_QUESTION_MARK = re.compile(r"[?？¿]")

# Sentence openers that make a question or a request, in the languages members write in.
_OPENERS = frozenset("""
who whom whose what what's whats wat wats who's whos when's whens which when where why how how's hows is are r was were do does did can could should
would will shall may might has have had isn't aren't wasn't weren't doesn't don't didn't can't couldn't won't
wouldn't shouldn't hasn't haven't isnt arent wasnt werent doesnt dont didnt cant couldnt wont wouldnt
shouldnt any any1 anyone anybody someone somebody tell explain describe list show quote
give define clarify summarise summarize
qui que quoi quel quelle quels quelles quand où pourquoi comment combien est-ce est-ce-que y a-t-il dites
dis explique expliquez expliquer
quién quiénes qué cuál cuáles cuándo dónde por cómo cuánto cuántos cuánta cuántas
wer wen wem wessen was welche welcher welches wann wo warum wieso weshalb wie gibt hat haben ist sind kann
chi cosa che quale quali quando dove perché come quanto quanti
quem quais qual onde porque porquê quantos quantas
""".split()) | frozenset(
    # Requests for information, in the imperative, in the other served languages (English "tell", "quote", "show"
    # are above): "citami testualmente…", "dime quién…", "zeig mir…", "transcreve o 3º parágrafo…"
    """cite citez citer donne donnez montre montrez raconte racontez résume résumez résumer liste listez
dime dímelo explícame explica explique cita citá dame muéstrame muestra enumera resume resumí transcribe
sag sage nenn nenne nennt zeig zeige erklär erkläre erklärt zitier zitiere gib liste fasse
dimmi spiegami spiega citami cita dammi mostrami elenca elencami riportami riporta riassumi trascrivi
diga explica explique cite mostre mostra lista liste resuma transcreve transcreva""".split())

# Question words that may come second, after a greeting or a filler ("yo who signed this", "ok what about…").
_WH = frozenset("""
who whom whose what what's whats wat whos whens which when where why how qui quoi quel quelle quand où pourquoi comment combien
quién qué cuándo dónde cómo wer was wann wo warum wie chi cosa quando dove perché come quem qual onde
""".split())
# Words that may come before an opener without changing what it does ("wait so is this…", "and did…").
_FILLERS = frozenset("""
wait so ok okay hey yo lol ngl btw and but also hmm um uh well then oh hi hello also actually seriously
et alors mais donc bon ah euh y pero und aber also e ma então
""".split())

# Indirect questions and requests anywhere in a message ("I wonder who signed", "anyone know when…").
_INDIRECT = re.compile(
    r"\b(?:i\s+(?:wonder|was\s+wondering|am\s+wondering|'m\s+wondering|want\s+to\s+know|wanna\s+know"
    r"|would\s+like\s+to\s+know|'d\s+like\s+to\s+know|need\s+to\s+know|am\s+curious|'m\s+curious"
    r"|can't\s+find|cannot\s+find|couldn't\s+find)"
    r"|wondering\s+(?:who|what|when|where|why|how|if|whether)"
    r"|curious\s+(?:who|what|when|where|why|how|if|whether|about)"
    r"|not\s+sure\s+(?:who|what|when|where|why|how|if|whether)"
    r"|no\s+idea\s+(?:who|what|when|where|why|how|if|whether)"
    r"|(?:does|do)\s+(?:anyone|anybody|someone|somebody)\s+know|any(?:one|body)\s+know"
    r"|(?:can|could)\s+(?:you|someone|somebody|anyone)\s+(?:tell|explain|show|confirm|point)"
    r"|tell\s+me|pl[sz]|please|svp|stp|por\s+favor|per\s+favore|bitte|or\s+(?:nah|not|what|smth|something)"
    r"|ou\s+pas|ou\s+quoi|o\s+no|oder\s+nicht|exact\s+(?:words?|wording|quote|text|sentence)|verbatim"
    r"|word\s+for\s+word|mot\s+pour\s+mot|mots\s+exacts|texte\s+exact|palabras?\s+exactas?|palabra\s+por\s+palabra"
    r"|texto\s+exac?to|palavras?\s+exatas?|palavra\s+por\s+palavra|wörtlich|genauen?\s+wortlaut"
    r"|me\s+(?:diz|diga|mostra|mostre|explica|explique|passa|manda)\b|parole\s+esatte|parola\s+per\s+parola"
    r"|frase\s+esatta|testualmente"
    r"|c['’]?\s*(?:est\s+)?quoi|est\s+ce\s+que|help\s+me\s+understand|any\s+idea\s+(?:who|what|when|where|why|how|if|whether)"
    r"|je\s+me\s+demande|j['’]aimerais\s+savoir|je\s+voudrais\s+savoir|je\s+cherche\s+à\s+savoir"
    r"|quelqu['’]un\s+sait|savez-vous|sais-tu|dites-moi|dis-moi"
    r"|me\s+pregunto|quisiera\s+saber|me\s+gustaría\s+saber|alguien\s+sabe"
    r"|ich\s+frage\s+mich|weiß\s+jemand|ich\s+würde\s+gerne\s+wissen|ich\s+möchte\s+wissen"
    r"|mi\s+chiedo|qualcuno\s+sa|vorrei\s+sapere"
    r"|eu\s+me\s+pergunto|alguém\s+sabe|gostaria\s+de\s+saber|queria\s+saber)\b",
    re.IGNORECASE,
)
# ... and requests: "咋" (colloquial how), "X一下" (softened imperative: "发一下", "总结一下"), "请"/"麻烦" (please).
_CHINESE_QUESTION = re.compile(r"[吗嗎呢啥咋]|了没|什么|什麼|谁|誰|哪|怎么|怎麼|为什么|為什麼|多少|是否|有没有|有沒有|几|幾|"
                               r"一下|[请請](?!多[关關]照)|麻烦|麻煩")  # "请多关照" is a greeting
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def asks_something(text: str, *, clean: bool = False) -> bool:
    """True when ``text`` asks a question or for information, anywhere in it; False for chatter. ``clean``: the
    text is ``clean_question``'s already (cleaning is idempotent: it is not done twice)."""
    cleaned = _NOISE.sub(" ", text if clean else clean_question(text))
    if not has_words(cleaned):
        return False
    if _QUESTION_MARK.search(cleaned) or _INDIRECT.search(cleaned) or _CHINESE_QUESTION.search(cleaned):
        return True
    for sentence in _SENTENCES.split(cleaned):
        found = _WORD.findall(sentence.lower())
        while found and found[0] in _FILLERS:
            found = found[1:]
        # "citez-moi", "zeig's": the verb before its pronoun
        if found and (found[0] in _OPENERS or re.split(r"['’-]", found[0])[0] in _OPENERS
                      or any(word in _WH for word in found[1:3])):
            return True
    return False
