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
extend it, add a line: English | French | Spanish | German | Italian | Portuguese | Chinese, comma-separated
(a column may be empty: a name spelt the same in Latin script is only glossed from its Chinese transliteration).
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
general assembly | assemblée générale | asamblea general | generalversammlung, vollversammlung, un-vollversammlung, uno-vollversammlung | assemblea generale | assembleia geral | 大会, 联大
security council | conseil de sécurité | consejo de seguridad | sicherheitsrat, un-sicherheitsrat, uno-sicherheitsrat | consiglio di sicurezza | conselho de segurança | 安理会, 安全理事会
announced | annoncer, annoncé, annoncée, annonce | anunciar, anunció, anunciado | angekündigt, ankündigen, verkündet | annunciare, annunciato, annunciata | anunciar, anunciou, anunciado | 宣布
presented | présenter, présenté, présentée | presentar, presentó, presentado | vorgestellt, vorstellen, präsentiert | presentare, presentato, presentata | apresentar, apresentado, apresentada | 提出
where | où | dónde, donde | wo | dove | onde | 哪里, 在哪
when | quand | cuándo, cuando | wann | quando | quando | 什么时候, 何时
who | qui | quién, quien, quiénes | wer | chi | quem | 谁
why | pourquoi | por qué, porque | warum, wieso, weshalb | perché, perche | por que, porque, pq | 为什么
how many | combien | cuántos, cuántas, cuantos | wie viele | quanti, quante | quantos, quantas | 多少
how | comment | cómo, como | wie | come | como | 怎么, 如何, 怎样
date | date | fecha | datum | data | data | 日期
nobel | nobel, prix nobel, nobélisé, nobélisés | nobel, premio nobel, premios nobel | nobelpreis, nobel, nobelpreisträger, nobelpreisträgerin, nobelpreisträgern | nobel, premio nobel, premi nobel | nobel, prêmio nobel, prémio nobel | 诺贝尔, 诺奖
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
website | site, site web, site officiel, site internet, page officielle | sitio, sitio web, página, web, página oficial, página web | webseite, website, seite, homepage, internetseite, offizielle seite | sito, sito web, sito ufficiale, sito internet, pagina ufficiale | site, página, site oficial, página oficial | 网站, 官网, 官方网站, 网页
read | lire | leer | lesen | leggere | ler | 阅读, 看
text | texte, texte complet | texto, texto completo | text, wortlaut, volltext | testo, testo completo | texto, texto completo | 全文, 原文
quote | citer, citation, mot pour mot, textuellement | citar, cita, textual, textualmente | zitieren, zitat, wörtlich | citare, citazione, testualmente, testuale | citar, citação, literalmente | 原文, 引用, 原话
paragraph | paragraphe | párrafo | absatz | paragrafo | parágrafo | 段
summit | sommet | cumbre | gipfel | vertice | cúpula | 峰会
india | inde, new delhi, delhi | india, nueva delhi, delhi | indien, neu-delhi, delhi | india, nuova delhi, delhi | índia, nova délhi, nova delhi, délhi, delhi | 印度, 新德里, 德里
ai | ia, intelligence artificielle | ia, inteligencia artificial | ki, künstliche intelligenz | ia, intelligenza artificiale | ia, inteligência artificial | 人工智能, 人工智慧
sources | source, sources | fuente, fuentes | quelle, quellen | fonte, fonti | fonte, fontes | 来源
up to date | à jour, récent, récente, dernières | actualizado, reciente, últimas | aktuell, neueste | aggiornato, recente, ultime | atualizado, recente, últimas | 最新
criticism | critique, critiques, critiquer | crítica, críticas, críticos | kritik, kritiker, kritisiert | critica, critiche, critici | crítica, críticas, críticos | 批评
goal | but, objectif | objetivo, meta, propósito | ziel, zweck | obiettivo, scopo | objetivo, meta | 目的, 目标
mean | signifie, définition, veut dire | significa, definición | bedeutet, definition | significa, definizione | significa, definição | 意思, 定义
examples | exemple, exemples, concret, concrètes | ejemplo, ejemplos, concreto, concretas | beispiel, beispiele, konkret, konkrete | esempio, esempi, concreto, concrete | exemplo, exemplos, concreto, prática | 例子, 具体
cloning | clonage | clonación | klonen | clonazione | clonagem | 克隆
impersonation | se faire passer pour un humain, se font passer pour des humains, passer pour des gens, passer pour des vrais, passer pour des personnes, usurpation, usurper | hacerse pasar, suplantación, se hace pasar por humano, se hacen pasar por personas | ausgeben, als mensch | fingersi, finge, spacciarsi | se passar por humano, se passa por humano, fingir, finge | 冒充, 假装
self-replication | autoréplication, auto-réplication, se répliquer, s'autorépliquer, s'auto-répliquer | autorreplicación, auto-replicación, replicarse, autorreplicarse | selbstreplikation, selbst kopieren, selbstreplizierend, sich selbst kopieren, selbstvervielfältigung | autoreplicazione, auto-replicazione, replicarsi, autoreplicarsi | autorreplicação, auto-replicação, se replicar, autorreplicar | 自我复制, 自我繁殖, 自复制
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
parliament | parlement européen, parlementaire, parlementaires, député, eurodéputé | parlamento, diputado, eurodiputado | parlament, abgeordneter, abgeordnete | parlamento, deputato, europarlamentare | parlamento, deputado, eurodeputado | 议会, 议员
employees | employés, salariés, travaille | empleados, trabaja | mitarbeiter, arbeitet | dipendenti, lavora | funcionários, trabalha | 员工
physics | physique | física | physik | fisica | física | 物理
pioneers | pionniers, parrains | pioneros, padrinos | pioniere, paten | pionieri, padrini | pioneiros, padrinhos | 先驱, 教父
cyberattacks cyber | cyberattaque, cyberattaques, attaque informatique, attaques informatiques, piratage | ciberataque, ciberataques, ataque informático, ataques informáticos, hackeo | cyberangriff, cyberangriffe, cyberattacke, cyberattacken, hackerangriff, hackerangriffe | attacchi informatici, attacco informatico, cyberattacco, cyberattacchi | ciberataque, ciberataques, ataque cibernético, ataques cibernéticos, ataque hacker | 网络攻击, 黑客攻击, 网攻
lethal | létal, létale, mortel | letal, letales | tödlich | letale | letal | 致命
since | depuis | desde | seitdem, seit | da allora, dopo | desde | 以来, 之后
title | titre, intitulé | título, titulado | titel, überschrift | titolo | título | 标题, 名称
bot | bot, robot | bot, robot | bot, roboter | bot, robot | bot, robô | 机器人
answers | réponse, réponses | respuesta, respuestas | antwort, antworten | risposta, risposte | resposta, respostas | 回答, 答案
invent | inventer, invente, inventes, invente-t-il | inventar, inventa, inventas | erfinden, erfindet, ausgedacht | inventare, inventa, inventi | inventar, inventa | 编造, 捏造
faq | faq, foire aux questions | faq, preguntas frecuentes | faq, häufige fragen | faq, domande frequenti | faq, perguntas frequentes | 常见问题
killer robots lethal autonomous weapons | robots tueurs, robot tueur, robots tueurs autonomes | robots asesinos, robot asesino, robots letales | killerroboter, killer roboter, killer-roboter, killerrobotern | robot killer, robot assassini, robot assassino | robôs assassinos, robô assassino, robôs letais | 杀手机器人, 杀人机器人
lethal autonomous weapons | armes létales autonomes, armes autonomes létales, armes autonomes, systèmes d'armes létaux autonomes, sala | armas autónomas letales, armas letales autónomas, armas autónomas, sistemas de armas autónomas | tödliche autonome waffen, autonome waffen, autonome waffensysteme, autonomen waffen | armi autonome letali, armi letali autonome, armi autonome, sistemi d'arma autonomi | armas autônomas letais, armas autónomas letais, armas autônomas, sistemas de armas autônomas | 致命性自主武器, 致命自主武器, 自主武器, 自主武器系统
lethal force | force létale, usage de la force | fuerza letal, uso de la fuerza | tödliche gewalt, gewaltanwendung, waffengewalt | forza letale, uso della forza | força letal, uso da força | 致命武力, 使用武力
nuclear weapons | armes nucléaires, arme nucléaire, bombe atomique, arme atomique | armas nucleares, arma nuclear, bomba atómica | atomwaffen, atomwaffe, kernwaffen, nuklearwaffen, atombombe | armi nucleari, arma nucleare, bomba atomica | armas nucleares, arma nuclear, bomba atômica, bomba atómica | 核武器, 核武, 原子弹
nuclear command and control arsenals | commandement nucléaire, arsenal nucléaire, arsenaux nucléaires, bouton nucléaire, feu nucléaire | mando nuclear, arsenal nuclear, arsenales nucleares, botón nuclear | atomarsenal, atomwaffenarsenal, nukleararsenal, atomknopf, atomarer knopf | comando nucleare, arsenale nucleare, arsenali nucleari, bottone nucleare | comando nuclear, arsenal nuclear, arsenais nucleares, botão nuclear | 核指挥, 核武库, 核按钮, 核武器指挥
weapons of mass destruction | armes de destruction massive, adm | armas de destrucción masiva | massenvernichtungswaffen, massenvernichtungswaffe | armi di distruzione di massa | armas de destruição em massa | 大规模杀伤性武器, 大规模毁灭性武器
bioweapons biological weapons | armes biologiques, arme biologique, bioarmes, armes bactériologiques | armas biológicas, arma biológica, bioarmas | biowaffen, biowaffe, biologische waffen, b-waffen | armi biologiche, arma biologica, bioarmi | armas biológicas, arma biológica, bioarmas | 生物武器, 生化武器
chemical weapons | armes chimiques, arme chimique | armas químicas, arma química | chemiewaffen, chemiewaffe, chemische waffen, c-waffen, giftgas | armi chimiche, arma chimica | armas químicas, arma química | 化学武器, 化武
social scoring | notation sociale, score social, crédit social, scoring social | puntuación social, crédito social, calificación social | social scoring, sozialkredit, sozialkreditsystem, sozialpunkte, soziale bewertung | punteggio sociale, credito sociale, social scoring | pontuação social, crédito social, social scoring | 社会评分, 社会信用, 社会信用评分, 社会信用体系
mass surveillance spying citizens | espionner, espionnage, fichage, surveillance généralisée | espiar, espionaje, vigilancia generalizada | ausspionieren, spionage, bespitzelung, totalüberwachung | spiare, spionaggio, schedatura | espionar, espionagem, vigilância generalizada | 大规模监控, 大规模监视, 监视, 窃听
citizens population | citoyens, citoyen, population | ciudadanos, ciudadano, población | bürger, bürgerinnen, bevölkerung | cittadini, cittadino, popolazione | cidadãos, cidadão, população | 公民, 民众, 老百姓
impersonate humans | usurpation d'identité, se faire passer pour un humain, imiter un humain, deepfake, deepfakes, hypertrucage | suplantar, suplantación de identidad, hacerse pasar por humano, deepfake, deepfakes, ultrafalso | identitätsdiebstahl, sich als mensch ausgeben, deepfake, deepfakes | furto d'identità, fingersi umano, spacciarsi per umano, deepfake | se passar por humano, roubo de identidade, personificação, deepfake, deepfakes | 深度伪造, 深伪, 冒充人类, 假冒, 冒名
self-improvement improving themselves | auto-amélioration, s'améliorer elle-même, s'auto-améliorer, amélioration autonome | automejora, auto-mejora, mejorarse a sí mismos | selbstverbesserung, sich selbst verbessern, selbstverbessernd | automiglioramento, auto-miglioramento, migliorare se stessi | autoaperfeiçoamento, auto-aperfeiçoamento, automelhoria, se aperfeiçoar | 自我改进, 自我提升, 自我改良, 自我优化
shut down | éteindre, désactiver, débrancher | apagar, desactivar, desconectar, apagado | abschalten, ausschalten, abgeschaltet, abschaltung | spegnere, spegnimento, disattivare | desligar, desativar, desligamento | 关闭, 关机, 关停
power-seeking | recherche de pouvoir, quête de pouvoir, prise de pouvoir | búsqueda de poder | machtstreben, machtgier, streben nach macht | ricerca di potere | busca de poder, busca por poder | 寻求权力, 夺权, 追逐权力
existential risk | risque existentiel, risques existentiels, danger existentiel, menace existentielle | riesgo existencial, riesgos existenciales, amenaza existencial | existenzielles risiko, existenzielle risiken, existenzielle gefahr, existenzbedrohung | rischio esistenziale, rischi esistenziali, minaccia esistenziale | risco existencial, riscos existenciais, ameaça existencial | 生存风险, 存在性风险, 生存威胁, 存亡
losing control | perte de contrôle, perdre le contrôle, échapper au contrôle | pérdida de control, perder el control, fuera de control | kontrollverlust, kontrolle verlieren, außer kontrolle | perdita di controllo, perdere il controllo, fuori controllo | perda de controle, perda de controlo, perder o controle, fora de controle | 失控, 失去控制
surpass human capabilities | surpasser, dépasser les humains, capacités humaines, capacités | superar, superar a los humanos, capacidades humanas, capacidades | übertreffen, übersteigen, menschliche fähigkeiten, fähigkeiten | superare, superare gli esseri umani, capacità umane | superar, capacidades humanas, capacidades | 超越人类, 超过人类, 人类能力
harms | dommages, dommage, préjudice, préjudices, dégâts, nuisible, nuisibles | daños, daño, perjuicio, perjuicios, dañino, dañinos | schäden, schaden, schädlich, schädliche | danni, danno, dannoso, dannosi | danos, dano, prejuízo, nocivo, prejudicial | 危害, 伤害, 损害
human rights | droits humains, droits de l'homme | derechos humanos | menschenrechte, menschenrechtsverletzungen | diritti umani | direitos humanos | 人权
convention | convention, conventions | convención, convenio | konvention, übereinkommen | convenzione | convenção | 公约
Non-Proliferation Treaty NPT | traité de non-prolifération, tnp, non-prolifération, non prolifération | tratado de no proliferación, tnp, no proliferación | atomwaffensperrvertrag, sperrvertrag, nichtverbreitungsvertrag, npt, nichtverbreitung | trattato di non proliferazione, tnp, non proliferazione | tratado de não proliferação, tnp, não proliferação | 不扩散核武器条约, 核不扩散条约, 核不扩散, 防扩散
Biological Weapons Convention BWC | convention sur les armes biologiques, cabt | convención sobre armas biológicas, convención de armas biológicas | biowaffenkonvention, biowaffen-konvention, biowaffenübereinkommen, bwc | convenzione sulle armi biologiche | convenção sobre armas biológicas, convenção de armas biológicas | 禁止生物武器公约, 生物武器公约, 禁生物武器公约
Chemical Weapons Convention CWC | convention sur les armes chimiques, convention sur l'interdiction des armes chimiques, cac | convención sobre armas químicas, convención de armas químicas | chemiewaffenkonvention, chemiewaffen-konvention, chemiewaffenübereinkommen, cwc | convenzione sulle armi chimiche | convenção sobre armas químicas, convenção de armas químicas | 禁止化学武器公约, 化学武器公约, 禁化武公约, 化武公约
OPCW Organisation for the Prohibition of Chemical Weapons | oiac, organisation pour l'interdiction des armes chimiques | opaq, organización para la prohibición de las armas químicas | opcw, organisation für das verbot chemischer waffen | opac, organizzazione per la proibizione delle armi chimiche | opaq, organização para a proibição de armas químicas | 禁化武组织, 禁止化学武器组织
entered into force | entrée en vigueur, en vigueur, entré en vigueur | entrada en vigor, en vigor, entró en vigor | in kraft, inkrafttreten, in kraft getreten | entrata in vigore, in vigore, entrato in vigore | entrada em vigor, em vigor, entrou em vigor | 生效
Montreal Protocol | protocole de montréal | protocolo de montreal | montreal-protokoll, montrealer protokoll, protokoll von montreal | protocollo di montreal | protocolo de montreal | 蒙特利尔议定书
ozone layer | couche d'ozone, ozone | capa de ozono, ozono | ozonschicht, ozonloch, ozon | strato di ozono, ozono, buco dell'ozono | camada de ozônio, camada de ozono, ozônio, ozono | 臭氧层, 臭氧
human cloning | clonage humain, cloner des humains | clonación humana, clonar humanos | klonen von menschen, menschliches klonen, menschenklonen, klonverbot | clonazione umana | clonagem humana | 克隆人, 人类克隆, 人的克隆
declaration | déclaration | declaración | deklaration | dichiarazione | declaração | 宣言
EU AI Act article 5 | ai act, règlement européen sur l'ia, loi européenne sur l'ia, règlement sur l'ia, règlement ia | ai act, ley de ia, ley europea de ia, reglamento europeo de ia, reglamento de ia | ai act, ki-verordnung, ki-gesetz, eu-ki-gesetz, ki verordnung | ai act, regolamento europeo sull'ia, regolamento sull'ia, legge europea sull'ia | ai act, lei europeia de ia, regulamento europeu de ia, lei de ia | 欧盟人工智能法案, 人工智能法案, 欧盟AI法案, AI法案, ai法案, 人工智能法
IAEA | aiea, agence internationale de l'énergie atomique | oiea, organismo internacional de energía atómica | iaea, iaeo, internationale atomenergiebehörde, atomenergiebehörde | aiea, agenzia internazionale per l'energia atomica | aiea, agência internacional de energia atômica | 国际原子能机构, 原子能机构
international agency body | agence internationale, organisme international, agence, organisme | agencia internacional, organismo internacional, agencia, organismo | internationale behörde, behörde, agentur, aufsichtsbehörde, gremium | agenzia internazionale, organismo internazionale, agenzia, organismo | agência internacional, organismo internacional, agência, órgão | 国际机构, 监管机构, 国际组织
inspect | inspecter, inspection, inspections, inspecteurs | inspeccionar, inspección, inspecciones, inspectores | inspizieren, inspektion, inspektionen, inspekteure, kontrolleure | ispezionare, ispezione, ispezioni, ispettori | inspecionar, inspeção, inspeções, inspetores | 检查, 视察, 核查人员
audits auditable | audit, audits, auditable, auditer, auditables | auditoría, auditorías, auditable, auditar | audit, audits, prüfbar, auditierbar, prüfung | audit, revisione, auditing | auditoria, auditorias, auditável, auditáveis | 审计, 审核, 可审计
independent | indépendant, indépendante, indépendants, indépendantes | independiente, independientes | unabhängig, unabhängige, unabhängigen | indipendente, indipendenti | independente, independentes | 独立
comply compliance | respecter, respect, conformité, se conformer | cumplir, respetar, respeto, conformidad | einhaltung, einhalten, befolgen, befolgung | rispetto, rispettare, conformità | cumprir, cumprimento, respeitar, conformidade | 遵守, 合规
violations punished | violation, violations, sanction, sanctions, punir, sanctionner | violación, violaciones, sanción, sanciones, castigar, castigo | verstoß, verstöße, sanktion, sanktionen, bestrafen, strafe | violazione, violazioni, sanzione, sanzioni, punire | violação, violações, sanção, sanções, punir, punição | 违反, 违规, 制裁, 惩罚
mechanisms | mécanisme, mécanismes | mecanismo, mecanismos | mechanismus, mechanismen | meccanismo, meccanismi | mecanismo, mecanismos | 机制
negotiation | négociation, négociations, négocier | negociación, negociaciones, negociar | verhandlung, verhandlungen, verhandeln | negoziato, negoziati, negoziazione, negoziare | negociação, negociações, negociar | 谈判, 磋商
resolution | résolution | resolución | resolution | risoluzione | resolução | 决议
commitments pledges | engagements, engagement, promesses | compromisos, compromiso, promesas | verpflichtungen, selbstverpflichtungen, zusagen | impegni, impegno, promesse | compromissos, compromisso, promessas | 承诺
governance | gouvernance mondiale, gouvernance de l'ia, gouvernance internationale | gobernanza | governance, steuerung | governance | governança | 治理
campaign | campagne | campaña | kampagne | campagna | campanha | 宣传活动, 运动
call initiative | initiative | iniciativa | initiative | iniziativa | iniciativa | 倡议书
statement | déclaration, communiqué | declaración, comunicado | stellungnahme | dichiarazione, comunicato | declaração, comunicado | 声明
open letter | pétition | petición | petition | petizione | petição, abaixo-assinado | 请愿书, 联名信
add my name join | rejoindre, ajouter mon nom, participer, adhérer | unirme, sumarme, añadir mi nombre, participar, adherirme | mitmachen, beitreten, meinen namen hinzufügen, teilnehmen | aderire, unirmi, aggiungere il mio nome, partecipare | aderir, participar, adicionar meu nome, juntar | 加入, 加上我的名字
form | formulaire | formulario | formular | modulo | formulário | 表格, 表单
link | lien | enlace, link | link | link, collegamento | link | 链接, 网址
summary summarise | résumé, résumer, en bref, résume | resumen, resumir, resume, en resumen | zusammenfassung, zusammenfassen, kurzfassung, fasse | riassunto, riassumere, riassumi, sintesi | resumo, resumir, resuma | 总结, 概括, 摘要, 简介
status | situation, avancement, bilan | situación, estado actual, avance | stand, status, stand der dinge | situazione, punto della situazione, stato attuale | situação, andamento, status | 进展, 现状
next steps follow-up | prochaines étapes, suivi | próximos pasos, seguimiento | nächste schritte, weiterverfolgung, wie geht es weiter | prossimi passi, seguito | próximos passos, acompanhamento | 后续, 下一步
research agenda | programme de recherche, agenda de recherche | agenda de investigación | forschungsagenda | agenda di ricerca | agenda de pesquisa | 研究议程
AI safety | sécurité de l'ia, sûreté de l'ia, sécurité ia | seguridad de la ia | ki-sicherheit, ki sicherheit | sicurezza dell'ia | segurança da ia | 人工智能安全, AI安全, ai安全
CeSIA French Center for AI Safety | cesia, centre pour la sécurité de l'ia | cesia, centro para la seguridad de la ia | cesia, französisches zentrum für ki-sicherheit | cesia, centro per la sicurezza dell'ia | cesia, centro para a segurança da ia | 法国人工智能安全中心, 人工智能安全中心
The Future Society | future society | future society | future society | future society | future society | 未来社会
CHAI Berkeley Center for Human-Compatible AI | berkeley, université de berkeley, université de californie | berkeley, universidad de california | berkeley, university of california | berkeley, università della california | berkeley, universidade da califórnia | 伯克利, 加州大学伯克利分校, 人类兼容人工智能中心
Google DeepMind | | | | | | 谷歌, 深度思维
Microsoft | | | | | | 微软
AI labs | laboratoires, laboratoire, labos, labo | laboratorios, laboratorio | labore, labor, ki-labore | laboratori, laboratorio | laboratórios, laboratório | 实验室
industry | industrie, secteur | industria, sector | industrie, branche | industria, settore | indústria, setor | 行业, 产业, 业界
chief scientist | directeur scientifique, scientifique en chef | científico jefe, jefe científico, director científico | chefwissenschaftler, wissenschaftlicher leiter | capo scientifico, direttore scientifico | cientista-chefe, cientista chefe, diretor científico | 首席科学家
chief information security officer | responsable de la sécurité informatique, rssi, chef de la sécurité | jefe de seguridad, responsable de seguridad informática | sicherheitschef, it-sicherheitschef, informationssicherheitschef | responsabile della sicurezza, capo della sicurezza | chefe de segurança, diretor de segurança da informação | 首席信息安全官, 安全主管, 安全负责人
refused declined rejected | refusé, refuser, refusent, décliné, rejeté, rejette | rechazó, rechazar, rechazado, se negó, negarse | abgelehnt, ablehnen, lehnt, verweigert | rifiutato, rifiutare, respinto | recusou, recusar, rejeitou, rejeitar | 拒绝, 拒签
against objections | opposé, opposés, opposants, objections | opuesto, opositores, objeciones | dagegen, gegner, einwände | contrari, oppositori, obiezioni | contrários, opositores, objeções | 反对, 异议
diplomats | diplomate, diplomates, ambassadeur, ambassadrice | diplomático, diplomáticos, embajador, embajadora | diplomat, diplomaten, botschafter, botschafterin | diplomatico, diplomatici, ambasciatore | diplomata, diplomatas, embaixador | 外交官, 大使
former | ancien, anciens, ancienne, ex | ex, antiguo, antigua, expresidente | ehemalige, ehemaliger, ehemaligen | ex, ex presidente, ex premier | ex, antigo, antiga, ex-presidente | 前总统, 前总理, 前任, 前国家元首
ministers | ministre, ministres | ministro, ministros, ministra | minister, ministerin, ministern | ministro, ministri | ministro, ministros | 部长
politicians leaders | politiques, politiciens, hommes politiques, dirigeants | políticos, dirigentes, líderes | politiker, politikerin, spitzenpolitiker | politici, leader, dirigenti | políticos, dirigentes, líderes | 政治家, 政客, 领导人
journalist | journaliste | periodista | journalistin, journalist | giornalista | jornalista | 记者
historian | historien | historiador | geschichtswissenschaftler | | historiador | 历史学家
Peace Prize | prix nobel de la paix, paix | premio nobel de la paz, paz | friedensnobelpreis, friedenspreis, frieden | nobel per la pace, pace | nobel da paz, paz | 和平奖
Turing Award | prix turing, turing | premio turing, turing | turing-preis, turingpreis, turing award, turing | premio turing, turing | prêmio turing, prémio turing, turing | 图灵奖, 图灵
Secretary-General | secrétaire général | secretario general | generalsekretär | segretario generale | secretário-geral, secretário geral | 秘书长
White House | maison blanche | casa blanca | weißes haus, weißen haus | casa bianca | casa branca | 白宫
global dialogue on AI governance | dialogue mondial, dialogue mondial sur la gouvernance | diálogo global, diálogo mundial | globaler dialog, globalen dialog | dialogo globale, dialogo mondiale | diálogo global, diálogo mundial | 全球对话, 全球人工智能治理对话
independent international scientific panel | groupe scientifique, panel scientifique, groupe d'experts | panel científico, grupo científico, grupo de expertos | wissenschaftliches gremium, wissenschaftlicher beirat, expertengremium | panel scientifico, gruppo scientifico, gruppo di esperti | painel científico, grupo científico | 科学小组, 科学专家组, 独立国际科学小组
session high-level week | session, semaine de haut niveau, haut niveau | sesión, período de sesiones, alto nivel | sitzung, tagung, hochrangige woche | sessione, alto livello | sessão, alto nível | 届会, 高级别周, 高级别
speech | discours, discours d'ouverture, allocution | discurso | eröffnungsrede, ansprache, redebeitrag | discorso | discurso | 演讲, 讲话, 致辞
debate | débat, débats | debate, debates | debatte, aussprache | dibattito | debate | 辩论, 公开辩论
G7 | | | | | | 七国集团
New York | new york | nueva york | new york | new york | nova york, nova iorque | 纽约
Geneva | genève | ginebra | genf | ginevra | genebra | 日内瓦
Beijing | pékin | pekín, beijing | peking | pechino | pequim | 北京
International Dialogues on AI Safety IDAIS | dialogues internationaux sur la sécurité de l'ia, idais | diálogos internacionales sobre seguridad de la ia, idais | internationale dialoge zur ki-sicherheit, idais | dialoghi internazionali sulla sicurezza dell'ia, idais | diálogos internacionais sobre segurança da ia, idais | 人工智能安全国际对话, 国际人工智能安全对话
AI Impact Summit | sommet sur l'impact de l'ia, sommet de l'ia | cumbre sobre el impacto de la ia, cumbre de la ia | ki-gipfel, ai impact summit, gipfel zur wirkung der ki | vertice sull'impatto dell'ia, vertice sull'ia | cúpula de impacto da ia, cúpula da ia | 人工智能影响峰会, 人工智能影响力峰会, AI影响力峰会, 人工智能峰会
APEC Lima | apec, lima | apec, lima | apec, lima | apec, lima | apec, lima | 亚太经合组织, 利马
OECD | ocde | ocde | oecd | ocse | ocde | 经合组织
AFP | agence france-presse | agencia france-presse | | | agência france-presse | 法新社
Bengio | | | | | | 本吉奥, 本希奥, 本乔, 约书亚
Hinton | | | | | | 辛顿, 欣顿, 杰弗里
Harari | | | | | | 赫拉利, 尤瓦尔
Stuart Russell | | | | | | 罗素, 拉塞尔
Andrew Yao | | | | | | 姚期智
Ya-Qin Zhang | | | | | | 张亚勤
Dawn Song | | | | | | 宋晓冬
Maria Ressa | | | | | | 雷萨, 瑞萨
Mary Robinson | | | | | | 罗宾逊
Enrico Letta | | | | | | 莱塔
Juan Manuel Santos | | | | | | 桑托斯
Stiglitz | | | | | | 斯蒂格利茨
Acemoglu | | | | | | 阿西莫格鲁, 阿杰姆奥卢
Jennifer Doudna | | | | | | 杜德纳
Giorgio Parisi | | | | | | 帕里西
Joseph Sifakis | | | | | | 斯发基斯
Guterres | | | | | | 古特雷斯
Kratsios | | | | | | 克拉齐奥斯, 克拉西奥斯
Sam Altman | | | | | | 奥尔特曼, 奥特曼, 阿尔特曼
Demis Hassabis | | | | | | 哈萨比斯
Ian Goodfellow | | | | | | 古德费洛
Beijing Academy of Artificial Intelligence BAAI | | | | | | 北京智源人工智能研究院, 智源人工智能研究院, 智源研究院, 智源
Beijing Institute for AI Safety and Governance | | | | | | 北京前瞻人工智能安全与治理研究院, 前瞻人工智能安全与治理研究院, 前瞻研究院
Taiwan AI Labs | | | | | | 台湾人工智能实验室, 台湾人工智慧实验室
Reporters sans frontières | reporters sans frontières, rsf | reporteros sin fronteras, reporters sans frontières | reporter ohne grenzen, reporters sans frontières | reporter senza frontiere, reporters sans frontières | repórteres sem fronteiras, reporters sans frontières | 无国界记者
Foundation for European Progressive Studies FEPS | fondation européenne d'études progressistes | fundación europea de estudios progresistas | stiftung für europäische progressive studien | fondazione europea di studi progressisti | fundação europeia de estudos progressistas | 欧洲进步研究基金会
AI Governance and Safety Canada | gouvernance et sécurité de l'ia canada | gobernanza y seguridad de la ia canadá | | governance e sicurezza dell'ia canada | governança e segurança da ia canadá | 加拿大人工智能治理与安全
Gary Marcus | | | | | | 马库斯
Biden | | | | | | 拜登
Xi Jinping | | | | | | 习近平
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


# All the question words in one expression, each intent a named group, in the order of their names: the leftmost
# match, and at the same place the first name, as the earliest of the separate searches would give (one scan).
_INTENT_NAMES = sorted(INTENTS)
_ANY_INTENT = re.compile("|".join(f"(?P<i{k}>{INTENTS[name]})" for k, name in enumerate(_INTENT_NAMES)),
                         re.IGNORECASE)


def intent(text: str) -> str | None:
    """What the first question word of ``text`` asks for: who, when, where, why, how many; ``None`` without one."""
    found = _ANY_INTENT.search(text)
    return _INTENT_NAMES[int(found.lastgroup[1:])] if found and found.lastgroup else None


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


def _chinese_terms(text: str) -> list[str]:
    """The English of the Chinese terms in ``text``, longest terms first: a term inside a longer one found there
    counts only where it stands alone (杀手机器人 is killer robots, not also 机器人 "bot" and 人 "people"; 核查
    is verification, not 核 "nuclear")."""
    taken = [False] * len(text)
    hits: list[tuple[int, str]] = []
    for phrase, english in _chinese_longest_first():
        start = text.find(phrase)
        while start != -1:
            end = start + len(phrase)
            if not all(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                hits.append((start, english))
                break
            start = text.find(phrase, start + 1)
    return [english for _, english in sorted(hits)]


@functools.cache
def _chinese_longest_first() -> list[tuple[str, str]]:
    return sorted(((phrase, english) for (phrase,), english in _entries()["zh"]), key=lambda e: -len(e[0]))


@functools.cache
def _by_first_stem() -> dict[str, dict[str, list[tuple[tuple[str, ...], str]]]]:
    """The glossary's phrases of each language by their first stem, so a question is read in one pass."""
    table: dict[str, dict[str, list[tuple[tuple[str, ...], str]]]] = {}
    for language, entries in _entries().items():
        for phrase, english in entries:
            table.setdefault(language, {}).setdefault(phrase[0], []).append((phrase, english))
    return table


def warm_up() -> None:
    """Build the glossary's tables now (stemming every term: about a tenth of a second), so the first question in
    another language does not pay for it."""
    _by_first_stem()
    _chinese_longest_first()


def gloss(text: str, language: str) -> str:
    """The English words of the glossary terms in ``text`` (written in ``language``), in order; '' for English."""
    if language not in LANGUAGES[1:]:
        return ""
    found: list[str] = []
    if language == "zh":
        found = _chinese_terms(to_simplified(text))
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
