"""Is a message Vietnamese or English? Works for Vietnamese typed without diacritics and for two-word
messages. Diacritics decide at once; otherwise marker words of each language, then the lingua
detector (restricted to the two languages); names that read the same in both (Hai Phong, FDI,
numbers) give no evidence, and a message with no evidence gets the default language."""

from __future__ import annotations

from functools import lru_cache

from indexer.text import fold, has_vietnamese_marks, tokens

# Common Vietnamese syllables, folded (no diacritics), that are not English words.
_VI_MARKERS = frozenset(
    ["cua", "nhung", "duoc", "khong", "nhu", "the", "nao", "gi", "sao", "thi", "la", "va", "cac", "mot", "cho", "voi", "trong", "tai", "nay", "do", "ve", "den", "tu", "nguoi", "viec", "nam", "thang", "ngay", "bao", "nhieu", "khi", "dau", "ai", "hoi", "nghi", "quyet", "thanh", "pho", "dau", "tu", "uu", "dai", "thue", "khu", "kinh", "te", "ngoai", "giao", "chinh", "sach", "co", "che", "dac", "thu", "doanh", "nghiep", "chuyen", "gia", "xin", "chao", "cam", "on", "toi", "ban", "minh", "hay", "cho", "biet", "lam", "sao", "muon", "hoi", "duoc", "khong", "vay", "con", "nua", "roi", "chua", "phai", "dang", "se", "da", "bi", "boi", "neu", "tieng", "viet", "thuong", "mai", "tu", "do", "cang", "hai", "quan", "tien", "thue", "dat", "giay", "phep", "ho", "chieu", "thi", "thuc", "tam", "tru", "uy", "ban", "nhan", "dan", "hoi", "dong", "so", "nganh", "chuong", "trinh", "ke", "hoach", "chi", "thi", "trien", "khai", "thuc", "hien", "giai", "doan", "muc", "tieu", "nhiem", "vu", "thu", "hut", "nhan", "tai", "giao", "duc", "y", "te", "ket", "qua", "tran", "bong", "da", "toi", "qua", "thoi", "tiet", "gia", "vang", "quan", "ly", "co", "quan", "ban", "hanh", "dien", "ra", "nguoi", "nuoc", "ngoai", "nuoc", "ngoai", "tong", "ket", "cong", "tac", "doi", "ngoai", "chuc", "ky", "lon", "nhat", "gom", "tham", "du", "su", "kien", "moi", "cao", "phieu", "trao", "luc", "lan", "xa", "tinh"]
)
_EN_MARKERS = frozenset(
    ["the", "is", "are", "was", "were", "what", "which", "who", "how", "when", "where", "why", "do", "does", "did", "can", "could", "should", "would", "will", "of", "in", "on", "at", "to", "for", "and", "or", "with", "from", "about", "by", "this", "that", "these", "those", "there", "their", "it", "its", "my", "your", "our", "please", "tell", "me", "give", "list", "explain", "investors", "investment", "resolution", "zone", "free", "trade", "tax", "rent", "land", "policy", "policies", "plan", "action", "economic", "diplomacy", "conference", "city", "people", "committee", "special", "mechanisms", "incentives", "visa", "experts", "foreign", "english", "vietnamese", "hello", "hi", "thanks", "thank", "you", "weather", "football", "match", "result", "passport", "renew", "price", "gold", "yesterday", "today"]
)
# Reads the same in both languages: gives no evidence either way.
_NEUTRAL = frozenset(["hai", "phong", "haiphong", "viet", "nam", "vietnam", "ha", "noi", "hanoi", "fdi", "abac", "apec", "heza", "ftz", "logistics", "techfest", "unesco", "ok"])
# Words in both marker sets ("the", "do", "tu"...) are judged by their neighbours.
_AMBIGUOUS = _VI_MARKERS & _EN_MARKERS


@lru_cache(maxsize=1)
def _detector():  # type: ignore[no-untyped-def]
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.VIETNAMESE).build()


def detect(text: str, default: str = "vi") -> str:
    """'vi' or 'en' for a message; `default` when the text carries no evidence."""
    text = (text or "")[:2000]
    if has_vietnamese_marks(text):
        return "vi"
    words = [w for w in tokens(text) if not w.isdigit() and w not in _NEUTRAL]
    if not words:
        return default
    vi = sum(1 for w in words if w in _VI_MARKERS and w not in _AMBIGUOUS)
    en = sum(1 for w in words if w in _EN_MARKERS and w not in _AMBIGUOUS)
    if vi != en and (vi >= 2 * en or en >= 2 * vi) and max(vi, en) >= 1:
        return "vi" if vi > en else "en"
    confidence = _detector().compute_language_confidence_values(fold(" ".join(words)))
    scores = {c.language.name: c.value for c in confidence}
    en_p = scores.get("ENGLISH", 0.0)
    vi_p = scores.get("VIETNAMESE", 0.0)
    if abs(en_p - vi_p) < 0.3:
        if vi != en:
            return "vi" if vi > en else "en"
        return default
    return "en" if en_p > vi_p else "vi"


def other(lang: str) -> str:
    return "en" if lang == "vi" else "vi"
