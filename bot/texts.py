"""Every text the bot writes itself, in Vietnamese and English."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "vi": ("Xin chào! Tôi là trợ lý thông tin về chính sách đối ngoại và đầu tư của thành phố Hải Phòng: "
               "Nghị quyết 226 của Quốc hội và các cơ chế đặc thù, Khu thương mại tự do, chương trình ngoại giao "
               "kinh tế, các sự kiện xúc tiến đầu tư.\n\nMỗi câu trả lời chỉ lấy từ văn bản trong kho tài liệu và "
               "ghi rõ nguồn. Khi tài liệu không có câu trả lời, tôi sẽ nói rõ và chỉ nơi để hỏi.\n\n"
               "Hãy đặt câu hỏi, có dấu hoặc không dấu. Ví dụ:"),
        "en": ("Hello! I answer questions about Hai Phong city's external-relations and investment policy: "
               "National Assembly Resolution 226 and its special mechanisms, the free trade zone, the "
               "economic-diplomacy action plans and investment promotion events.\n\nEvery answer comes only "
               "from the documents in the knowledge base, with its sources. When the documents do not hold "
               "the answer, I say so and tell you where to ask.\n\nAsk a question, for example:"),
    },
    "help": {
        "vi": ("Cách dùng: gõ câu hỏi bằng tiếng Việt (có dấu hoặc không dấu) hoặc tiếng Anh. Câu trả lời kèm "
               "số [n] chỉ tới nguồn ở cuối.\n\nLệnh:\n{commands}\n\nLưu ý: thông tin chỉ để tham khảo; hãy đối "
               "chiếu văn bản chính thức trước khi ra quyết định đầu tư."),
        "en": ("How to use: type a question in English or Vietnamese. Each answer carries markers [n] that "
               "point to the sources listed below it.\n\nCommands:\n{commands}\n\nNote: for reference only; "
               "check the official texts before an investment decision."),
    },
    "about": {
        "vi": ("Trợ lý chính sách Hải Phòng trả lời từ {documents} văn bản ({chunks} đoạn) được cán bộ thành phố "
               "cập nhật; lần cập nhật gần nhất: {refreshed}. Trợ lý không tự suy đoán: mọi nội dung đều trích "
               "từ tài liệu và ghi nguồn. Bản dịch tham khảo không chính thức được ghi rõ."),
        "en": ("The Hai Phong policy assistant answers from {documents} documents ({chunks} passages) kept up to "
               "date by city staff; last refreshed: {refreshed}. It does not guess: every statement is quoted "
               "from a document and cited. Unofficial reference translations are labelled as such."),
    },
    "sources_head": {"vi": "Kho tài liệu hiện có:", "en": "What the knowledge base holds:"},
    "sources_label": {"vi": "Nguồn", "en": "Sources"},
    "no_link": {"vi": "chưa có đường dẫn", "en": "no link known"},
    "no_date": {"vi": "không rõ ngày", "en": "date not stated"},
    "unofficial": {"vi": "bản dịch tham khảo không chính thức", "en": "unofficial reference translation"},
    "frame_same": {"vi": "Theo tài liệu trong kho:", "en": "According to the documents:"},
    "frame_other": {
        "vi": "Theo tài liệu trong kho (đoạn trích dưới đây bằng tiếng Anh):",
        "en": "According to the documents (the quoted text below is in Vietnamese):",
    },
    "frame_mixed": {
        "vi": "Theo tài liệu trong kho (một số đoạn trích bằng tiếng Anh):",
        "en": "According to the documents (some quoted text is in Vietnamese):",
    },
    "not_stated": {
        "vi": "Tài liệu trong kho không nêu rõ {what}. Nội dung liên quan mà tài liệu có:",
        "en": "The documents do not state {what}. What they do say:",
    },
    "not_stated_contact": {"vi": "Để hỏi thêm: {contact}", "en": "To ask about it: {contact}"},
    "not_stated:when": {"vi": "thời điểm này", "en": "the date asked for"},
    "not_stated:day": {"vi": "ngày cụ thể", "en": "the day asked for"},
    "not_stated:how-many": {"vi": "con số này", "en": "the figure asked for"},
    "not_stated:how-long": {"vi": "thời hạn này", "en": "the duration asked for"},
    "not_stated:process": {"vi": "thời gian giải quyết thủ tục này", "en": "how long this procedure takes"},
    "not_stated:attribute": {"vi": "phương châm, chủ đề được hỏi", "en": "the motto or theme asked for"},
    "not_stated:numbered": {"vi": "số hiệu văn bản này", "en": "the number of this document"},
    "not_stated:company": {"vi": "tên doanh nghiệp được hỏi", "en": "which company it is"},
    "not_stated:who": {"vi": "người hoặc cơ quan này", "en": "who it is"},
    "not_stated:where": {"vi": "địa điểm này", "en": "the place asked for"},
    "not_stated:email": {"vi": "địa chỉ email này", "en": "the email address asked for"},
    "not_stated:phone": {"vi": "số điện thoại này", "en": "the telephone number asked for"},
    "not_stated:conditions": {"vi": "các điều kiện này", "en": "the conditions asked for"},
    "not_stated:documents": {"vi": "hồ sơ, giấy tờ cần có", "en": "the documents required"},
    "not_stated:procedure": {"vi": "thủ tục này", "en": "the procedure asked for"},
    "and_more": {"vi": "… và {n} mục khác (xem nguồn [{ref}])", "en": "… and {n} more (see source [{ref}])"},
    "press_caution": {
        "vi": "Một số thông tin lấy từ báo chí; hãy đối chiếu văn bản chính thức trước khi ra quyết định.",
        "en": "Some facts come from press reports; check the official text before making a decision.",
    },
    "refusal": {
        "vi": ("Xin lỗi, các văn bản chính thức trong kho tài liệu không đề cập đến nội dung này, nên tôi không "
               "thể trả lời mà không suy đoán. Bạn có thể hỏi lại theo cách khác (ví dụ nêu rõ nghị quyết, "
               "khu vực hoặc chính sách), hoặc liên hệ: {contact}"),
        "en": ("Sorry, the official documents in the knowledge base do not cover this, so I cannot answer it "
               "without guessing. You could rephrase the question (for example name the resolution, zone or "
               "policy), or contact: {contact}"),
    },
    "contact_fallback": {
        "vi": "Cổng thông tin Hải Phòng (en.haiphong.gov.vn).",
        "en": "the Hai Phong Portal (en.haiphong.gov.vn).",
    },
    "empty": {
        "vi": "Bạn chưa nhập câu hỏi. Hãy gõ một câu hỏi về chính sách đối ngoại hoặc đầu tư của Hải Phòng.",
        "en": "I did not get a question. Please type a question about Hai Phong's external-relations or investment policy.",
    },
    "too_long": {
        "vi": "Câu hỏi quá dài ({chars} ký tự). Hãy hỏi ngắn gọn hơn, dưới {limit} ký tự.",
        "en": "That message is too long ({chars} characters). Please ask in fewer than {limit} characters.",
    },
    "non_text": {
        "vi": "Tôi chỉ đọc được tin nhắn chữ. Hãy gõ câu hỏi của bạn bằng chữ nhé.",
        "en": "I can only read text messages. Please type your question.",
    },
    "rate_limited": {
        "vi": "Bạn gửi hơi nhanh. Vui lòng chờ một phút rồi hỏi tiếp.",
        "en": "You are sending messages a little fast. Please wait a minute and ask again.",
    },
    "error": {
        "vi": "Xin lỗi, đã có lỗi khi xử lý câu hỏi. Vui lòng thử lại sau ít phút.",
        "en": "Sorry, something went wrong while answering. Please try again in a few minutes.",
    },
    "not_ready": {
        "vi": "Kho tài liệu đang được chuẩn bị. Vui lòng thử lại sau ít phút.",
        "en": "The knowledge base is being prepared. Please try again in a few minutes.",
    },
    "unknown_command": {
        "vi": "Tôi không biết lệnh này. Gõ /help để xem các lệnh.",
        "en": "I don't know that command. Send /help to see the commands.",
    },
    "staff_only": {
        "vi": "Lệnh này chỉ dành cho cán bộ quản trị.",
        "en": "This command is for staff only.",
    },
    "language_set": {
        "vi": "Đã chuyển sang tiếng Việt. Tôi sẽ trả lời bằng tiếng Việt.",
        "en": "Switched to English. I will answer in English.",
    },
    "vote_thanks": {"vi": "Cảm ơn bạn đã đánh giá!", "en": "Thanks for your feedback!"},
    "vote_unknown": {"vi": "Không tìm thấy câu trả lời này.", "en": "That answer is no longer known."},
    "reindex_started": {"vi": "Đang cập nhật kho tài liệu…", "en": "Refreshing the knowledge base…"},
    "reindex_done": {
        "vi": "Đã cập nhật: thêm {added}, sửa {updated}, xóa {removed}, giữ nguyên {unchanged}, bỏ qua {skipped} ({seconds:.1f} giây).",
        "en": "Refreshed: added {added}, updated {updated}, removed {removed}, unchanged {unchanged}, skipped {skipped} ({seconds:.1f} s).",
    },
    "reindex_failed": {
        "vi": "Cập nhật thất bại; kho tài liệu cũ vẫn đang phục vụ. Lỗi: {error}",
        "en": "The refresh failed; the previous index is still serving. Error: {error}",
    },
    "fetched_on": {"vi": "tải về ngày {date}", "en": "fetched {date}"},
    "newer_than": {"vi": "mới hơn: {other}", "en": "newer than: {other}"},
    "older_than": {"vi": "đã có bản mới hơn: {other}", "en": "superseded by the newer: {other}"},
    "sync_started": {"vi": "Đang đồng bộ các cổng thông tin trong sources.yaml…",
                     "en": "Syncing the portals named in sources.yaml…"},
    "sync_done": {
        "vi": "Đồng bộ xong: tải {fetched}, mới {new}, thay đổi {changed}, giữ nguyên {unchanged}, bị gỡ {gone}, lỗi {failed}.",
        "en": "Sync done: fetched {fetched}, new {new}, changed {changed}, unchanged {unchanged}, gone {gone}, failed {failed}.",
    },
    "sync_failed": {
        "vi": "Đồng bộ thất bại; kho tài liệu cũ vẫn đang phục vụ. Lỗi: {error}",
        "en": "The sync failed; the previous index is still serving. Error: {error}",
    },
    "sync_busy": {"vi": "Một lần đồng bộ khác đang chạy; hãy thử lại khi nó xong.",
                  "en": "Another sync is running; try again when it has finished."},
    "sync_scheduled_problem": {"vi": "⚠️ Đồng bộ định kỳ gặp lỗi.\n{report}",
                               "en": "⚠️ The scheduled sync had a problem.\n{report}"},
    "sync_never": {"vi": "Đồng bộ cổng thông tin: chưa chạy lần nào.", "en": "Portal sync: not run yet."},
    "sync_last": {"vi": "Lần đồng bộ gần nhất ({when}): {report}", "en": "Last sync ({when}): {report}"},
    "sync_last_failed": {"vi": "Lần đồng bộ gần nhất ({when}) thất bại: {error}",
                         "en": "Last sync ({when}) failed: {error}"},
    "stats": {
        "vi": ("Kho tài liệu: {documents} văn bản, {chunks} đoạn ({languages}); mô hình {model}; cập nhật {refreshed}.\n"
               "7 ngày qua: {questions} câu hỏi từ {users} người, {refused} câu bị từ chối, {up_votes} 👍 / {down_votes} 👎."),
        "en": ("Index: {documents} documents, {chunks} passages ({languages}); model {model}; refreshed {refreshed}.\n"
               "Last 7 days: {questions} questions from {users} users, {refused} refused, {up_votes} 👍 / {down_votes} 👎."),
    },
    "gaps_head": {
        "vi": "Câu hỏi gần đây bị từ chối hoặc bị đánh giá 👎 (kho tài liệu còn thiếu):",
        "en": "Recent questions that were refused or voted 👎 (what the knowledge base is missing):",
    },
    "gaps_none": {"vi": "Chưa có câu hỏi nào bị từ chối hoặc bị đánh giá 👎.",
                  "en": "No refused or down-voted questions yet."},
    # -- personal data ---------------------------------------------------------------------------
    "privacy": {
        "vi": ("Dữ liệu cá nhân (Nghị định 13/2023/NĐ-CP): để trả lời và bổ sung kho tài liệu, trợ lý lưu mã "
               "trò chuyện của bạn, câu hỏi và câu trả lời, lượt đánh giá 👍/👎, ngôn ngữ bạn chọn và các câu hỏi "
               "bạn chuyển cho cán bộ (hồ sơ), không dùng cho mục đích khác. Dữ liệu tự xóa sau {days} ngày; "
               "gửi /forget (trên Zalo: «xóa dữ liệu») để xóa toàn bộ ngay, /privacy để xem lại."),
        "en": ("Personal data (Decree 13/2023/ND-CP): to answer you and to improve the knowledge base the assistant "
               "keeps your chat id, your questions and the answers, your 👍/👎 votes, your language choice and "
               "the questions you hand to city staff (cases), for no other purpose. It is deleted after {days} "
               "days; send /forget (on Zalo: “delete my data”) to delete it all now, /privacy to read this again."),
    },
    "forget_done": {
        "vi": ("Đã xóa toàn bộ dữ liệu trợ lý lưu về bạn: câu hỏi, câu trả lời, lượt đánh giá, ngôn ngữ đã chọn, "
               "lịch sử trò chuyện và hồ sơ chuyển cán bộ."),
        "en": ("Done: everything the assistant kept about you has been deleted (questions, answers, votes, "
               "language choice, chat memory and cases)."),
    },
    # -- hand-off to an officer --------------------------------------------------------------------
    "handoff_offer": {
        "vi": "Bạn có muốn chuyển câu hỏi này cho cán bộ thành phố không? Câu trả lời sẽ được gửi về cuộc trò chuyện này. {how}",
        "en": "Would you like me to forward this question to a city officer? Their answer will come to this chat. {how}",
    },
    "handoff_request": {
        "vi": "Tôi có thể chuyển câu hỏi sau cho cán bộ thành phố: «{question}». {how}",
        "en": "I can forward this question to a city officer: “{question}”. {how}",
    },
    "handoff_office": {"vi": "Cơ quan phụ trách nội dung này: {office}", "en": "The office for this topic: {office}"},
    "handoff_how_button": {"vi": "Bấm «Chuyển cho cán bộ» bên dưới.", "en": "Press “Forward to an officer” below."},
    "handoff_how_word": {"vi": "Trả lời «có» để chuyển.", "en": "Reply “yes” to forward it."},
    "handoff_button": {"vi": "📨 Chuyển cho cán bộ", "en": "📨 Forward to an officer"},
    "handoff_need_question": {
        "vi": "Bạn hãy gõ câu hỏi trước, sau đó gửi «gặp cán bộ» để tôi chuyển câu hỏi cho cán bộ thành phố.",
        "en": "Please type your question first, then send “talk to an officer” and I will forward it to city staff.",
    },
    "handoff_expired": {
        "vi": "Đề nghị chuyển câu hỏi đã hết hạn hoặc đã được gửi. Hãy đặt lại câu hỏi.",
        "en": "That offer has expired or was already used. Please ask your question again.",
    },
    "case_opened": {
        "vi": ("Đã chuyển câu hỏi của bạn cho cán bộ thành phố, mã hồ sơ #{case}. Câu trả lời của cán bộ sẽ được "
               "gửi về cuộc trò chuyện này."),
        "en": ("Your question has been forwarded to city staff as case #{case}. An officer's answer will come to "
               "this chat."),
    },
    "officer_reply": {
        "vi": "👤 Trả lời của cán bộ thành phố (hồ sơ #{case})\nCâu hỏi của bạn: {question}\n\n{reply}",
        "en": "👤 Answer from a city officer (case #{case})\nYour question: {question}\n\n{reply}",
    },
    "case_closed_person": {
        "vi": "Hồ sơ #{case} («{question}») đã được cán bộ đóng mà không có câu trả lời. Lý do: {reason}",
        "en": "Your question (case #{case}, “{question}”) was closed by city staff without an answer. Reason: {reason}",
    },
    # -- staff side of cases -------------------------------------------------------------------------
    "staff_case_post": {
        "vi": ("📨 Hồ sơ #{case} · {language} · {channel} · {who}\nLý do: {reason}\nCơ quan: {office}\n\n"
               "Câu hỏi:\n{question}{turns}\n\nTrả lời (reply) tin nhắn này để trả lời người hỏi: nội dung được gửi "
               "nguyên văn."),
        "en": ("📨 Case #{case} · {language} · {channel} · {who}\nWhy: {reason}\nOffice: {office}\n\n"
               "Question:\n{question}{turns}\n\nReply to this message to answer: your reply goes to the person "
               "as you write it."),
    },
    "staff_turns": {"vi": "\n\nCác lượt trước:\n{turns}", "en": "\n\nEarlier turns:\n{turns}"},
    "reason_refused": {"vi": "trợ lý không trả lời được", "en": "the assistant could not answer"},
    "reason_requested": {"vi": "người hỏi muốn gặp cán bộ", "en": "the person asked for an officer"},
    "lang_vi": {"vi": "tiếng Việt", "en": "Vietnamese"},
    "lang_en": {"vi": "tiếng Anh", "en": "English"},
    "staff_delivered": {"vi": "✅ Hồ sơ #{case}: đã gửi tới {who}.", "en": "✅ Case #{case}: delivered to {who}."},
    "staff_undelivered": {
        "vi": "⚠️ Hồ sơ #{case}: chưa gửi được tới {who} ({error}). Sẽ gửi khi người hỏi nhắn tin lần tới.",
        "en": "⚠️ Case #{case}: could not be delivered to {who} ({error}). It will be delivered when the person next writes.",
    },
    "staff_delivered_late": {
        "vi": "✅ Hồ sơ #{case}: đã gửi tới {who} khi người hỏi nhắn tin lại.",
        "en": "✅ Case #{case}: delivered to {who} now that the person wrote again.",
    },
    "why_window": {"vi": "ngoài khung thời gian Zalo OA cho phép nhắn tin tư vấn",
                   "en": "outside Zalo OA's messaging window"},
    "why_failed": {"vi": "kênh nhắn tin không nhận tin", "en": "the channel did not take the message"},
    "officer_words": {"vi": "gặp cán bộ", "en": "talk to an officer"},
    "officer_button": {"vi": "📨 Hỏi cán bộ thành phố", "en": "📨 Ask a city officer"},
    "staff_closed": {"vi": "Hồ sơ #{case} đã đóng.", "en": "Case #{case} closed."},
    "cases_head": {"vi": "Hồ sơ đang mở ({count}):", "en": "Open cases ({count}):"},
    "cases_none": {"vi": "Không có hồ sơ nào đang mở.", "en": "No open cases."},
    "cases_undelivered": {"vi": "chưa gửi được", "en": "not delivered"},
    "close_usage": {
        "vi": "Cú pháp: /close MÃ_HỒ_SƠ LÝ_DO (lý do được gửi tới người hỏi).",
        "en": "Use: /close CASE REASON (the reason is sent to the person).",
    },
    "close_hint": {
        "vi": "Để đóng hồ sơ #{case}, gửi: /close {case} <lý do>",
        "en": "To close case #{case}, send: /close {case} <reason>",
    },
    "publish_usage": {"vi": "Cú pháp: /publish MÃ_HỒ_SƠ [cơ quan trả lời]",
                      "en": "Use: /publish CASE [answering department]"},
    "publish_unanswered": {"vi": "Hồ sơ #{case} chưa có câu trả lời của cán bộ để đăng.",
                           "en": "Case #{case} has no officer's answer to publish yet."},
    "published": {
        "vi": ("Đã đăng hồ sơ #{case} thành {path} và cập nhật kho: từ nay trợ lý trả lời câu hỏi này từ tài liệu "
               "đó, ghi nguồn «Trả lời của {department}, {date}». {summary}"),
        "en": ("Case #{case} published as {path} and indexed: the assistant now answers this question from it, "
               "cited as “Reply from {department}, {date}”. {summary}"),
    },
    "case_unknown": {"vi": "Không có hồ sơ #{case}.", "en": "No case #{case}."},
    "case_finished": {"vi": "Hồ sơ #{case} đã được xử lý ({status}).", "en": "Case #{case} is already {status}."},
    "staff_private": {
        "vi": "Lệnh cán bộ chỉ dùng trong cuộc trò chuyện riêng với bot hoặc trong nhóm cán bộ.",
        "en": "Staff commands work only in a private chat with the bot or in the staff group.",
    },
    "faq_cite": {"vi": "Trả lời của {department}, {date}", "en": "Reply from {department}, {date}"},
    "gaps_topic_other": {"vi": "Chủ đề khác", "en": "Other topics"},
    "gaps_open_cases": {"vi": "hồ sơ đang mở", "en": "open case"},
    # Zalo shows no buttons or slash menus: commands are words, in either language.
    "zalo_commands": {
        "vi": ("trợ giúp — cách dùng\nbắt đầu — lời chào và câu hỏi mẫu\nnguồn — kho tài liệu có gì\n"
               "giới thiệu — giới thiệu trợ lý\ntiếng Việt / English — chọn ngôn ngữ trả lời\n"
               "gặp cán bộ — chuyển câu hỏi cho cán bộ thành phố\nquyền riêng tư — dữ liệu được lưu\n"
               "xóa dữ liệu — xóa mọi dữ liệu về bạn"),
        "en": ("help — how to use the assistant\nstart — welcome and example questions\n"
               "sources — what the knowledge base holds\nabout — about this assistant\n"
               "English / tiếng Việt — choose the answer language\n"
               "talk to an officer — forward your question to city staff\nprivacy — what is stored\n"
               "delete my data — delete everything about you"),
    },
    "zalo_staff_commands": {
        "vi": "reindex — cập nhật kho tài liệu\nstats — thống kê kho và lượt dùng\ngaps — câu hỏi chưa trả lời được",
        "en": "reindex — refresh the knowledge index\nstats — index and usage statistics\ngaps — questions the knowledge base misses",
    },
    "zalo_hint": {
        "vi": "Gõ «trợ giúp» để xem các lệnh, «English» để nhận câu trả lời bằng tiếng Anh.",
        "en": "Send “help” to see the commands, “tiếng Việt” for answers in Vietnamese.",
    },
}

COMMANDS: dict[str, dict[str, str]] = {
    "start": {"vi": "lời chào và câu hỏi mẫu", "en": "welcome and example questions"},
    "help": {"vi": "cách dùng", "en": "how to use the assistant"},
    "lang": {"vi": "đổi ngôn ngữ Việt/Anh", "en": "switch Vietnamese/English"},
    "sources": {"vi": "kho tài liệu có gì", "en": "what the knowledge base holds"},
    "about": {"vi": "giới thiệu trợ lý", "en": "about this assistant"},
    "privacy": {"vi": "dữ liệu được lưu và thời hạn", "en": "what is stored and for how long"},
    "forget": {"vi": "xóa mọi dữ liệu về bạn", "en": "delete everything about you"},
}

STAFF_COMMANDS: dict[str, dict[str, str]] = {
    "reindex": {"vi": "cập nhật kho tài liệu", "en": "refresh the knowledge index"},
    "stats": {"vi": "thống kê kho và lượt dùng", "en": "index and usage statistics"},
    "gaps": {"vi": "câu hỏi chưa trả lời được", "en": "questions the knowledge base misses"},
    "cases": {"vi": "hồ sơ chuyển cán bộ đang mở", "en": "open cases handed to staff"},
    "close": {"vi": "đóng hồ sơ kèm lý do", "en": "close a case with a reason"},
    "publish": {"vi": "đăng câu trả lời thành tài liệu hỏi đáp", "en": "publish a case's answer as a Q&A document"},
    "sync": {"vi": "đồng bộ các cổng thông tin", "en": "sync the portals in sources.yaml"},
}

EXAMPLES: dict[str, list[str]] = {
    "vi": ["Nghị quyết 226 có gì đặc biệt?", "Ưu đãi thuế trong khu thương mại tự do?",
           "Chương trình ngoại giao kinh tế giai đoạn nào?"],
    "en": ["What is special about Resolution 226?", "What tax incentives apply in the free trade zone?",
           "What does the economic diplomacy action plan cover?"],
}


def t(key: str, lang: str, **values: object) -> str:
    """The text for `key` in `lang` (vi/en), with values filled in."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text
