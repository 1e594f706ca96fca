"""Passages that speak to the reader or to the assistant instead of stating policy, found at
indexing time. A flagged passage stays in the index (with its rule in the `injection` metadata
field) but search never returns it, so it is never quoted, and `indexer refresh` names it.

The rules, matched on accent-folded lower-case text (so Vietnamese typed with or without
diacritics is caught alike):

- `instructions`: text aimed at a model or assistant: "ignore/disregard/forget (all) previous
  instructions", "you are now ...", "system prompt", "new instructions"; Vietnamese "bỏ qua / quên
  (mọi) hướng dẫn / chỉ dẫn / lệnh ... trước", "từ giờ bạn là ...", "lời nhắc hệ thống".
- `send-data`: a request that the reader send their credentials, documents or money: "send (us)
  your password / OTP / ID / passport / bank details / money ...", "reply with your ...";
  Vietnamese "gửi (cho chúng tôi) mã OTP / mật khẩu / số tài khoản / CCCD / hộ chiếu / tiền".
- `payment`: a payment instruction to a person, number or account: "call this number to pay",
  "pay (the rent / fee) in cash to the officer", "transfer the fee to account ..."; Vietnamese
  "gọi (số) ... để thanh toán / nộp tiền", "nộp / trả tiền mặt cho cán bộ", "chuyển khoản (phí)
  vào tài khoản ...".

Policy documents describe procedures in the third person ("investors submit the dossier to the
Management Board"); these rules look for the second person, instructions to a model, and money or
secrets going to a person or number, which official policy text does not ask of a reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.text import fold

_PREVIOUS = r"(?:previous|prior|above|earlier|preceding|all|any|your|the|other)"
_SECRETS_EN = (r"(?:password|passcode|pin|otp|one[- ]time (?:code|password)|verification code|login|"
               r"id(?: card)?(?: number)?|identity card|passport|bank (?:account|details|card)|card number|"
               r"account (?:number|details)|credit card|personal (?:data|details|information)|money|payment|"
               r"deposit|fee|documents?|details|information)")
_SECRETS_VI = (r"(?:ma otp|otp|mat khau|ma pin|ma xac (?:nhan|thuc)|so tai khoan|tai khoan ngan hang|"
               r"the ngan hang|so the|cmnd|cccd|can cuoc|chung minh nhan dan|ho chieu|thong tin ca nhan|"
               r"tien|phi|le phi|tien coc|giay to|ho so ca nhan)")
_PAY_EN = r"(?:pay|payment|deposit|settle|transfer|wire)"
_PAY_VI = r"(?:thanh toan|nop tien|dong tien|nop phi|dong phi|tra tien|chuyen tien|dat coc)"

RULES: dict[str, list[re.Pattern[str]]] = {
    "instructions": [re.compile(p) for p in (
        rf"\b(?:ignore|disregard|forget|override|bypass)\b(?:\W+\w+){{0,3}}?\W+{_PREVIOUS}\b(?:\W+\w+){{0,2}}?\W+"
        r"(?:instructions?|rules|prompts?|directions|guidelines|context|messages)\b",
        r"\byou are now\b",
        r"\bfrom now on,? you\b",
        r"\b(?:system|developer) prompt\b",
        r"\bnew instructions?\s*:",
        r"\b(?:ai|language model|assistant|chatbot)s?\b(?:\W+\w+){0,3}?\W+(?:must|should|will) "
        r"(?:now )?(?:say|answer|reply|tell|respond|ignore)\b",
        r"^\s*(?:system|assistant)\s*:",
        r"\b(?:bo qua|phot lo|quen|bat ke)\b(?:\W+\w+){0,3}?\W+(?:huong dan|chi dan|chi thi|lenh|quy tac|"
        r"yeu cau)\b(?:\W+\w+){0,3}?\W*(?:truoc|tren|cu|ban dau|he thong)",
        r"\b(?:bo qua|quen)\s+(?:moi|tat ca|cac)\s+(?:huong dan|chi dan|lenh|quy tac)\b",
        r"\btu (?:gio|bay gio|nay)(?: tro di)?,? ban (?:la|se|phai)\b",
        r"\bloi nhac he thong\b",
        r"\b(?:tro ly|chatbot|ai|mo hinh)\b(?:\W+\w+){0,3}?\W+(?:phai|hay) (?:noi|tra loi|bo qua)\b",
    )],
    "send-data": [re.compile(p) for p in (
        rf"\b(?:send|give|provide|email|text|forward|share|reply with)\b(?:\W+(?:us|me|them|him|her|the officer|"
        rf"this number|it))?\W+(?:your|the)\b(?:\W+\w+){{0,2}}?\W+{_SECRETS_EN}\b",
        rf"\b(?:gui|cung cap|nhan tin|chia se|chuyen)\b(?:\W+\w+){{0,4}}?\W+{_SECRETS_VI}\b(?:\W+\w+){{0,3}}?"
        r"\W+(?:cua (?:ban|anh|chi|quy vi|quy khach)|cho (?:chung toi|toi|can bo|so nay|nguoi nay))\b",
        rf"\b(?:hay|vui long|xin|ban can|ban phai)\s+(?:gui|cung cap)\b(?:\W+\w+){{0,3}}?\W+{_SECRETS_VI}\b",
    )],
    "payment": [re.compile(p) for p in (
        rf"\b(?:call|phone|ring|text|contact|dial)\b(?:\W+\w+){{0,4}}?\W+(?:to|and)\W+{_PAY_EN}\b",
        rf"\b{_PAY_EN}\b(?:\W+\w+){{0,5}}?\W+(?:in cash|by cash|cash)\b(?:\W+\w+){{0,3}}?\W+to\b",
        rf"\b{_PAY_EN}\b(?:\W+\w+){{0,5}}?\W+(?:to|into)\W+(?:the |this |our |his |her |a )?(?:personal )?"
        r"(?:officer|official|agent|inspector|account|number|phone|wallet|broker|person|staff member)\b",
        rf"\b(?:goi|lien he|nhan tin|lien lac)\b(?:\W+\w+){{0,5}}?\W+de\W+{_PAY_VI}\b",
        rf"\b{_PAY_VI}\b(?:\W+\w+){{0,4}}?\W+(?:bang )?tien mat\b(?:\W+\w+){{0,3}}?\W+(?:cho|toi|den)\b",
        rf"\b(?:{_PAY_VI}|chuyen khoan)\b(?:\W+\w+){{0,5}}?\W+(?:vao|den|toi|cho)\W+(?:so )?(?:tai khoan|"
        r"so dien thoai|can bo|nguoi|vi)\b",
    )],
}


@dataclass(frozen=True)
class Finding:
    rule: str
    excerpt: str  # the words that matched


def detect(text: str) -> Finding | None:
    """The first rule a passage breaks, or None for an ordinary passage."""
    folded = fold(text)
    for line in folded.splitlines() or [folded]:
        for rule, patterns in RULES.items():
            for pattern in patterns:
                match = pattern.search(line)
                if match:
                    return Finding(rule, match.group(0).strip()[:120])
    return None
