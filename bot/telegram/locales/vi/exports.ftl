reports-caption_title = Tuần { $week } ({ DAY($start) } – { DAY($end) })
reports-caption_received = Tiếp nhận: <b>{ $n }</b>{ PRESENT($change) ->
        [yes] {" "}({ $change } so với tuần trước)
       *[no] {""}
    }
reports-caption_answered = Đã trả lời: <b>{ $n }</b> (đúng hạn { $on_time }, trễ hạn { $late })
reports-caption_open = Đang xử lý: { $n }, quá hạn: <b>{ $overdue }</b>{ PRESENT($change) ->
        [yes] {" "}({ $change })
       *[no] {""}
    }
reports-caption_median = Thời gian trả lời (trung vị): { $days } ngày
reports-caption_satisfaction = Hài lòng: <b>{ $pct }%</b> (mục tiêu { $target }%)
reports-median = Thời gian trả lời (trung vị): { $days } ngày
reports-change = So với tuần trước: tiếp nhận { $received }, đã trả lời { $answered }, quá hạn { $overdue }
chart-title = Tuần { $week } ({ DAY($start) } – { DAY($end) })
chart-week = Tuần { $week }
chart-received = Tiếp nhận
chart-answered = Đã trả lời
chart-overdue = Quá hạn
chart-on_time = Tỷ lệ trả lời đúng hạn
chart-target = Mục tiêu { $pct }%
chart-count_axis = Số hồ sơ
chart-rate_axis = Tỷ lệ trả lời đúng hạn (%)
export-col-no = STT
export-col-agency_code = Mã cơ quan
export-col-agency = Cơ quan
export-col-received = Tiếp nhận
export-col-answered = Đã trả lời
export-col-on_time = Trả lời đúng hạn
export-col-late = Trả lời trễ hạn
export-col-open = Đang xử lý cuối kỳ
export-col-overdue = Trong đó quá hạn
export-col-transferred = Chuyển cơ quan khác
export-col-transferred_late = Chuyển quá 5 ngày làm việc
export-col-rejected = Không thụ lý
export-col-rated = Lượt đánh giá
export-col-good = Hài lòng
export-col-satisfaction = Tỷ lệ hài lòng
export-col-assignee = Người xử lý
export-col-code = Mã hồ sơ
export-col-kind = Loại
export-col-received_at = Ngày tiếp nhận
export-col-due_at = Hạn trả lời
export-col-answered_at = Ngày trả lời
export-col-late_days = Số ngày trễ
export-col-status = Trạng thái
export-col-procedure = Mã thủ tục
export-col-content = Nội dung
export-col-extensions = Số lần gia hạn
export-col-closed_at = Ngày kết thúc
export-col-rating = Đánh giá
export-total = Tổng cộng
export-sheet-weekly = Báo cáo tuần
export-sheet-monthly = Chậm muộn
export-sheet-quarterly = Báo cáo quý
export-sheet-cases = Hồ sơ
export-file-weekly = bao-cao-tuan
export-file-monthly = cham-muon
export-file-quarterly = bao-cao-quy
export-file-cases = ho-so
export-rating-good = Hài lòng
export-rating-neutral = Bình thường
export-rating-bad = Không hài lòng
