adm-btn-apply = ✅ Apply
adm-btn-replace = ♻️ Replace everything (retire { $n } procedure{ $n ->
        [one] {""}
       *[other] s
    })…
adm-btn-cancel = ✖️ Cancel
adm-btn-confirm_retire = ⚠️ Confirm: retire { $n } procedure{ $n ->
        [one] {""}
       *[other] s
    }
adm-btn-rollback = ↩️ Back to v{ $n }
adm-btn-confirm_rollback = ↩️ Confirm: back to v{ $n }
adm-btn-report_weekly = 📊 Weekly
adm-btn-report_monthly = 🐢 Late list (month)
adm-btn-report_quarterly = 📈 Quarterly
adm-btn-remove_rule = 🗑 #{ $id }
adm-import_cancelled = Cancelled. Nothing changed.
adm-import_expired = This request has expired. Please send the file again.
adm-kb_export = The current procedure knowledge base (with the columns of the last import).
adm-no_version = There is no version v{ $n }.
adm-rollback_ask = Bring the procedure knowledge base back to version v{ $n }? Procedures added after v{ $n } will no longer be answered (old cases keep them).
adm-kb_usage = Usage: /kb versions · /kb rollback NUMBER · /kb export
adm-rolled_back = Back to v{ $n } (now version v{ $version }): { $restored } procedure{ $restored ->
        [one] {""}
       *[other] s
    } restored, { $retired } retired.
adm-reports_menu = Choose the report to export (the last complete period):
adm-report_caption = Figures from { DAY($start) } to { DAY($end) }
adm-export_usage = Usage: /export cases FROM TO, e.g. /export cases 01/11/2026 30/11/2026 (add csv for a CSV file)
adm-export_caption = Cases received from { DAY($start) } to { DAY($end) }
adm-rule_pick_agency = Choose the agency for cases matching “{ $what }”:
adm-rules_usage = Add: /rules add keyword · /rules field field-name — then choose the agency. Remove: press 🗑.
adm-rule_removed = Rule #{ $id } removed.
adm-rule_gone = Item #{ $id } no longer exists.
adm-rule_added = Rule #{ $id } added: “{ $what }” → { $agency }.
adm-lexicon_usage = Add: /lexicon add everyday phrase = official term. Remove: press 🗑.
adm-lexicon_added = Added: “{ $phrase }” → { $expansion }.
adm-lexicon_removed = Removed “{ $phrase }”.
adm-holidays_usage = Add a day off: /holidays off dd/mm/yyyy Name · a make-up working day: /holidays work dd/mm/yyyy Name · another year: /holidays 2027. Remove a changed day (✏️): press 🗑.
adm-holiday_off = { DAY($day) } is now a day off.
adm-holiday_work = { DAY($day) } is now a (make-up) working day.
adm-holiday_removed = The change to { DAY($day) } was removed.
adm-holiday_gone = { DAY($day) } had no change.
adm-admins_usage = Add an admin: /admins add TELEGRAM_ID [name]. Remove: press 🗑.
adm-admin_added = Admin { $name } ({ $id }) added.
adm-admin_exists = { $name } ({ $id }) is already an admin.
adm-admin_configured = { $id } is an admin in the server's settings (ADMIN_IDS); only whoever runs the server can remove them.
adm-admin_removed = Admin { $id } removed.
import-version = Version v{ $n }.
import-will_retire = Replace everything: { $n } procedure{ $n ->
        [one] {""}
       *[other] s
    } missing from the file will no longer be answered (old cases keep them).
import-retired = { $n } procedure{ $n ->
        [one] {""}
       *[other] s
    } missing from the file will no longer be answered (old cases keep them).
import-sample_will_go = The sample data ({ $procedures } procedures, { $agencies } agencies) will be removed entirely when this first import is applied.
import-sample_gone = The sample data ({ $procedures } procedures, { $agencies } agencies) was removed entirely.
import-replace_hint = Procedures in the system but not in the file are kept unless you choose “Replace everything”.
import-more_codes = and { $n } more
import-warn-headerless_column = Column { $column } has values but no header (first at row { $row }); it was ignored.
import-warn-unknown_column = Unknown column “{ $header }” was ignored.
import-warn-truncated_code = Row { $row }: code “{ $code }” looks like a national code (1.001193) that lost trailing zeros in Excel; format the column as text.
import-warn-person_chat_id = Row { $row }: chat id { $chat_id } is positive, so it is a person, not a group (group ids are negative, e.g. -1001234567890).
adm-replace_title = Replace the whole procedure knowledge base: retire { $n } procedure{ $n ->
        [one] {""}
       *[other] s
    }
adm-replace_body = The { $n } procedure{ $n ->
        [one] {""}
       *[other] s
    } below { $n ->
        [one] is
       *[other] are
    } not in the file. Once you confirm, the bot no longer answers about them; old cases still show them.
adm-replace_none = Every procedure in the system is in the file: none will be retired.
adm-versions_title = Versions of the procedure knowledge base
adm-version_kind-procedures = procedures
adm-version_kind-agencies = agencies
adm-version_kind-rollback = rollback
adm-replaced = replace everything
adm-count-added = +{ $n }
adm-count-updated = ~{ $n }
adm-count-retired = −{ $n }
adm-count-restored = ↩{ $n }
adm-no_versions = Nothing was imported yet (the sample data is in use).
adm-versions_hint = Press a button to go back to that version.
adm-rules_title = Routing rules
adm-rule_keyword = keyword “{ $value }”
adm-rule_field = field “{ $value }”
adm-no_rules = No rules yet.
adm-lexicon_title = Everyday phrases added by admins
adm-no_lexicon = No entries yet.
adm-holidays_title = Days off in { $year }
adm-make_up_days = Make-up working days
adm-agencies_title = Agency directory ({ $n })
adm-group_bound = group { $chat_id }
adm-group_unbound = no group bound
adm-reply_days = replies within { $n } day{ $n ->
        [one] {""}
       *[other] s
    }
adm-default = default
adm-load = { $open } open, { $overdue } overdue
adm-stats_title = Today ({ DAY($now) })
adm-open_now = Open: <b>{ $n }</b>, of which overdue: <b>{ $overdue }</b>
adm-transferred_today = Transferred to another agency: { $n }
adm-kb_size = Procedures answered: { $n }
adm-admins_title = Admins
adm-admin_from_settings = server settings
adm-added_on = added on { DAY($at) }
