card-take_over = 🔁 Nhận thay
case-taken_by = Hồ sơ { $code } đang do { $name } xử lý. Nếu cần nhận thay, bấm «Nhận thay» trên phiếu.
case-changed_concurrently = Hồ sơ vừa được người khác cập nhật cùng lúc. Vui lòng xem lại phiếu hồ sơ và thử lại.
group-already_yours = Bạn đang xử lý hồ sơ { $code }.
group-taken_over_toast = Bạn đã nhận thay hồ sơ { $code }.
group-taken_over = 🔁 { $previous }: hồ sơ { $code } đã được { $name } nhận thay.
group-cancelled = Đã hủy { $n } yêu cầu đang chờ bạn trả lời.
group-nothing_to_cancel = Không có yêu cầu nào đang chờ bạn trả lời.
group-prompt_expired = Yêu cầu này đã hết hạn ({ $minutes } phút). Hãy bấm lại nút trên phiếu hồ sơ.
group-prompt_not_yours = Yêu cầu này do người khác mở; chỉ người đã bấm nút mới trả lời được.
group-traloi_not_found = Không tìm thấy hồ sơ { $code } trong các hồ sơ nhóm này phụ trách.
answer-preview_title = Xem trước câu trả lời hồ sơ { $code }
answer-preview_hint = Bấm <b>Gửi</b> để gửi cho người dân, <b>Sửa</b> để viết lại, <b>Hủy</b> để bỏ.
answer-preview_hint_approval = Bấm <b>Gửi</b> để trình lãnh đạo duyệt, <b>Sửa</b> để viết lại, <b>Hủy</b> để bỏ.
answer-files = 📎 { $n } tệp đính kèm
answer-send = ✅ Gửi
answer-edit = ✏️ Sửa
answer-cancel = ✖️ Hủy
answer-sent_preview = ✅ Đã gửi câu trả lời hồ sơ { $code } cho người dân.
answer-cancelled_preview = ✖️ Đã hủy câu trả lời hồ sơ { $code }.
answer-awaiting_preview = ⏳ Câu trả lời hồ sơ { $code } đã được trình lãnh đạo duyệt.
answer-ask_edit = Gửi nội dung mới cho câu trả lời hồ sơ { $code } (trả lời tin nhắn này):
answer-empty = Câu trả lời trống. Hãy viết nội dung hoặc gửi kèm tệp.
answer-not_author = Chỉ { $name } (người soạn) mới gửi, sửa hoặc hủy được câu trả lời này.
answer-draft_closed = Câu trả lời này không còn hiệu lực.
answer-draft_sent = Câu trả lời này đã được gửi.
answer-draft_cancelled = Câu trả lời này đã bị hủy.
answer-draft_returned = Câu trả lời này đã bị lãnh đạo trả lại.
answer-draft_awaiting_approval = Câu trả lời này đang chờ lãnh đạo duyệt.
answer-draft_preview = Câu trả lời này chưa được trình duyệt.
answer-not_approver = Chỉ lãnh đạo được giao quyền duyệt (hoặc quản trị viên) mới duyệt hoặc trả lại được.
approval-title = 📝 Dự thảo trả lời hồ sơ { $code } — chờ lãnh đạo duyệt
approval-author = Người soạn
approval-approvers = Người duyệt
approval-approve = ✅ Duyệt
approval-return = ↩️ Trả lại
approval-approved_edit = ✅ { $name } đã duyệt; câu trả lời hồ sơ { $code } đã gửi cho người dân.
approval-returned_edit = ↩️ { $name } đã trả lại dự thảo hồ sơ { $code }.
approval-ask_comment = Nhập ý kiến khi trả lại dự thảo hồ sơ { $code } (trả lời tin nhắn này):
approval-returned =
    ↩️ { $author }: lãnh đạo { $name } trả lại dự thảo trả lời hồ sơ { $code }.
    Ý kiến: { $comment }
    Hãy trả lời phiếu hồ sơ để soạn lại.
approval-on = Đã bật duyệt câu trả lời cho { $agency }: câu trả lời chỉ đến người dân sau khi lãnh đạo duyệt.
approval-off = Đã tắt duyệt câu trả lời cho { $agency }.
approval-usage = Cách dùng trong nhóm của cơ quan: /pheduyet on hoặc /pheduyet off.
approval-approver_added = Đã giao quyền duyệt câu trả lời của { $agency } cho { $name }.
approval-approver_removed = Đã bỏ quyền duyệt của { $name }.
approval-approver_missing = { $name } không có trong danh sách người duyệt.
approval-list =
    Duyệt câu trả lời của { $agency }: <b>{ $state }</b>.
    Người duyệt: { $names }
    Giao quyền: trả lời (Reply) một tin nhắn của lãnh đạo bằng /lanhdao; bỏ quyền: /lanhdao xoa.
approval-state_on = bật
approval-state_off = tắt
approval-nobody = chưa có
approval-no_approvers_warning = ⚠️ Cơ quan chưa có người duyệt: dự thảo sẽ chờ đến khi quản trị viên giao quyền (/lanhdao) hoặc tự duyệt.
reminder-awaiting_approval = 📝 Dự thảo trả lời đang chờ lãnh đạo duyệt từ { DAYTIME($since) }.
