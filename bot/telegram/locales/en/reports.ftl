event-progress_update = Progress update
reports-reminder_title = Reply reminder for case { $code }
reports-reminder_days_left = <b>{ $n } day{ $n ->
        [one] {""}
       *[other] s
    }</b> left until the reply is due ({ DAY($due) }).
reports-reminder_due_today = Today ({ DAY($due) }) is the <b>last day</b> to reply.
reports-reminder_extend_hint = If the reply cannot be ready in time, send the citizen an apology with a new date at least 1 day before the deadline (the date may be moved only once): press «Extend» on the case card.
reports-no_group = { $agency } ({ $code }) has no Telegram group yet, so this message went to the administrators. Use /bind { $code } in the agency's group.
reports-escalation_title = Case { $code } is past its reply deadline
reports-escalation_body = <b>{ $agency }</b> has not answered this case; the reply was due on { DAY($due) } ({ $n } day{ $n ->
        [one] {""}
       *[other] s
    } overdue).
reports-escalation_parent_unbound = The supervising agency { $parent } has no Telegram group, so it has not received this notice.
reports-agency = Handling agency: { $name }
reports-assignee = Assignee: { $name }
reports-unassigned = Nobody has taken this case yet
reports-progress_update = Your case { $code } is being handled by <b>{ $agency }</b> (status: { $status }). Reply due: { DAY($due) }. The answer will be sent to you in this chat.
reports-all_agencies = All agencies
reports-weekly_title = Weekly summary of feedback and suggestions, week { $week } ({ DAY($start) } – { DAY($end) })
reports-monthly_title = Cases handled late in { $month }
reports-monthly_intro = Cases answered after their deadline during the month, and cases still unanswered past their deadline at the end of the month.
reports-monthly_none = No case was handled late this month. 👏
reports-quarterly_title = Quarterly report Q{ $quarter }/{ $year }: feedback and suggestions received and handled
reports-period = Figures from { DAY($start) } to { DAY($end) }
reports-received = New cases received: <b>{ $n }</b>
reports-answered = Answered: <b>{ $n }</b> (on time { $on_time }, late { $late })
reports-answered_on_time = Answered on time: <b>{ $n }</b>{ PRESENT($pct) ->
        [yes] {" "}({ $pct }%)
       *[no] {""}
    }
reports-answered_late = Answered late: <b>{ $n }</b>
reports-open = Open at the end of the period: <b>{ $n }</b>, of which overdue: <b>{ $overdue }</b>
reports-rejected = Not accepted: { $n }
reports-transferred = Transferred to the competent agency: { $n } (after more than { $days } working days: { $late })
reports-ratings = Citizens' ratings: 😊 { $good } · 😐 { $neutral } · ☹️ { $bad }
reports-satisfaction = Satisfaction: <b>{ $pct }%</b> ({ $good } of { $rated } ratings satisfied)
reports-satisfaction_none = Satisfaction: no ratings yet
reports-target = Target: ≥ { $target }% of citizens satisfied
reports-target_met = met ✅
reports-target_missed = not met ⚠️
reports-by_agency = By agency
reports-agency_row = { $name }: { $received } new · { $answered } answered ({ $late } late) · { $open } open ({ $overdue } overdue)
reports-no_activity = No cases in this period.
reports-cases_count = { $n } case{ $n ->
        [one] {""}
       *[other] s
    }
reports-no_assignee = Not assigned
reports-late_answered = due { DAY($due) }, answered { DAY($at) } — { $n } day{ $n ->
        [one] {""}
       *[other] s
    } late
reports-late_open = due { DAY($due) }, not answered — { $n } day{ $n ->
        [one] {""}
       *[other] s
    } overdue
