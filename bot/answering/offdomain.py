"""Example questions that lie outside the assistant's domain (Hai Phong external relations and
investment policy). A question closer to these than to any passage of the knowledge base, and
sharing little wording with it, is refused. Categories, not particular questions: everyday life,
sport, entertainment, markets and prices, coding, health, travel bookings and personal paperwork
handled by other public services. Staff may extend the list."""

OFF_DOMAIN_EXAMPLES: tuple[str, ...] = (
    # weather
    "What is the weather like today?", "Will it rain tomorrow?", "Thời tiết hôm nay thế nào?",
    "ngay mai co mua khong", "nhiet do hom nay bao nhieu do",
    # sport
    "Who won the football match last night?", "What is the score of the game?",
    "Đội tuyển Việt Nam đá với ai tối nay?", "ket qua bong da hom qua", "lich thi dau bong da",
    # entertainment and people
    "Recommend a good movie to watch", "Tell me a joke", "Who is the most famous singer?",
    "Phim nào hay đang chiếu?", "ke cho toi mot cau chuyen cuoi",
    # markets and prices
    "What is the price of gold today?", "Bitcoin price now", "How much is the dollar exchange rate?",
    "Giá vàng hôm nay bao nhiêu?", "gia xang hom nay", "ty gia do la hom nay", "gia nha chung cu bao nhieu",
    # coding and technology help
    "How do I write a Python function?", "Fix this JavaScript error", "How to install Windows?",
    "Viết code Python sắp xếp danh sách", "cach cai dat phan mem",
    # health and food
    "What should I eat to lose weight?", "How do I treat a cold?", "Recipe for pho",
    "Cách nấu phở bò?", "bi dau dau nen uong thuoc gi",
    # travel bookings and transport
    "Book a flight ticket to Hanoi", "Which hotel is cheapest?", "What time does the bus leave?",
    "Đặt vé máy bay đi Đà Nẵng", "khach san nao re nhat",
    # personal paperwork handled by other public services
    "How do I renew my driving licence?", "How do I get an identity card?",
    "How to register a marriage?", "Làm căn cước công dân ở đâu?", "thu tuc dang ky ket hon",
    "lam bang lai xe may can giay to gi",
    # general knowledge and chit-chat
    "What is the capital of France?", "How old are you?", "Solve 2x + 3 = 7",
    "Bạn có người yêu chưa?", "thu do cua nhat ban la gi",
)
