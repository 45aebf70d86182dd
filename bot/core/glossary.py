"""Reading a question in another language against an English corpus: the words this corpus is about, glossed.

The embedding model is English-centric and most FAQ answers are English, so "wer hat das bei der UNO
angekündigt?" finds little by itself. The glossary below maps the corpus's own vocabulary (the words its FAQ
questions use: sign, deadline, launch, red lines, government, treaty, weapons ...) from French, Spanish,
German, Italian, Portuguese and Chinese to English. A question in one of those languages is searched with the
English words of the terms it contains added ("... (who announce UN)"), which is classic dictionary-based
query translation for cross-language search: no generated text, nothing shown to anyone. Words are matched
by their Snowball stems (so "firmato", "firmata" and "firmatari" all find "sign"), Chinese terms as substrings after
traditional characters are simplified.

It also gives the question's intent, what its question word asks for (who, when, where, why, how many,
how): the model hardly tells "where was it launched?" from "when was it launched?", the ranking can.
Written by hand for this corpus (no bilingual dictionary package covers its terms in all six languages); to
extend it, add a line: English | French | Spanish | German | Italian | Portuguese | Chinese, comma-separated.
"""

from __future__ import annotations

import functools
import re

from bot.core.keywords import function_words, stem, to_simplified

LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "zh")

_GLOSSARY = """
sign | signer, signé, signée, signent, signataire, signataires, signature, signatures | firmar, firmó, firmaron, firmado, firmante, firmantes, firma, firmas | unterschreiben, unterschrieben, unterzeichnet, unterzeichner, unterzeichnerin, unterschrift, unterschriften | firmare, firmato, firmata, firmatari, firmatario, firma, firme | assinar, assinou, assinaram, assinado, assinada, signatário, signatários, assinatura, assinaturas | 签, 签署, 签名, 签字, 连署, 署名
list | liste | lista | liste | lista, elenco | lista | 名单, 列表
deadline | date limite, échéance, délai | plazo, fecha límite | frist, stichtag | scadenza, termine | prazo, data limite | 截止, 期限
launch | lancer, lancé, lancée, lancement, rendu public, rendue publique, publié, publiée | lanzar, lanzó, lanzamiento, lanzada, lanzado, se lanzó, publicado, publicada, publicó | starten, gestartet, start, veröffentlicht, lanciert | lanciare, lanciata, lanciato, lancio, pubblicato, pubblicata | lançar, lançada, lançado, lançamento, lançou, publicado, publicada | 发布, 启动, 推出, 发起, 发表, 公布
organised | organiser, organisé, organisée, organisateur, organisateurs, organisatrices | organizar, organizó, organizador, organizadores, organizada | organisiert, organisator, organisatoren, veranstalter, initiatoren | organizzare, organizzato, organizzatori, organizzata | organizar, organizou, organizador, organizadores | 组织者, 主办, 策划
behind | derrière | detrás | hinter, dahinter, steckt | dietro | por trás | 背后
letter | lettre, lettre ouverte | carta, carta abierta | brief, offener brief | lettera, lettera aperta | carta, carta aberta | 信, 公开信
call | appel | llamado, llamamiento | aufruf, appell | appello | apelo, chamado | 倡议, 呼吁
red lines | lignes rouges, ligne rouge | líneas rojas, línea roja | rote linien, rote linie, roten linien | linee rosse, linea rossa | linhas vermelhas, linha vermelha, red lines | 红线
government | gouvernement, gouvernements | gobierno, gobiernos | regierung, regierungen | governo, governi | governo, governos | 政府
country | pays, état, états | país, países, estado, estados | land, länder, staat, staaten | paese, paesi, stato, stati | país, países, estado, estados | 国家
agreement | accord, traité, entente | acuerdo, tratado | abkommen, vereinbarung, vertrag, einigung | accordo, trattato | acordo, tratado | 协议, 条约
ask | demander, demandent, exiger, réclamer, réclament, veulent | pedir, piden, exigir, exigen, quieren | fordern, verlangen, wollen | chiedere, chiedono, vogliono | pedir, pedem, exigir, querem | 要求
ban | interdire, interdit, interdite, interdiction | prohibir, prohibido, prohibida, prohibición | verbieten, verboten, verbot | vietare, vietato, vietata, divieto | proibir, proibido, proibida, proibição | 禁止
weapons | arme, armes | arma, armas | waffe, waffen | arma, armi | arma, armas | 武器
nuclear | nucléaire, nucléaires, atomique | nuclear, nucleares | atomwaffen, nuklear, atom | nucleare, nucleari | nuclear, nucleares | 核
biological | biologique, biologiques | biológica, biológicas | biologisch, biologische | biologica, biologiche | biológica, biológicas | 生物
chemical | chimique, chimiques | química, químicas | chemisch, chemische | chimica, chimiche | química, químicas | 化学
autonomous | autonome, autonomes | autónoma, autónomas | autonom, autonome | autonoma, autonome | autônoma, autônomas, autónoma | 自主
surveillance | surveillance de masse, surveillance | vigilancia masiva, vigilancia | massenüberwachung, überwachung | sorveglianza di massa, sorveglianza | vigilância em massa, vigilância | 监控
human control | contrôle humain | control humano | menschliche kontrolle | controllo umano | controle humano | 人类控制
risks | risque, risques, danger, dangers | riesgo, riesgos, peligro, peligros | risiko, risiken, gefahr, gefahren | rischio, rischi, pericolo, pericoli | risco, riscos, perigo, perigos | 风险, 危险
extinction | extinction | extinción | auslöschung, aussterben | estinzione | extinção | 灭绝
children | enfants, enfant, gamins | niños, niño, menores | kinder, kind | bambini, bambino, minori | crianças, criança | 儿童, 孩子
unemployment | chômage | desempleo, paro | arbeitslosigkeit | disoccupazione | desemprego | 失业
disinformation | désinformation | desinformación | desinformation | disinformazione | desinformação | 虚假信息, 错误资讯
manipulation | manipulation, manipuler | manipulación, manipular | manipulation, manipulieren | manipolazione, manipolare | manipulação, manipular | 操纵
binding | contraignant, contraignante, contraignantes, obligatoire | vinculante, obligatorio | verbindlich, bindend | vincolante, obbligatorio | vinculativo, vinculante, obrigatório | 约束
voluntary | volontaire, volontaires | voluntario, voluntarios, voluntaria | freiwillig, freiwillige | volontario, volontari | voluntário, voluntários | 自愿
companies | entreprise, entreprises, société, sociétés | empresa, empresas, compañía, compañías | firma, firmen, unternehmen, konzerne | azienda, aziende, società | empresa, empresas, companhia | 公司, 企业
enforcement | faire respecter, application, appliquer, contrôler | hacer cumplir, cumplimiento, aplicar | durchsetzen, durchsetzung, durchgesetzt | far rispettare, applicazione, applicare | fiscalizar, fiscalizado, fiscalização, aplicação, fazer cumprir | 执行, 监督
verification | vérifier, vérification | verificar, verificación | überprüfen, überprüfung, kontrolle | verificare, verifica | verificar, verificação | 核查, 验证
precedent | précédent, précédents | precedente, precedentes | präzedenzfall, vorbild | precedente, precedenti | precedente, precedentes | 先例
treaty | traité | tratado | vertrag | trattato | tratado | 条约
un | onu, nations unies | onu, naciones unidas | uno, vereinte nationen, un | onu, nazioni unite | onu, nações unidas | 联合国
general assembly | assemblée générale | asamblea general | generalversammlung, vollversammlung | assemblea generale | assembleia geral | 大会
security council | conseil de sécurité | consejo de seguridad | sicherheitsrat | consiglio di sicurezza | conselho de segurança | 安理会
announced | annoncer, annoncé, annoncée, annonce | anunciar, anunció, anunciado | angekündigt, ankündigen, verkündet | annunciare, annunciato, annunciata | anunciar, anunciou, anunciado | 宣布
presented | présenter, présenté, présentée | presentar, presentó, presentado | vorgestellt, vorstellen, präsentiert | presentare, presentato, presentata | apresentar, apresentado, apresentada | 提出
where | où | dónde, donde | wo | dove | onde | 哪里, 在哪
when | quand | cuándo, cuando | wann | quando | quando | 什么时候, 何时
who | qui | quién, quien, quiénes | wer | chi | quem | 谁
why | pourquoi | por qué, porque | warum, wieso, weshalb | perché, perche | por que, porque, pq | 为什么
how many | combien | cuántos, cuántas, cuantos | wie viele | quanti, quante | quantos, quantas | 多少
how | comment | cómo, como | wie | come | como | 怎么, 如何, 怎样
date | date | fecha | datum | data | data | 日期
nobel | nobel, prix nobel | nobel, premio nobel | nobelpreis, nobel | nobel, premio nobel | nobel, prêmio nobel, prémio nobel | 诺贝尔
laureates | lauréat, lauréats | laureado, laureados, galardonado | preisträger | vincitore, vincitori, premiati | laureado, laureados, premiado | 得主
scientists | scientifique, scientifiques, chercheur, chercheurs | científico, científicos, investigador, investigadores | wissenschaftler, forscher, forscherin | scienziato, scienziati, ricercatore, ricercatori | cientista, cientistas, pesquisador, pesquisadores | 科学家, 研究人员
experts | expert, experts | experto, expertos | experte, experten | esperto, esperti | especialista, especialistas | 专家
support | soutenir, soutien, soutenu, soutiens, appuyer, appui | apoyar, apoyo, apoyó, respaldar, respaldo | unterstützen, unterstützt, unterstützung | sostenere, sostenuto, sostegno, appoggiare | apoiar, apoiou, apoio | 支持
officially | officiellement, officiel, officielle | oficialmente, oficial | offiziell | ufficialmente, ufficiale | oficialmente, oficial | 正式, 官方
translation | traduction, version | traducción, versión | übersetzung, fassung, version | traduzione, versione | tradução, versão | 翻译, 版本, 中文版
french | français, française, en français | francés, francesa | französisch | francese | francês, francesa | 法语, 法文
spanish | espagnol | español, castellano | spanisch | spagnolo | espanhol | 西班牙语, 西班牙文
german | allemand | alemán | deutsch, auf deutsch | tedesco | alemão | 德语, 德文
italian | italien | italiano | italienisch | italiano, in italiano | italiano | 意大利语
portuguese | portugais | portugués | portugiesisch | portoghese | português | 葡萄牙语
chinese | chinois | chino | chinesisch | cinese | chinês | 中文
china | chine | china | china | cina | china | 中国
france | france | francia | frankreich | francia | frança | 法国
united states | états-unis, américains | estados unidos, eeuu, estadounidense | usa, vereinigte staaten, amerikaner | stati uniti, americani | estados unidos, eua, americanos | 美国
europe | europe, européen, européenne, ue | europa, europeo, europea, ue | europa, eu, europäisch, europäische | europa, europeo, europea, ue | europa, europeu, europeia, ue | 欧洲, 欧盟
press | presse, journaux, journal, médias, article | prensa, periódico, periódicos, medios, artículo | presse, zeitung, zeitungen, medien, artikel | stampa, giornale, giornali, media, articolo | imprensa, jornal, jornais, mídia, artigo | 媒体, 报道, 新闻
website | site, site web, site officiel | sitio, sitio web, página, web | webseite, website, seite | sito, sito web | site, página | 网站, 官网
read | lire | leer | lesen | leggere | ler | 阅读, 看
text | texte, texte complet | texto, texto completo | text, wortlaut, volltext | testo, testo completo | texto, texto completo | 全文, 原文
quote | citer, citation, mot pour mot, textuellement | citar, cita, textual, textualmente | zitieren, zitat, wörtlich | citare, citazione, testualmente, testuale | citar, citação, literalmente | 原文, 引用, 原话
paragraph | paragraphe | párrafo | absatz | paragrafo | parágrafo | 段
summit | sommet | cumbre | gipfel | vertice | cúpula | 峰会
india | inde, new delhi | india, nueva delhi | indien, neu-delhi | india, nuova delhi | índia, nova délhi | 印度, 新德里
ai | ia, intelligence artificielle | ia, inteligencia artificial | ki, künstliche intelligenz | ia, intelligenza artificiale | ia, inteligência artificial | 人工智能, 人工智慧
sources | source, sources | fuente, fuentes | quelle, quellen | fonte, fonti | fonte, fontes | 来源
up to date | à jour, récent, récente, dernières | actualizado, reciente, últimas | aktuell, neueste | aggiornato, recente, ultime | atualizado, recente, últimas | 最新
criticism | critique, critiques, critiquer | crítica, críticas, críticos | kritik, kritiker, kritisiert | critica, critiche, critici | crítica, críticas, críticos | 批评
goal | but, objectif | objetivo, meta, propósito | ziel, zweck | obiettivo, scopo | objetivo, meta | 目的, 目标
mean | signifie, définition, veut dire | significa, definición | bedeutet, definition | significa, definizione | significa, definição | 意思, 定义
examples | exemple, exemples, concret, concrètes | ejemplo, ejemplos, concreto, concretas | beispiel, beispiele, konkret, konkrete | esempio, esempi, concreto, concrete | exemplo, exemplos, concreto, prática | 例子, 具体
cloning | clonage | clonación | klonen | clonazione | clonagem | 克隆
impersonation | se faire passer pour, usurpation, se fait passer | hacerse pasar, suplantación, se hace pasar | ausgeben, als mensch | fingersi, finge, spacciarsi | se passar por, fingir, finge | 冒充, 假装
self-replication | autoréplication, se répliquer | autorreplicación, replicarse | selbstreplikation, selbst kopieren | autoreplicazione, replicarsi | autorreplicação, se replicar | 自我复制
crossed | franchi, franchie, dépassé, dépassée, franchir | cruzado, cruzada, cruzar | überschritten, überschreiten | superato, superata, oltrepassato | cruzada, cruzado, ultrapassada, ultrapassado | 越过
research | recherche, études, étude | investigación, estudios, estudio, papers | forschung, studie, studien | ricerca, studi, studio | pesquisa, estudos, estudo | 研究
spokespeople | porte-parole | portavoz, portavoces | sprecher, sprecherin | portavoce | porta-voz | 发言人
number | nombre | número, cantidad | anzahl, zahl | numero | número | 数量, 人数
people | personnes, gens | personas, gente | leute, personen, menschen | persone, gente | pessoas, gente | 人
organisations | organisations, ong, associations | organizaciones, ong | organisationen, ngos | organizzazioni, ong | organizações, ong | 机构, 组织
notable | célèbres, connus, connues, personnalités | famosos, conocidos, personalidades | bekannte, berühmte, prominente | famosi, noti, personalità | famosos, conhecidos, personalidades | 知名, 著名
public | public, grand public, n'importe qui | público, cualquiera | öffentlichkeit, jeder | pubblico, chiunque | público, qualquer um | 公众
ceo | pdg, patron, directeur général | director ejecutivo, ceo, jefe | chef, ceo, vorstandschef | amministratore delegato, ceo, capo | ceo, presidente executivo, chefe | 首席执行官, 老板
world | mondial, monde, mondiale | mundial, mundo | weltweit, welt | mondiale, mondo | mundial, mundo | 全球, 世界
humanity | humanité | humanidad | menschheit | umanità | humanidade | 人类
pandemics | pandémie, pandémies | pandemia, pandemias | pandemie, pandemien | pandemia, pandemie | pandemia, pandemias | 疫情, 大流行
deceptive | trompeur, tromperie, tromper | engañoso, engaño, engañar | täuschend, täuschung, täuschen | ingannevole, inganno, ingannare | enganoso, engano, enganar | 欺骗
accountable | responsable, responsables | responsable, responsables | verantwortlich | responsabile, responsabili | responsável, responsáveis | 负责
rules | loi, lois, règles, régulation, réglementation, cadre | ley, leyes, reglas, regulación, normas | gesetz, gesetze, regeln, regulierung | legge, leggi, regole, regolamentazione | lei, leis, regras, regulamentação | 法律, 规则, 监管
end | fin | fin, final | ende | fine | fim, final | 年底, 底
role | rôle | papel, rol | rolle | ruolo | papel | 角色
say | dit, dire, déclaré, a dit | dijo, decir, dicho | gesagt, sagen, sagt | detto, dire, dice | disse, dizer, diz | 说
position | position, avis, pense, pensent | posición, opinión, piensa, postura | meinung, position, haltung | posizione, opinione, pensa | posição, opinião, pensa | 态度, 立场
reaction | réaction, réagi, réagit | reacción, reaccionó | reaktion, reagiert | reazione, reagito | reação, reagiu | 反应
representative | représentant, représentants | representante, representantes | vertreter | rappresentante, rappresentanti | representante, representantes | 代表
event | événement, événements | evento, eventos | veranstaltung, event | evento, eventi | evento, eventos | 活动
workshop | atelier | taller | workshop | workshop, seminario | oficina, workshop | 研讨会
already | déjà | ya | schon, bereits | già | já | 已经
act | agir, action | actuar, acción | handeln | agire, azione | agir, ação | 行动
urgent | urgent, urgence, urgente | urgente, urgencia | dringend | urgente, urgenza | urgente, urgência | 紧急
minimal | minimal, minimales, minimum | mínimo, mínimas | minimal, mindest | minimo, minime | mínimo, mínimas | 最低
heads of state | président, présidente, premier ministre, chef d'état | presidente, primer ministro, jefe de estado | präsident, premierminister, staatschef | presidente, primo ministro, capo di stato | presidente, primeiro-ministro, chefe de estado | 总统, 总理, 元首
parliament | parlement, député, eurodéputé | parlamento, diputado, eurodiputado | parlament, abgeordneter, abgeordnete | parlamento, deputato, europarlamentare | parlamento, deputado, eurodeputado | 议会, 议员
employees | employés, salariés, travaille | empleados, trabaja | mitarbeiter, arbeitet | dipendenti, lavora | funcionários, trabalha | 员工
physics | physique | física | physik | fisica | física | 物理
pioneers | pionniers, parrains | pioneros, padrinos | pioniere, paten | pionieri, padrini | pioneiros, padrinhos | 先驱, 教父
cyber | cyberattaque, cyberattaques | ciberataque, ciberataques | cyberangriff, cyberangriffe | attacchi informatici | ciberataque, ciberataques | 网络攻击
lethal | létal, létale, mortel | letal, letales | tödlich | letale | letal | 致命
since | depuis | desde | seitdem, seit | da allora, dopo | desde | 以来, 之后
title | titre, intitulé | título, titulado | titel, überschrift | titolo | título | 标题, 名称
bot | bot, robot | bot, robot | bot, roboter | bot, robot | bot, robô | 机器人
answers | réponse, réponses | respuesta, respuestas | antwort, antworten | risposta, risposte | resposta, respostas | 回答, 答案
invent | inventer, invente, inventes, invente-t-il | inventar, inventa, inventas | erfinden, erfindet, ausgedacht | inventare, inventa, inventi | inventar, inventa | 编造, 捏造
faq | faq, foire aux questions | faq, preguntas frecuentes | faq, häufige fragen | faq, domande frequenti | faq, perguntas frequentes | 常见问题
"""

# What a question word asks for, in each served language.
INTENTS = {
    "who": r"\b(?:who|whom|whose|qui|quién|quien|quiénes|wer|wem|wen|chi|quem)\b|谁|誰",
    "when": r"\b(?:when|quand|cuándo|cuando|wann|quando)\b|什么时候|何时|何時|哪天|几时",
    "where": r"\b(?:where|où|dónde|donde|wo|dove|onde)\b|哪里|哪裡|在哪|何处",
    "why": r"\b(?:why|pourquoi|por qué|porque|warum|wieso|weshalb|perché|perche|por que|pq)\b|为什么|為什麼|为何",
    "how many": r"\b(?:how many|how much|combien|cuántos|cuántas|cuantos|cuantas|wie viele|wie viel|quanti|quante|"
                r"quantos|quantas)\b|多少",
}
_INTENTS = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in INTENTS.items()}


def intent(text: str) -> str | None:
    """What the first question word of ``text`` asks for: who, when, where, why, how many; ``None`` without one."""
    found = [(m.start(), name) for name, pattern in _INTENTS.items() for m in [pattern.search(text)] if m]
    return min(found)[1] if found else None


@functools.cache
def _entries() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """Per language: (stems of the foreign phrase, English words) pairs; Chinese phrases as simplified text."""
    entries: dict[str, list[tuple[tuple[str, ...], str]]] = {lang: [] for lang in LANGUAGES[1:]}
    for line in _GLOSSARY.strip().splitlines():
        columns = [c.strip() for c in line.split("|")]
        english = columns[0]
        for language, column in zip(LANGUAGES[1:], columns[1:], strict=True):
            for phrase in (p.strip() for p in column.split(",")):
                if not phrase:
                    continue
                if language == "zh":
                    entries[language].append(((to_simplified(phrase),), english))
                    continue
                dropped = function_words(language)
                stems = tuple(stem(w, language) for w in re.findall(r"[^\W\d_]+", phrase.lower().replace("'", " "))
                              if w not in dropped or len(phrase.split()) == 1)
                if stems:
                    entries[language].append((stems, english))
    return entries


@functools.cache
def _by_first_stem() -> dict[str, dict[str, list[tuple[tuple[str, ...], str]]]]:
    """The glossary's phrases of each language by their first stem, so a question is read in one pass."""
    table: dict[str, dict[str, list[tuple[tuple[str, ...], str]]]] = {}
    for language, entries in _entries().items():
        for phrase, english in entries:
            table.setdefault(language, {}).setdefault(phrase[0], []).append((phrase, english))
    return table


def gloss(text: str, language: str) -> str:
    """The English words of the glossary terms in ``text`` (written in ``language``), in order; '' for English."""
    if language not in LANGUAGES[1:]:
        return ""
    found: list[str] = []
    if language == "zh":
        simplified = to_simplified(text)
        found = [english for (phrase,), english in _entries()["zh"] if phrase in simplified]
    else:
        dropped = function_words(language)
        stems = [stem(w, language) for w in re.findall(r"[^\W\d_]+", text.lower().replace("'", " ").replace("’", " "))
                 if w not in dropped or intent(w)]
        starting = _by_first_stem()[language]
        for position, first in enumerate(stems):
            for phrase, english in starting.get(first, ()):
                if tuple(stems[position : position + len(phrase)]) == phrase:
                    found.append(english)
    return " ".join(dict.fromkeys(found))
