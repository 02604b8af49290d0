search-talk-greeting = Chào bạn! 👋 Tôi là trợ lý thủ tục hành chính. Bạn cứ gõ câu hỏi, ví dụ «làm giấy khai sinh cần giấy tờ gì» hoặc kể việc của bạn: «bố tôi vừa mất, cần làm giấy gì».
search-talk-thanks = Không có gì ạ! 😊 Khi cần hỏi thủ tục nào, bạn cứ nhắn cho tôi.
search-talk-who = Tôi là trợ lý tự động của chính quyền địa phương: trả lời về thủ tục hành chính (hồ sơ, lệ phí, thời hạn, nơi nộp) và nhận phản ánh, kiến nghị của bạn (/phananh).
search-talk-ack = Vâng ạ. Bạn cần hỏi thêm thủ tục nào cứ nhắn nhé.
search-intent-status =
    📂 Tôi không xem được tình trạng hồ sơ thủ tục hành chính của bạn.
    • Hồ sơ đã nộp (trực tiếp hoặc trực tuyến): tra cứu trên Cổng Dịch vụ công (dichvucong.gov.vn) hoặc Cổng dịch vụ công của tỉnh bằng <b>mã hồ sơ</b> ghi trên giấy tiếp nhận, hẹn trả kết quả; hoặc gọi Bộ phận Một cửa nơi bạn nộp.
    • Nếu hồ sơ trễ hẹn mà chưa nhận được văn bản xin lỗi và hẹn lại ngày trả, bạn có thể gửi <b>phản ánh</b> (/phananh).
    • Phản ánh, kiến nghị bạn đã gửi qua bot: /status MÃ hoặc /mycases.
search-intent-complaint = ⚖️ Nội dung này có vẻ là <b>khiếu nại hoặc tố cáo</b>. Khiếu nại, tố cáo được giải quyết theo Luật Khiếu nại và Luật Tố cáo: bạn gửi đơn (hoặc đến trình bày trực tiếp) tại cơ quan có thẩm quyền hoặc Ban Tiếp công dân; việc tranh chấp dân sự thì khởi kiện tại Tòa án. Bot không tiếp nhận khiếu nại, tố cáo như phản ánh, kiến nghị.
search-intent-legal = ⚖️ Tôi chỉ trả lời về thủ tục hành chính, không <b>tư vấn pháp luật</b>. Bạn có thể hỏi Trung tâm Trợ giúp pháp lý nhà nước của tỉnh (miễn phí cho người thuộc diện được trợ giúp), một luật sư hoặc văn phòng luật; việc ly hôn, tranh chấp tài sản, hợp đồng, lao động do Tòa án nhân dân giải quyết.
search-intent-feedback = 📝 Có vẻ bạn muốn <b>phản ánh</b> cách giải quyết thủ tục (chậm, thái độ, đòi thêm giấy tờ…). Bấm nút dưới đây để gửi phản ánh, cơ quan có thẩm quyền sẽ trả lời bạn.
search-feedback_button = 📝 Gửi phản ánh
search-track_button = 📂 Phản ánh của tôi
search-english_hint = I could not match your question to a procedure. Please try short keywords, in English («birth certificate», «passport», «marriage registration», «temporary residence») or in Vietnamese («khai sinh», «hộ chiếu», «kết hôn», «tạm trú»).
search-event_intro = Việc bạn kể («{ $name }») thường cần các thủ tục dưới đây:
search-facet_more = Bấm «Xem đầy đủ» để xem toàn bộ thủ tục.
search-facet_missing = chưa có thông tin trong cơ sở dữ liệu
search-full_button = 📋 Xem đầy đủ thủ tục
search-related_intro = Các thủ tục liên quan ở nút bên dưới.
search-vi_only = (Chi tiết thủ tục được công bố bằng tiếng Việt.)
