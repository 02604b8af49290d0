places-kind-commune_committee = Ủy ban nhân dân xã, phường, đặc khu
places-kind-commune_police = Công an xã, phường, đặc khu
places-confirm =
    📍 Thủ tục này do <b>{ $role }</b> giải quyết. Theo thông tin bạn nhập, nơi liên quan thuộc <b>{ $commune }</b>.
    Phản ánh sẽ được chuyển đến đơn vị của { $commune }. Đúng chưa?
places-yes = ✅ Đúng, { $commune }
places-other = 📍 Xã/phường khác
places-pick = 📍 Thủ tục này do <b>{ $role }</b> giải quyết. Địa chỉ của bạn có thể thuộc một trong các xã, phường sau (sau sắp xếp đơn vị hành chính năm 2025). Hãy chọn đúng nơi:
places-none_of_these = 🤷 Không có trong danh sách
places-outside =
    📍 Địa chỉ này có vẻ thuộc <b>{ $province }</b>, không thuộc { $ours }. Bot tiếp nhận phản ánh, kiến nghị của { $ours }.
    Nếu nơi liên quan ở { $ours }, hãy nhập xã, phường; nếu không, bạn vẫn có thể gửi, cơ quan đầu mối sẽ hướng dẫn.
places-other_in_province = ✏️ Nhập xã/phường trong tỉnh
places-continue = ➡️ Vẫn gửi
places-ask =
    📍 Thủ tục này do <b>{ $role }</b> giải quyết, nên cần biết <b>xã, phường</b> nơi liên quan (nơi bạn cư trú, nơi có thửa đất…) ở { $province }.
    Hãy nhập tên xã/phường (tên mới hoặc tên cũ trước 7/2025, ví dụ «phường 3, Đà Lạt»), hoặc bấm «Bỏ qua».
places-ask_location = Hoặc bấm nút bên dưới để gửi vị trí của nơi đó.
places-share_location = 📍 Gửi vị trí
places-placeholder = Tên xã/phường, ví dụ: xã Lạc Dương
places-skip = Bỏ qua ➡️
places-not_found = Chưa tìm thấy xã, phường nào theo «{ $text }». Hãy nhập lại kèm loại đơn vị (xã, phường, thị trấn cũ) và huyện/thành phố cũ nếu có, hoặc gửi vị trí, hoặc bấm «Bỏ qua».
places-location_pick = 📍 Đã ghi nhận vị trí. Các xã, phường gần nhất:
places-location_unknown = 📍 Đã ghi nhận vị trí, nhưng vị trí này có vẻ không thuộc { $province }. Hãy nhập tên xã/phường, hoặc bấm «Bỏ qua».
places-location_recorded = 📍 Đã ghi nhận vị trí và sẽ gửi kèm phản ánh. Hãy nhập thêm tên xã/phường, hoặc bấm «Bỏ qua».
places-summary_commune = Xã/phường xử lý
places-summary_unknown = chưa xác định (cơ quan đầu mối sẽ chuyển đúng nơi)
places-edit_commune = ✏️ Xã/phường
places-card_place = Nơi liên quan
places-card_location = Vị trí
places-report_unresolved = Địa chỉ chưa xác định được xã, phường: { $n } hồ sơ đang mở ({ $codes }). Xem bằng <code>citizen-bot cases unresolved</code> và chuyển đến đúng xã, phường.
shell-location_prompt = 📍 Vị trí chia sẻ (vĩ độ, kinh độ, ví dụ 11.9404, 108.4583):{" "}
shell-location_invalid = Vị trí không hợp lệ: cần hai số, ví dụ 11.9404, 108.4583.
