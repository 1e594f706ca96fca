"""Portal-like sites for the sync tests and benchmark: an English city portal and a Vietnamese
news site, each page wrapped in the navigation, footer and related-article chrome real portals
carry, plus a sitemap, an RSS feed, a listing page, a PDF plan and robots.txt."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

from tests.portal_server import PortalServer


@dataclass(frozen=True)
class Article:
    path: str
    title: str
    published: str  # ISO date
    paragraphs: tuple[str, ...]


EN_NAV = ("Home", "Government", "Investment", "News", "Tourism", "Contact")
VI_NAV = ("Trang chủ", "Chính trị", "Kinh tế", "Xã hội", "Văn hóa", "Liên hệ")


def en_portal_page(a: Article, base: str, related: list[Article]) -> str:
    """The English portal's article layout: header menu, breadcrumb, article, related list, footer."""
    nav = "".join(f'<li><a href="{base}/{n.lower()}/">{n}</a></li>' for n in EN_NAV)
    rel = "".join(f'<li><a href="{base}{r.path}">{html.escape(r.title)}</a></li>' for r in related)
    body = "".join(f"<p>{html.escape(p)}</p>" for p in a.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(a.title)} - Hai Phong Portal</title>
<link rel="canonical" href="{base}{a.path}">
<meta property="og:title" content="{html.escape(a.title)}">
<meta property="article:published_time" content="{a.published}T08:00:00+07:00">
</head><body>
<header><div class="logo">Hai Phong Portal</div><a class="lang" href="https://haiphong.gov.vn/">Tiếng Việt</a>
<nav><ul class="menu">{nav}</ul></nav>
<form class="search"><input name="q" placeholder="Search"></form></header>
<div class="breadcrumb"><a href="{base}/">Home</a> / <a href="{base}/news/">News</a></div>
<main><article class="news-detail">
<h1 class="title">{html.escape(a.title)}</h1>
<div class="date">Published: {a.published}</div>
<div class="content">{body}</div>
</article>
<aside class="related"><h3>Related news</h3><ul>{rel}</ul></aside></main>
<footer><p>Hai Phong City People's Committee. 18 Hoang Dieu, Hong Bang, Hai Phong.</p>
<p>Tel: (84-225) 3842 658. Copyright © Hai Phong Portal. All rights reserved.</p>
<a href="https://www.facebook.com/haiphong">Facebook</a></footer>
</body></html>"""


def vi_news_page(a: Article, base: str, related: list[Article]) -> str:
    """The Vietnamese news site's layout: top bar, menu, article with sapo, 'tin liên quan', footer."""
    nav = "".join(f'<a class="nav-item" href="{base}/chuyen-muc/{i}">{n}</a>' for i, n in enumerate(VI_NAV))
    rel = "".join(f'<div class="item"><a href="{base}{r.path}">{html.escape(r.title)}</a></div>' for r in related)
    lead, *rest = a.paragraphs
    body = "".join(f"<p>{html.escape(p)}</p>" for p in rest)
    d = a.published
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>{html.escape(a.title)} | Báo Hải Phòng</title>
<link rel="canonical" href="{base}{a.path}">
<meta name="pubdate" content="{d}T07:30:00+07:00">
</head><body>
<div class="topbar">Thứ Ba, ngày {d[8:10]}/{d[5:7]}/{d[:4]} | Đường dây nóng: 0225 3842 000</div>
<div class="menu">{nav}</div>
<div class="detail">
<h1 class="detail-title">{html.escape(a.title)}</h1>
<span class="detail-time">{d[8:10]}/{d[5:7]}/{d[:4]} 07:30</span>
<p class="description">{html.escape(lead)}</p>
<div class="detail-content">{body}</div>
</div>
<div class="tin-lien-quan"><h3>Tin liên quan</h3>{rel}</div>
<div class="footer">Báo Hải Phòng điện tử. Giấy phép số 123/GP-BTTTT. Tòa soạn: 7 Lý Tự Trọng, Hải Phòng.
Ghi rõ nguồn khi phát hành lại thông tin từ website này.</div>
</body></html>"""


def sitemap(base: str, paths: list[str]) -> str:
    urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')


def rss(base: str, title: str, items: list[Article]) -> str:
    entries = "".join(f"<item><title>{html.escape(a.title)}</title><link>{base}{a.path}</link>"
                      f"<pubDate>{a.published}</pubDate></item>" for a in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>{base}/</link><description>{title}</description>{entries}</channel></rss>")


def listing(base: str, title: str, links: list[tuple[str, str]]) -> str:
    """A document library page: a table of links (PDF plans and the like) in the page chrome."""
    rows = "".join(f'<tr><td><a href="{href}">{html.escape(text)}</a></td></tr>' for href, text in links)
    return (f'<!DOCTYPE html><html><head><title>{title}</title></head><body><nav><a href="{base}/">Home</a>'
            f'</nav><h1>{title}</h1><table class="docs">{rows}</table><footer>Hai Phong</footer></body></html>')


def pdf(title: str, lines: list[str]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    c.setTitle(title)
    y = 800
    for line in [title, "", *lines]:
        c.drawString(50, y, line)
        y -= 18
    c.save()
    return buffer.getvalue()


EN_ARTICLES = [
    Article("/news/ftz-investor-service-centre.html",
            "Hai Phong opens investor service centre for the free trade zone", "2026-11-10", (
                "On 10 November 2026 the Hai Phong City People's Committee opened the Investor Service "
                "Centre of the Hai Phong Free Trade Zone in the Dinh Vu - Cat Hai economic zone.",
                "The centre issues investment registration certificates for free trade zone projects within "
                "three working days of receiving a complete application.",
                "Investors can submit applications online in English or Vietnamese, and the centre assigns "
                "one officer to follow each project from registration to operation.",
            )),
    Article("/news/green-port-week.html",
            "Hai Phong hosts the Green Port Week with logistics partners from Japan and Korea",
            "2026-11-05", (
                "Hai Phong hosted the Green Port Week from 3 to 5 November 2026 with more than 40 logistics "
                "companies from Japan and the Republic of Korea.",
                "The city presented its plan to electrify cargo handling equipment at Lach Huyen port "
                "by 2030 and invited partners to invest in shore power systems.",
            )),
]

VI_ARTICLES = [
    Article("/tin-tuc/hoi-nghi-xuc-tien-dau-tu-2026.html",
            "Hải Phòng tổ chức Hội nghị xúc tiến đầu tư vào khu thương mại tự do", "2026-11-12", (
                "Ngày 12/11/2026, UBND thành phố Hải Phòng tổ chức Hội nghị xúc tiến đầu tư vào khu "
                "thương mại tự do với sự tham dự của hơn 300 doanh nghiệp trong và ngoài nước.",
                "Tại hội nghị, thành phố trao quyết định chủ trương đầu tư cho 12 dự án với tổng vốn "
                "đăng ký 2,1 tỷ USD.",
                "Lãnh đạo thành phố cam kết rút ngắn thời gian cấp giấy chứng nhận đăng ký đầu tư xuống "
                "còn ba ngày làm việc.",
            )),
    Article("/tin-tuc/doan-cong-tac-han-quoc.html",
            "Đoàn công tác thành phố Hải Phòng làm việc tại Hàn Quốc", "2026-11-08", (
                "Từ ngày 5 đến 8/11/2026, đoàn công tác thành phố Hải Phòng làm việc tại Hàn Quốc để "
                "thúc đẩy hợp tác đầu tư và thương mại.",
                "Đoàn đã gặp gỡ các tập đoàn điện tử và logistics, giới thiệu cơ chế đặc thù theo "
                "Nghị quyết 226 của Quốc hội.",
            )),
]

PLAN_LINES = [
    "Plan No. 45/KH-UBND on investment promotion in the Hai Phong Free Trade Zone, 2026-2027.",
    "The city will organise four investment promotion conferences abroad each year.",
    "The Department of Finance will publish a list of priority projects every quarter.",
]


@dataclass
class Sites:
    en: PortalServer
    vi: PortalServer
    other: PortalServer  # a host no source names

    def stop(self) -> None:
        for s in (self.en, self.vi, self.other):
            s.stop()


def build_sites() -> Sites:
    """Start the three servers and put the portals on them."""
    sites = Sites(PortalServer().start(), PortalServer().start(), PortalServer().start())
    en, vi, other = sites.en, sites.vi, sites.other
    for a in EN_ARTICLES:
        en.page(a.path, en_portal_page(a, en.base_url, [r for r in EN_ARTICLES if r is not a]))
    en.page("/sitemap.xml", sitemap(en.base_url, [a.path for a in EN_ARTICLES] + ["/tag/investment.html",
                                                                                   "/private/draft.html"]),
            "application/xml")
    en.page("/tag/investment.html", en_portal_page(EN_ARTICLES[0], en.base_url, []))
    en.page("/private/draft.html", en_portal_page(Article("/private/draft.html", "Draft not for crawling",
                                                          "2026-11-11", ("A draft page.",)), en.base_url, []))
    en.page("/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
    en.page("/documents/", listing(en.base_url, "Document library", [
        ("/documents/plan-45-ftz-promotion.pdf", "Plan 45/KH-UBND (PDF)"),
        (f"{other.base_url}/elsewhere.html", "A page on another site"),
        ("mailto:portal@haiphong.gov.vn", "Write to us"),
    ]))
    en.page("/documents/plan-45-ftz-promotion.pdf",
            pdf("Plan 45/KH-UBND: investment promotion in the free trade zone", PLAN_LINES), "application/pdf")
    for a in VI_ARTICLES:
        vi.page(a.path, vi_news_page(a, vi.base_url, [r for r in VI_ARTICLES if r is not a]))
    vi.page("/rss/kinh-te.rss", rss(vi.base_url, "Kinh tế", VI_ARTICLES), "application/rss+xml")
    other.page("/elsewhere.html", en_portal_page(EN_ARTICLES[1], other.base_url, []))
    return sites


def sources_yaml(sites: Sites) -> str:
    return f"""sources:
  - name: en-portal
    type: sitemap
    url: {sites.en.base_url}/sitemap.xml
    include: ["/news/", "/private/", "\\\\.html$"]
    exclude: ["/tag/"]
    language: en
    source: "Hai Phong Portal (en.haiphong.gov.vn)"
    kind: article
    max_pages: 50
  - name: hp-news
    type: feed
    url: {sites.vi.base_url}/rss/kinh-te.rss
    include: []
    exclude: []
    language: vi
    source: "Báo Hải Phòng (baohaiphong.vn)"
    kind: article
  - name: en-library
    type: listing
    url: {sites.en.base_url}/documents/
    include: ["\\\\.pdf$", "\\\\.html$"]
    language: en
    source: "Hai Phong Portal (en.haiphong.gov.vn)"
    kind: plan
"""
