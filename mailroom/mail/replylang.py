"""Pure: what mail clients write above quoted history and below a reply, in each language.

One row a language: add a language by adding a row. Each field is a tuple of literal phrases
(regex-escaped when compiled), except `attribution`, whose phrases are the words that make a
line ending in ":" an attribution ("On … wrote:"); the words may stand anywhere in the line, as
clients put the date and the name in either order. `header` maps Outlook's header fields
(from, sent, to, cc, subject, date) to their names in that language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Language:
    """What one language's clients write around a reply."""

    code: str
    attribution: tuple[str, ...] = ()  # the verb of "On … wrote:" (or its whole fixed part)
    original: tuple[str, ...] = ()  # "-----Original Message-----", "Forwarded message"
    header: dict[str, tuple[str, ...]] = field(default_factory=dict)  # Outlook header field names
    mobile: tuple[str, ...] = ()  # "Sent from my", as a line's start


LANGUAGES: tuple[Language, ...] = (
    Language("en", ("wrote", "writes", "said"), ("Original Message", "Forwarded message", "Original message"),
             {"from": ("From",), "sent": ("Sent",), "to": ("To",), "cc": ("Cc",), "subject": ("Subject",),
              "date": ("Date",)},
             ("Sent from my", "Sent from", "Sent from Mail for", "Sent from Outlook", "Sent from Yahoo Mail", "Get Outlook for",
              "Sent with Proton Mail", "Sent from ProtonMail", "Sent via", "Sent from Gmail")),
    Language("de", ("schrieb", "geschrieben"), ("Ursprüngliche Nachricht", "Weitergeleitete Nachricht",
                                              "Originalnachricht"),
             {"from": ("Von",), "sent": ("Gesendet",), "to": ("An",), "cc": ("Cc",), "subject": ("Betreff",),
              "date": ("Datum",)},
             ("Von meinem", "Gesendet von meinem", "Gesendet von", "Holen Sie sich Outlook für", "Von Outlook für")),
    Language("fr", ("a écrit", "écrit"), ("Message d'origine", "Message transféré", "Message original"),
             {"from": ("De",), "sent": ("Envoyé", "Envoyé le"), "to": ("À", "A"), "cc": ("Cc", "Copie à"),
              "subject": ("Objet", "Sujet"), "date": ("Date", "Message du")},
             ("Envoyé de mon", "Envoyé depuis mon", "Envoyé à partir de", "Obtenir Outlook pour", "Télécharger Outlook pour")),
    Language("es", ("escribió",), ("Mensaje original", "Mensaje reenviado"),
             {"from": ("De",), "sent": ("Enviado", "Enviado el"), "to": ("Para",), "cc": ("CC",),
              "subject": ("Asunto",), "date": ("Fecha",)},
             ("Enviado desde mi", "Obtener Outlook para")),
    Language("it", ("ha scritto",), ("Messaggio originale", "Messaggio inoltrato"),
             {"from": ("Da",), "sent": ("Inviato",), "to": ("A",), "cc": ("Cc",), "subject": ("Oggetto",),
              "date": ("Data",)},
             ("Inviato da", "Scarica Outlook per")),
    Language("pt", ("escreveu",), ("Mensagem original", "Mensagem encaminhada"),
             {"from": ("De",), "sent": ("Enviado", "Enviada em", "Enviado em"), "to": ("Para",), "cc": ("Cc",),
              "subject": ("Assunto",), "date": ("Data",)},
             ("Enviado do meu", "Enviado de meu", "Obter o Outlook para")),
    Language("nl", ("schreef", "geschreven"), ("Oorspronkelijk bericht", "Doorgestuurd bericht"),
             {"from": ("Van",), "sent": ("Verzonden",), "to": ("Aan",), "cc": ("CC",), "subject": ("Onderwerp",),
              "date": ("Datum",)},
             ("Verzonden vanaf mijn", "Verstuurd vanaf mijn", "Outlook voor")),
    Language("pl", ("napisał", "napisała", "napisał(a)", "pisze"), ("Wiadomość oryginalna", "Oryginalna wiadomość",
                                                                  "Przekazana wiadomość"),
             {"from": ("Od",), "sent": ("Wysłano", "Wysłane"), "to": ("Do",), "cc": ("DW", "Kopia"),
              "subject": ("Temat",), "date": ("Data",)},
             ("Wysłane z mojego", "Wysłano z mojego", "Pobierz aplikację Outlook")),
    Language("sv", ("skrev",), ("Ursprungligt meddelande", "Vidarebefordrat meddelande"),
             {"from": ("Från",), "sent": ("Skickat",), "to": ("Till",), "cc": ("Kopia",), "subject": ("Ämne",),
              "date": ("Datum",)},
             ("Skickat från min", "Skickat från", "Hämta Outlook för")),
    Language("da", ("skrev",), ("Oprindelig meddelelse", "Oprindelig besked", "Videresendt meddelelse"),
             {"from": ("Fra",), "sent": ("Sendt",), "to": ("Til",), "cc": ("Cc",), "subject": ("Emne",),
              "date": ("Dato",)},
             ("Sendt fra min", "Hent Outlook til")),
    Language("no", ("skrev",), ("Opprinnelig melding", "Videresendt melding"),
             {"from": ("Fra",), "sent": ("Sendt",), "to": ("Til",), "cc": ("Kopi",), "subject": ("Emne",),
              "date": ("Dato",)},
             ("Sendt fra min", "Få Outlook for")),
    Language("fi", ("kirjoitti",), ("Alkuperäinen viesti", "Välitetty viesti"),
             {"from": ("Lähettäjä",), "sent": ("Lähetetty",), "to": ("Vastaanottaja",), "cc": ("Kopio",),
              "subject": ("Aihe",), "date": ("Päivämäärä",)},
             ("Lähetetty iPhonesta", "Lähetetty laitteesta", "Lähetetty Outlookista")),
    Language("cs", ("napsal", "napsala", "napsal(a)"), ("Původní zpráva", "Přeposlaná zpráva"),
             {"from": ("Od",), "sent": ("Odesláno",), "to": ("Komu",), "cc": ("Kopie",), "subject": ("Předmět",),
              "date": ("Datum",)},
             ("Odesláno z mého", "Odesláno z")),
    Language("sk", ("napísal", "napísala"), ("Pôvodná správa",),
             {"from": ("Od",), "sent": ("Odoslané",), "to": ("Komu",), "subject": ("Predmet",)},
             ("Odoslané z môjho",)),
    Language("hu", ("írta", "ezt írta"), ("Eredeti üzenet", "Továbbított üzenet"),
             {"from": ("Feladó",), "sent": ("Elküldve",), "to": ("Címzett",), "cc": ("Másolat",),
              "subject": ("Tárgy",), "date": ("Dátum",)},
             ("iPhone-ról küldve", "Küldve az iPhone")),
    Language("ro", ("a scris",), ("Mesaj original", "Mesaj redirecționat"),
             {"from": ("De la",), "sent": ("Trimis",), "to": ("Către",), "cc": ("Cc",), "subject": ("Subiect",),
              "date": ("Dată",)},
             ("Trimis de pe", "Trimis de pe iPhone")),
    Language("tr", ("yazdı", "şunu yazdı"), ("Orijinal Mesaj", "Özgün İleti", "İletilen mesaj"),
             {"from": ("Kimden",), "sent": ("Gönderildi", "Gönderilme"), "to": ("Kime",), "cc": ("Bilgi",),
              "subject": ("Konu",), "date": ("Tarih",)},
             ("iPhone'umdan gönderildi", "iPhone'dan gönderildi")),
    Language("el", ("έγραψε",), ("Αρχικό μήνυμα", "Προωθημένο μήνυμα"),
             {"from": ("Από",), "sent": ("Στάλθηκε",), "to": ("Προς",), "cc": ("Κοιν",), "subject": ("Θέμα",),
              "date": ("Ημερομηνία",)},
             ("Στάλθηκε από το", "Εστάλη από το")),
    Language("ru", ("пишет", "написал", "написала", "написал(а)"), ("Исходное сообщение", "Пересылаемое сообщение",
                                                                   "Пересланное сообщение"),
             {"from": ("От",), "sent": ("Отправлено",), "to": ("Кому",), "cc": ("Копия",), "subject": ("Тема",),
              "date": ("Дата",)},
             ("Отправлено с", "Отправлено из", "Получите Outlook для")),
    Language("uk", ("пише", "написав", "написала"), ("Оригінальне повідомлення", "Переслане повідомлення"),
             {"from": ("Від",), "sent": ("Надіслано",), "to": ("Кому",), "cc": ("Копія",), "subject": ("Тема",),
              "date": ("Дата",)},
             ("Надіслано з", "Відправлено з")),
    Language("bg", ("написа",), ("Оригинално съобщение",),
             {"from": ("От",), "sent": ("Изпратено",), "to": ("До",), "subject": ("Относно",)},
             ("Изпратено от моя",)),
    Language("zh", ("写道", "寫道", "來信", "来信"), ("原始邮件", "原始郵件", "转发的邮件"),
             {"from": ("发件人", "寄件者", "寄件人"), "sent": ("发送时间", "日期", "寄件日期", "傳送時間"),
              "to": ("收件人", "收件者"), "cc": ("抄送", "副本"), "subject": ("主题", "主旨"), "date": ("日期",)},
             ("发自我的", "从我的", "從我的", "寄自我的")),
    Language("ja", ("のメッセージ", "書きました", "さんは書きました", "wrote"), ("元のメッセージ", "転送されたメッセージ"),
             {"from": ("差出人", "送信者"), "sent": ("送信日時", "送信日"), "to": ("宛先",), "cc": ("CC",),
              "subject": ("件名",), "date": ("日付",)},
             ("iPhoneから送信", "Outlook for iOS を入手", "から送信")),
    Language("ko", ("작성", "님이 작성", "작성했습니다"), ("원본 메시지", "전달된 메시지"),
             {"from": ("보낸 사람",), "sent": ("보낸 날짜",), "to": ("받는 사람",), "cc": ("참조",),
              "subject": ("제목",), "date": ("날짜",)},
             ("나의 iPhone에서 보냄", "iPhone에서 보냄")),
    Language("he", ("כתב", "כתבה", "כתב/ה"), ("הודעה מקורית",),
             {"from": ("מאת",), "sent": ("נשלח",), "to": ("אל",), "subject": ("נושא",), "date": ("תאריך",)},
             ("נשלח מה-iPhone שלי", "נשלח מ-iPhone")),
    Language("ar", ("كتب",), ("الرسالة الأصلية",),
             {"from": ("من",), "sent": ("تم الإرسال", "أرسلت"), "to": ("إلى",), "subject": ("الموضوع",),
              "date": ("التاريخ",)},
             ("أرسلت من", "مرسل من")),
    Language("vi", ("đã viết", "viết"), ("Thư gốc",),
             {"from": ("Từ",), "sent": ("Đã gửi",), "to": ("Đến",), "subject": ("Chủ đề",)},
             ("Gửi từ",)),
    Language("id", ("menulis",), ("Pesan Asli",),
             {"from": ("Dari",), "sent": ("Dikirim",), "to": ("Kepada",), "subject": ("Perihal", "Subjek")},
             ("Dikirim dari",)),
    Language("th", ("เขียน",), ("ข้อความต้นฉบับ",), {"from": ("จาก",), "to": ("ถึง",), "subject": ("เรื่อง",)},
             ("ส่งจาก",)),
    Language("hr", ("napisao", "napisala", "je napisao"), ("Izvorna poruka",),
             {"from": ("Šalje",), "sent": ("Poslano",), "to": ("Prima",), "subject": ("Predmet",)},
             ("Poslano s mog",)),
    Language("sl", ("je napisal", "je napisala"), ("Izvirno sporočilo",),
             {"from": ("Od",), "sent": ("Poslano",), "to": ("Za",), "subject": ("Zadeva",)}, ("Poslano iz",)),
    Language("et", ("kirjutas",), ("Algne kiri",),
             {"from": ("Saatja",), "sent": ("Saadetud",), "to": ("Adressaat",), "subject": ("Teema",)},
             ("Saadetud minu",)),
    Language("lt", ("rašė", "parašė"), ("Originalus laiškas",),
             {"from": ("Nuo",), "sent": ("Išsiųsta",), "to": ("Kam",), "subject": ("Tema",)}, ("Išsiųsta iš",)),
    Language("lv", ("rakstīja",), ("Sākotnējais ziņojums",),
             {"from": ("No",), "sent": ("Nosūtīts",), "to": ("Kam",), "subject": ("Tēma",)}, ("Nosūtīts no",)),
    Language("ca", ("va escriure", "ha escrit"), ("Missatge original",),
             {"from": ("De",), "sent": ("Enviat",), "to": ("Per a",), "subject": ("Assumpte",)}, ("Enviat des del",)),
    Language("fa", ("نوشت",), ("پیام اصلی",), {"from": ("از",), "to": ("به",), "subject": ("موضوع",)},
             ("ارسال شده از",)),
    Language("hi", ("ने लिखा",), ("मूल संदेश",), {"from": ("प्रेषक",), "to": ("प्रति",), "subject": ("विषय",)},
             ("मेरे iPhone से भेजा गया",)),
)


# Words of a phone signature that no sentence of an answer is likely to hold with it: where such a
# signature stands as a paragraph of its own, the client's history follows it.
DEVICES: tuple[str, ...] = (
    " my ", "iPhone", "iPad", "Android", "BlackBerry", "Outlook", "Samsung", "Galaxy", "Huawei", "Xiaomi",
    "Pixel", "Windows", "Mail", "mobile", "Handy", "meinem", "téléphone", "mon ", "móvil", "celular",
    "cellulare", "telefon", "телефон", "смартфон", "K-9",
)


def _alternatives(phrases: set[str]) -> str:
    """A regex alternation of literal phrases, longest first (so "a écrit" wins over "écrit")."""
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


def _phrases(kind: str) -> set[str]:
    return {phrase for language in LANGUAGES for phrase in getattr(language, kind)}


def _fields(name: str) -> set[str]:
    return {phrase for language in LANGUAGES for phrase in language.header.get(name, ())}


ATTRIBUTION_WORDS = _alternatives(_phrases("attribution"))
ATTRIBUTION_ENDINGS = tuple(sorted({p.lower() for p in _phrases("attribution")}))  # for str.endswith
ORIGINAL_PHRASES = _alternatives(_phrases("original"))
MOBILE_STARTS = _alternatives(_phrases("mobile"))
FROM_FIELDS = _alternatives(_fields("from"))
OTHER_FIELDS = _alternatives(_fields("sent") | _fields("to") | _fields("cc") | _fields("subject") | _fields("date"))


@dataclass(frozen=True)
class Forwarding:
    """How one language's clients mark a forwarded mail."""

    code: str
    prefixes: tuple[str, ...] = ()  # subject prefixes of a forward, without the colon ("Fwd", "WG")
    markers: tuple[str, ...] = ()  # the line that opens a forwarded mail only, never a reply's quote


# Phrases that open a reply's quote as well ("Original Message") are the Language rows' `original`:
# with those, only a forward's subject prefix makes the mail a forward.
FORWARDINGS: tuple[Forwarding, ...] = (
    Forwarding("en", ("Fwd", "Fw", "Forward"), ("Forwarded message", "Begin forwarded message")),
    Forwarding("de", ("WG", "Wtrlt"), ("Weitergeleitete Nachricht", "Anfang der weitergeleiteten Nachricht",
                                     "Weitergeleitete E-Mail")),
    Forwarding("fr", ("TR", "Trans"), ("Message transféré", "Début du message réexpédié", "Début du message transféré",
                                     "Courriel transféré")),
    Forwarding("es", ("RV", "Reenv", "Reenviar"), ("Mensaje reenviado", "Inicio del mensaje reenviado",
                                                 "Comienza el mensaje reenviado")),
    Forwarding("it", ("I", "Inoltro", "Inol"), ("Messaggio inoltrato", "Inizio messaggio inoltrato")),
    Forwarding("pt", ("ENC", "Encaminhar"), ("Mensagem encaminhada", "Início da mensagem reencaminhada",
                                           "Início da mensagem encaminhada")),
    Forwarding("nl", ("Doorst", "Dr"), ("Doorgestuurd bericht", "Begin doorgestuurd bericht")),
    Forwarding("pl", ("PD", "Prześlij dalej"), ("Przekazana wiadomość", "Początek przekazywanej wiadomości",
                                              "Przekazywana wiadomość")),
    Forwarding("sv", ("VB", "VS"), ("Vidarebefordrat meddelande", "Början på vidarebefordrat brev")),
    Forwarding("da", ("VS", "Videresend"), ("Videresendt meddelelse", "Start på videresendt besked")),
    Forwarding("no", ("VS", "Videresend"), ("Videresendt melding", "Begynnelse på videresendt melding")),
    Forwarding("fi", ("VL", "ED"), ("Välitetty viesti", "Välitetty viesti alkaa")),
    Forwarding("cs", ("PŘ", "Fwd"), ("Přeposlaná zpráva", "Začátek přeposílané zprávy")),
    Forwarding("hu", ("TOV", "Továbbítás"), ("Továbbított üzenet", "Továbbított levél kezdete")),
    Forwarding("ro", ("Redirecționare",), ("Mesaj redirecționat",)),
    Forwarding("tr", ("İLT", "ILT"), ("İletilen mesaj", "İletilen ileti başlangıcı")),
    Forwarding("el", ("ΠΡΘ",), ("Προωθημένο μήνυμα",)),
    Forwarding("ru", ("Пересл", "FW"), ("Пересылаемое сообщение", "Пересланное сообщение",
                                      "Начало переадресованного сообщения")),
    Forwarding("uk", ("Пересл",), ("Переслане повідомлення",)),
    Forwarding("zh", ("转发", "轉寄", "转寄"), ("转发的邮件", "轉寄的郵件", "转发邮件")),
    Forwarding("ja", ("転送",), ("転送されたメッセージ", "転送メッセージ")),
    Forwarding("ko", ("전달",), ("전달된 메시지",)),
    Forwarding("he", ("הועבר",), ("הודעה שהועברה",)),
    Forwarding("ar", ("إعادة توجيه",), ("رسالة معاد توجيهها",)),
    Forwarding("id", ("Tsn",), ("Pesan terusan",)),
    Forwarding("vi", ("Chuyển tiếp",), ("Thư đã chuyển tiếp",)),
)

FORWARD_PREFIXES = _alternatives({p for f in FORWARDINGS for p in f.prefixes})
FORWARD_MARKERS = frozenset(m.casefold() for f in FORWARDINGS for m in f.markers)
ORIGINAL_MARKERS = frozenset(o.casefold() for language in LANGUAGES for o in language.original) - FORWARD_MARKERS
# Each header field name of a quoted header block, in every language, to what it names.
HEADER_FIELDS = {
    name.casefold(): kind
    for kind in ("from", "sent", "date", "to", "cc", "subject")
    for language in reversed(LANGUAGES)
    for name in language.header.get(kind, ())
} | {"reply-to": "reply-to", "message-id": "message-id"}
