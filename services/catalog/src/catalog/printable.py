"""The printable checklist page a citizen takes home: plain HTML, print CSS, every text escaped."""

from __future__ import annotations

from html import escape

from contracts.catalog import ServicePublished

from catalog.views import Lang, checklist_entries

_LABELS: dict[str, dict[Lang, str]] = {
    "heading": {
        "ru": "Документы для услуги",
        "tt": "Хезмәт өчен документлар",
        "en": "Documents for the service",
    },
    "document": {"ru": "Документ", "tt": "Документ", "en": "Document"},
    "original": {"ru": "Оригинал", "tt": "Төп нөсхә", "en": "Original"},
    "copies": {"ru": "Копии", "tt": "Күчермәләр", "en": "Copies"},
    "notes": {"ru": "Примечание", "tt": "Искәрмә", "en": "Notes"},
    "yes": {"ru": "да", "tt": "әйе", "en": "yes"},
    "no": {"ru": "нет", "tt": "юк", "en": "no"},
    "exempt": {"ru": "Не требуется", "tt": "Кирәкми", "en": "Not needed"},
    "minutes": {
        "ru": "Примерное время приёма, мин",
        "tt": "Кабул итү вакыты, мин",
        "en": "Expected time, min",
    },
    "online": {"ru": "Можно подать онлайн", "tt": "Онлайн тапшырырга мөмкин", "en": "Can be done online"},
    "empty": {"ru": "Документы не требуются", "tt": "Документлар кирәкми", "en": "No documents needed"},
}

_CSS = """
body { font-family: "PT Sans", Arial, sans-serif; margin: 2rem; color: #111; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
p.meta { color: #444; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
th, td { border: 1px solid #999; padding: .4rem .5rem; text-align: left; vertical-align: top; }
td.box { width: 1.5rem; }
a { overflow-wrap: anywhere; }
@media screen and (max-width: 600px) {
  body { margin: 1rem; }
  thead { display: none; }
  table, tbody, tr, td { display: block; }
  tr { border: 1px solid #999; border-radius: 6px; padding: .4rem .5rem; margin-bottom: .5rem; }
  td { border: none; padding: .1rem 0; }
  td.box { float: left; width: 1.6rem; }
  td.doc { font-weight: bold; }
  td[data-label]::before { content: attr(data-label) ": "; color: #444; }
  td[data-label]:empty { display: none; }
}
@media print {
  body { margin: 1cm; font-size: 11pt; }
  a { color: #000; text-decoration: none; }
  a[href]::after { content: " (" attr(href) ")"; }
  tr { page-break-inside: avoid; }
}
"""


def _label(key: str, lang: Lang) -> str:
    return _LABELS[key][lang]


def render_checklist(service: ServicePublished, lang: Lang) -> str:
    title = escape(service.title.get(lang))
    rows = []
    for entry in checklist_entries(service, lang):
        notes = " ".join(
            part
            for part in (
                escape(entry.notes) if entry.notes else "",
                f"<em>{_label('exempt', lang)}: {escape(entry.exempt)}</em>" if entry.exempt else "",
            )
            if part
        )
        original = "yes" if entry.original else "no"
        rows.append(
            "<tr>"
            '<td class="box">&#9744;</td>'
            f'<td class="doc">{escape(entry.title)}</td>'
            f'<td data-label="{_label("original", lang)}">{_label(original, lang)}</td>'
            f'<td data-label="{_label("copies", lang)}">{entry.copies}</td>'
            f'<td data-label="{_label("notes", lang)}">{notes}</td>'
            "</tr>"
        )
    table = (
        "<table><thead><tr><th></th>"
        f"<th>{_label('document', lang)}</th><th>{_label('original', lang)}</th>"
        f"<th>{_label('copies', lang)}</th><th>{_label('notes', lang)}</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else f"<p>{_label('empty', lang)}</p>"
    )
    online = ""
    if service.online.available and service.online.url:
        url = escape(service.online.url, quote=True)
        online = f'<p>{_label("online", lang)}: <a href="{url}">{url}</a></p>'
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        # Opened from an SMS on a phone: the phone's width, not a zoomed-out desktop page.
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_label('heading', lang)}: {title}</h1>"
        f'<p class="meta">{escape(service.code)} · {_label("minutes", lang)}: {service.expected_minutes}</p>'
        f"{table}{online}</body></html>"
    )
