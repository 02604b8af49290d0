search-talk-greeting = Hello! 👋 I answer questions about administrative procedures. Just type your question, e.g. «birth certificate», «passport», or in Vietnamese «làm giấy khai sinh cần giấy tờ gì».
search-talk-thanks = You're welcome! 😊 Message me whenever you need a procedure.
search-talk-who = I am the local government's assistant: I answer questions about administrative procedures (documents, fees, time, where to apply) and take your feedback and suggestions (/phananh).
search-talk-ack = All right. Message me if you need another procedure.
search-intent-status =
    📂 I cannot see the status of your application (hồ sơ).
    • An application you filed (in person or online): look it up on the National Public Service Portal (dichvucong.gov.vn) or the province's portal with the <b>application code</b> on your receipt, or call the One-Stop Shop (Bộ phận Một cửa) where you filed it.
    • If it is late and you have not received an apology with a new date, you can send <b>feedback</b> (/phananh).
    • Feedback you sent through this bot: /status CODE or /mycases.
search-intent-complaint = ⚖️ This looks like a <b>complaint or denunciation</b> (khiếu nại, tố cáo). These are handled under the Law on Complaints and the Law on Denunciations: file a written petition (or present it in person) with the competent authority or the Citizen Reception Office (Ban Tiếp công dân); civil disputes go to court. This bot does not take complaints or denunciations as feedback.
search-intent-legal = ⚖️ I only answer questions about administrative procedures, not <b>legal advice</b>. You can ask the province's State Legal Aid Centre (free for eligible people), a lawyer or a law office; divorce and disputes over property, contracts or employment are decided by the People's Court.
search-intent-feedback = 📝 It sounds like you want to send <b>feedback</b> on how a procedure was handled (slow, rude, extra papers asked…). Press the button below and the competent agency will answer you.
search-feedback_button = 📝 Send feedback
search-track_button = 📂 My feedback cases
search-english_hint = I could not match your question to a procedure. Please try short keywords, in English («birth certificate», «passport», «marriage registration», «temporary residence») or in Vietnamese («khai sinh», «hộ chiếu», «kết hôn», «tạm trú»).
search-event_intro = What you describe («{ $name }») usually needs the procedures below:
search-facet_more = Press «Full details» for the whole procedure.
search-facet_missing = not in the database yet
search-full_button = 📋 Full details
search-related_intro = Related procedures are on the buttons below.
search-vi_only = (Procedure details are published in Vietnamese.)
