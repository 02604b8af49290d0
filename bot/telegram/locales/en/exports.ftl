reports-caption_title = Week { $week } ({ DAY($start) } – { DAY($end) })
reports-caption_received = Received: <b>{ $n }</b>{ PRESENT($change) ->
        [yes] {" "}({ $change } on last week)
       *[no] {""}
    }
reports-caption_answered = Answered: <b>{ $n }</b> (on time { $on_time }, late { $late })
reports-caption_open = Open: { $n }, overdue: <b>{ $overdue }</b>{ PRESENT($change) ->
        [yes] {" "}({ $change })
       *[no] {""}
    }
reports-caption_median = Reply time (median): { $days } days
reports-caption_satisfaction = Satisfied: <b>{ $pct }%</b> (target { $target }%)
reports-median = Reply time (median): { $days } days
reports-change = Against last week: received { $received }, answered { $answered }, overdue { $overdue }
chart-title = Week { $week } ({ DAY($start) } – { DAY($end) })
chart-week = Week { $week }
chart-received = Received
chart-answered = Answered
chart-overdue = Overdue
chart-on_time = Answered on time
chart-target = Target { $pct }%
chart-count_axis = Cases
chart-rate_axis = Answered on time (%)
export-col-no = No.
export-col-agency_code = Agency code
export-col-agency = Agency
export-col-received = Received
export-col-answered = Answered
export-col-on_time = Answered on time
export-col-late = Answered late
export-col-open = Open at period end
export-col-overdue = Of which overdue
export-col-transferred = Transferred
export-col-transferred_late = Transferred after 5 working days
export-col-rejected = Not accepted
export-col-rated = Ratings
export-col-good = Satisfied
export-col-satisfaction = Satisfaction rate
export-col-assignee = Official
export-col-code = Case code
export-col-kind = Kind
export-col-received_at = Received on
export-col-due_at = Due on
export-col-answered_at = Answered on
export-col-late_days = Days late
export-col-status = Status
export-col-procedure = Procedure code
export-col-content = Content
export-col-extensions = Extensions
export-col-closed_at = Closed on
export-col-rating = Rating
export-total = Total
export-sheet-weekly = Weekly
export-sheet-monthly = Handled late
export-sheet-quarterly = Quarterly
export-sheet-cases = Cases
export-file-weekly = weekly-report
export-file-monthly = late-list
export-file-quarterly = quarterly-report
export-file-cases = cases
export-rating-good = Satisfied
export-rating-neutral = Neutral
export-rating-bad = Unsatisfied
