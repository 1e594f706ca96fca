"""Place names a question may ask about: countries, Vietnam's provinces and cities, world cities, in
English and Vietnamese (matched without diacritics). A question naming a place that no document
mentions ("Đà Nẵng", "Hàn Quốc", "Singapore") is about somewhere else, and is refused rather than
answered with Hai Phong's facts. Vietnamese one-syllable country names that are also ordinary
words ("Pháp" is also "law", "Anh" also "you/brother") count only with "nước" before them, or
written with their capital letter and diacritics.
"""

from __future__ import annotations

COUNTRIES = (
    "france", "germany", "italy", "spain", "portugal", "netherlands", "holland", "belgium", "switzerland",
    "austria", "sweden", "norway", "denmark", "finland", "poland", "russia", "ukraine", "turkey", "greece",
    "united kingdom", "britain", "england", "ireland", "united states", "america", "usa", "canada",
    "mexico", "brazil", "argentina", "chile", "australia", "new zealand", "japan", "china", "korea",
    "south korea", "north korea", "taiwan", "hong kong", "singapore", "malaysia", "thailand", "indonesia",
    "philippines", "cambodia", "laos", "myanmar", "india", "pakistan", "bangladesh", "israel", "iran",
    "saudi arabia", "uae", "dubai", "qatar", "egypt", "nigeria", "south africa", "kenya",
    "phap", "duc", "y", "tay ban nha", "bo dao nha", "ha lan", "bi", "thuy si", "ao", "thuy dien", "na uy",
    "dan mach", "phan lan", "ba lan", "nga", "ukraina", "tho nhi ky", "hy lap", "vuong quoc anh", "anh quoc",
    "ai len", "hoa ky", "my", "canada", "mexico", "brazil", "uc", "new zealand", "nhat ban", "trung quoc",
    "han quoc", "trieu tien", "dai loan", "hong kong", "xingapo", "ma lai", "malaysia", "thai lan",
    "indonesia", "philippines", "campuchia", "lao", "myanmar", "an do", "israel", "iran", "a rap xe ut",
    "ai cap", "nam phi",
)
# One-syllable Vietnamese country names that are ordinary words too: only "nước X", or "X" as written.
AMBIGUOUS_VI = {"phap": "Pháp", "duc": "Đức", "y": "Ý", "bi": "Bỉ", "ao": "Áo", "nga": "Nga", "my": "Mỹ",
                "uc": "Úc", "lao": "Lào", "anh": "Anh"}
VIETNAM_PLACES = (
    "ha noi", "hanoi", "ho chi minh city", "ho chi minh", "tp hcm", "tphcm", "hcmc", "sai gon", "saigon",
    "da nang", "danang", "can tho", "hue", "nha trang", "khanh hoa", "quang ninh", "ha long", "halong",
    "bac ninh", "bac giang", "hai duong", "hung yen", "thai binh", "nam dinh", "ninh binh", "thanh hoa",
    "nghe an", "ha tinh", "quang binh", "quang tri", "quang nam", "quang ngai", "binh dinh", "phu yen",
    "dak lak", "gia lai", "kon tum", "lam dong", "da lat", "dalat", "binh duong", "dong nai", "ba ria",
    "vung tau", "long an", "tien giang", "ben tre", "vinh long", "an giang", "kien giang", "phu quoc",
    "ca mau", "bac lieu", "soc trang", "lao cai", "sapa", "sa pa", "lang son", "cao bang", "ha giang",
    "tuyen quang", "yen bai", "thai nguyen", "phu tho", "vinh phuc", "hoa binh", "son la", "dien bien",
    "lai chau", "binh thuan", "ninh thuan", "tay ninh", "binh phuoc", "dong thap", "tra vinh", "hau giang",
    "van don", "mong cai", "cat ba", "do son", "hcm", "thanh pho hcm",
)
# Hai Phong's own districts, islands and industrial parks: a question about one the documents never
# name ("KCN Tràng Duệ") is not answered by what they say of the city or of another park. (Not
# "Dương Kinh": folded, it is "đường kính", a diameter; not "Vinh Quang", also "vinh quang", glory.)
HAI_PHONG_PLACES = (
    "hong bang", "ngo quyen", "le chan", "hai an", "kien an", "an duong", "thuy nguyen", "kien thuy",
    "tien lang", "vinh bao", "an lao", "bach long vi", "trang due", "nomura", "vsip", "deep c",
    "nam cau kien", "tien thanh", "xuan cau", "giang bien", "tan trao", "dinh vu",
)
WORLD_CITIES = (
    "paris", "london", "berlin", "tokyo", "osaka", "seoul", "busan", "beijing", "bac kinh", "shanghai",
    "thuong hai", "shenzhen", "tham quyen", "bangkok", "kuala lumpur", "jakarta", "manila", "new york",
    "washington", "los angeles", "san francisco", "sydney", "melbourne", "moscow", "rotterdam", "amsterdam",
    "hamburg", "antwerp", "dubai", "mumbai", "delhi", "phnom penh", "vientiane", "yangon",
)


def place_phrases() -> tuple[str, ...]:
    """Every folded place name, longest first (so "south korea" is seen before "korea")."""
    names = {p for p in (*COUNTRIES, *VIETNAM_PLACES, *HAI_PHONG_PLACES, *WORLD_CITIES) if p not in AMBIGUOUS_VI}
    return tuple(sorted(names, key=lambda p: (-len(p.split()), p)))
