places-kind-commune_committee = the People's Committee of the commune or ward
places-kind-commune_police = the commune or ward police
places-confirm =
    📍 This procedure is handled by <b>{ $role }</b>. From what you entered, the place is in <b>{ $commune }</b>.
    Your case will go to { $commune }. Is that right?
places-yes = ✅ Yes, { $commune }
places-other = 📍 Another commune
places-pick = 📍 This procedure is handled by <b>{ $role }</b>. Your address may be in one of these communes (after the 2025 rearrangement of administrative units). Please pick the right one:
places-none_of_these = 🤷 None of these
places-outside =
    📍 This address seems to be in <b>{ $province }</b>, not in { $ours }. This bot takes feedback for { $ours }.
    If the place is in { $ours }, enter its commune; otherwise you can still send it and the coordinating agency will advise you.
places-other_in_province = ✏️ Enter a commune in this province
places-continue = ➡️ Send anyway
places-ask =
    📍 This procedure is handled by <b>{ $role }</b>, so we need the <b>commune or ward</b> of the place (where you live, where the land is…) in { $province }.
    Type its name (the new one or the name before July 2025, e.g. «phường 3, Đà Lạt»), or press «Skip».
places-ask_location = Or press the button below to send the place's location.
places-share_location = 📍 Send location
places-placeholder = Commune or ward, e.g. xã Lạc Dương
places-skip = Skip ➡️
places-not_found = No commune or ward found for «{ $text }». Type it again with its type (xã, phường, former thị trấn) and its former district if any, or send a location, or press «Skip».
places-location_pick = 📍 Location recorded. The nearest communes:
places-location_unknown = 📍 Location recorded, but it does not seem to be in { $province }. Type the commune's name, or press «Skip».
places-location_recorded = 📍 Location recorded; it will be sent with your case. Please also type the commune's name, or press «Skip».
places-summary_commune = Commune handling it
places-summary_unknown = not determined (the coordinating agency will forward it)
places-edit_commune = ✏️ Commune
places-card_place = Place
places-card_location = Location
places-report_unresolved = Addresses not placed in a commune: { $n } open case(s) ({ $codes }). See <code>citizen-bot cases unresolved</code> and transfer them to the right commune.
shell-location_prompt = 📍 Shared location (latitude, longitude, e.g. 11.9404, 108.4583):{" "}
shell-location_invalid = Not a location: two numbers are needed, e.g. 11.9404, 108.4583.
