"""Turning an Answer into channel text: plain text (console, Zalo) or Telegram HTML, and splitting
long messages at paragraph boundaries."""

from __future__ import annotations

import html

from bot.answering.answer import Answer, Citation
from bot.texts import t

FAQ_PREFIX = "faq/"  # Q&A documents published from cases (bot/faq.py)


def _faq_label(c: Citation, lang: str) -> str:
    """A published officer's answer is cited as "Reply from <department>, <date>"."""
    return t("faq_cite", lang, department=c.source or "?", date=c.published or t("no_date", lang))


def citation_date(c: Citation, lang: str) -> str:
    """The published date; for a synced page that states none, the day it was fetched."""
    if c.published:
        return c.published
    return t("fetched_on", lang, date=c.fetched[:10]) if c.fetched else t("no_date", lang)


def recency_note(c: Citation, lang: str) -> str:
    """' — newer than: <title (date)>' when another document says nearly the same (or '')."""
    if c.newer_than:
        return f" — {t('newer_than', lang, other=c.newer_than)}"
    if c.older_than:
        return f" — {t('older_than', lang, other=c.older_than)}"
    return ""


def citation_line(c: Citation, lang: str) -> str:
    """[n] title, date, link (or the source's name and 'no link known'), translation label."""
    if c.doc_id.startswith(FAQ_PREFIX):
        return f"[{c.n}] {_faq_label(c, lang)}: {c.title}"
    date = citation_date(c, lang)
    where = c.url or f"{c.source + ', ' if c.source else ''}{t('no_link', lang)}"
    label = f" ({t('unofficial', lang)})" if c.unofficial_translation else ""
    return f"[{c.n}] {c.title}{label}, {date}, {where}{recency_note(c, lang)}"


def plain(answer: Answer) -> str:
    """The answer with its numbered sources, as plain text."""
    if not answer.citations:
        return answer.text
    lines = [answer.text, "", f"{t('sources_label', answer.language)}:"]
    lines += [citation_line(c, answer.language) for c in answer.citations]
    return "\n".join(lines)


def telegram_html(answer: Answer) -> str:
    """The answer in Telegram's HTML parse mode: all text escaped, sources as links."""
    body = html.escape(answer.text, quote=False)
    if not answer.citations:
        return body
    lang = answer.language
    lines = [body, "", f"<b>{html.escape(t('sources_label', lang))}:</b>"]
    for c in answer.citations:
        if c.doc_id.startswith(FAQ_PREFIX):
            lines.append(f"[{c.n}] {html.escape(_faq_label(c, lang), quote=False)}: "
                         f"{html.escape(c.title, quote=False)}")
            continue
        date = html.escape(citation_date(c, lang), quote=False)
        note = html.escape(recency_note(c, lang), quote=False)
        title = html.escape(c.title, quote=False)
        label = f" ({html.escape(t('unofficial', lang))})" if c.unofficial_translation else ""
        if c.url:
            link = f'<a href="{html.escape(c.url, quote=True)}">{title}</a>'
            lines.append(f"[{c.n}] {link}{label}, {date}{note}")
        else:
            src = html.escape(c.source + ", " if c.source else "")
            lines.append(f"[{c.n}] {title}{label}, {date}, {src}{html.escape(t('no_link', lang))}{note}")
    return "\n".join(lines)


def split_message(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraph breaks, then line breaks, then
    spaces; a piece never ends inside an HTML tag or entity when the text is HTML."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep)
            if cut > limit // 3:
                break
        if cut <= 0:
            cut = limit
        # do not cut inside a tag or an entity
        lt, gt = window.rfind("<", 0, cut), window.rfind(">", 0, cut)
        if lt > gt:
            cut = lt
        amp, semi = window.rfind("&", 0, cut), window.rfind(";", 0, cut)
        if amp > semi and cut - amp < 10:
            cut = amp
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest.strip():
        pieces.append(rest)
    return [p for p in pieces if p.strip()]
