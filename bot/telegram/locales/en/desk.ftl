card-take_over = 🔁 Take over
case-taken_by = Case { $code } is being handled by { $name }. To take it over, press “Take over” on the card.
case-changed_concurrently = Someone else changed this case at the same moment. Please check the card and try again.
group-already_yours = You are already handling case { $code }.
group-taken_over_toast = You took over case { $code }.
group-taken_over = 🔁 { $previous }: case { $code } was taken over by { $name }.
group-cancelled = Cancelled { $n } request(s) waiting for your reply.
group-nothing_to_cancel = Nothing is waiting for your reply.
group-prompt_expired = This request has expired ({ $minutes } minutes). Press the button on the case card again.
group-prompt_not_yours = Someone else opened this request; only the person who pressed the button can answer it.
group-traloi_not_found = No case { $code } among the cases this group handles.
answer-preview_title = Preview of the answer to case { $code }
answer-preview_hint = Press <b>Send</b> to send it to the citizen, <b>Edit</b> to rewrite it, <b>Cancel</b> to drop it.
answer-preview_hint_approval = Press <b>Send</b> to submit it for approval, <b>Edit</b> to rewrite it, <b>Cancel</b> to drop it.
answer-files = 📎 { $n } attachment(s)
answer-send = ✅ Send
answer-edit = ✏️ Edit
answer-cancel = ✖️ Cancel
answer-sent_preview = ✅ The answer to case { $code } was sent to the citizen.
answer-cancelled_preview = ✖️ The answer to case { $code } was cancelled.
answer-awaiting_preview = ⏳ The answer to case { $code } was submitted for approval.
answer-ask_edit = Send the new text of the answer to case { $code } (reply to this message):
answer-empty = The answer is empty. Write a text or attach a file.
answer-not_author = Only { $name } (the author) can send, edit or cancel this answer.
answer-draft_closed = This answer is no longer valid.
answer-draft_sent = This answer has already been sent.
answer-draft_cancelled = This answer was cancelled.
answer-draft_returned = This answer was returned by the approver.
answer-draft_awaiting_approval = This answer is waiting for approval.
answer-draft_preview = This answer has not been submitted for approval yet.
answer-not_approver = Only the agency's approvers (or an admin) can approve or return answers.
approval-title = 📝 Draft answer to case { $code } — waiting for approval
approval-author = Written by
approval-approvers = Approvers
approval-approve = ✅ Approve
approval-return = ↩️ Return
approval-approved_edit = ✅ Approved by { $name }; the answer to case { $code } was sent to the citizen.
approval-returned_edit = ↩️ { $name } returned the draft of case { $code }.
approval-ask_comment = Write your comment for returning the draft of case { $code } (reply to this message):
approval-returned =
    ↩️ { $author }: { $name } returned the draft answer to case { $code }.
    Comment: { $comment }
    Reply to the case card to write a new one.
approval-on = Answer approval is on for { $agency }: answers reach citizens only after an approver approves them.
approval-off = Answer approval is off for { $agency }.
approval-usage = Usage in the agency's group: /pheduyet on or /pheduyet off.
approval-approver_added = { $name } can now approve the answers of { $agency }.
approval-approver_removed = { $name } can no longer approve answers.
approval-approver_missing = { $name } is not an approver.
approval-list =
    Answer approval for { $agency }: <b>{ $state }</b>.
    Approvers: { $names }
    To add one, reply to a message of the lead with /lanhdao; to remove, /lanhdao xoa.
approval-state_on = on
approval-state_off = off
approval-nobody = none yet
approval-no_approvers_warning = ⚠️ The agency has no approvers yet: drafts wait until an admin adds one (/lanhdao) or approves them.
reminder-awaiting_approval = 📝 A draft answer has been waiting for approval since { DAYTIME($since) }.
