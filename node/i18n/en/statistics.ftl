# National statistics: pages /statistics and /statistics/export.

nav-statistics = Statistics
action-view_statistics = See and export the protected statistics (national or organisation)

stats-title = Statistics
stats-intro = Tables of the persons identified in a closed period, under disclosure control: no small figure is published and no suppressed figure can be worked out from the totals.
stats-choose-heading = Period and scope
stats-field-kind = Kind of period
stats-kind-month = Month
stats-kind-quarter = Quarter
stats-kind-year = Year
stats-field-period = Period
stats-period-error = That period does not exist or has not ended yet; the last closed period is shown.
stats-field-org = Organisation
stats-whole-node = The whole country
stats-show = Show
stats-kind-hint = Closed, fixed, non-overlapping periods only (yearly totals are built by adding protected periods).
stats-summary-heading = Period { $period }
stats-period-range = From { $start } to { $end }.
stats-scope-org = Organisation: { $org }.
stats-scope-node = Scope: the whole country.
stats-persons = Persons counted: { $n }
stats-method-heading = Method
stats-method = Persons (not cases) are counted, once each, only with a statistical-use consent (or a recorded legal basis) in force at the end of the period. Threshold k = { $k }: every figure from 1 to { $k } minus one is suppressed.
stats-method-rounding = Published figures and totals are rounded to base { $base }; totals are computed from the true data.
stats-method-no-rounding = No rounding.
stats-method-check = Complementary suppression with an exact check: no suppressed figure can be recovered from the published figures and totals. Rare categories are merged (citizenships into M49 sub-regions or "other").
stats-legend = "<{ $k }": suppressed figure (a small value, or suppressed to protect another); it never means zero. "0": no person.
stats-export-csv = Export CSV
stats-export-hxl = Export HXL-tagged CSV
stats-export-glotip = Export GLOTIP table
stats-total = Total
stats-margin-heading = Totals by { $dim }

stats-table-T01 = Sex × age × form of exploitation (GLOTIP, SDG 16.2.2)
stats-table-T02 = Gender × age band (CTDC)
stats-table-T03 = Citizenship × country of exploitation
stats-table-T03F = Flow reach
stats-table-T04 = Type of exploitation × means of control
stats-table-T05 = Forced-labour industry (ISIC) × sex
stats-table-T06 = Relation to recruiter × age
stats-table-T07 = Trafficking status × intake channel
stats-table-T08 = Referrals sent, received and accepted × country
stats-note-T03 = Citizenships and countries with few persons are merged into their M49 sub-region or "other".
stats-note-T04 = A person counts in every combination of type of exploitation and means of control that applies: totals count mentions, not persons.
stats-withheld = This table is not published for this period: together with the other tables it would allow suppressed figures to be worked out.
stats-note-T08 = Counts referrals, not persons.

stats-dim-glotip_sex = Sex
stats-dim-glotip_age_band = Age
stats-dim-ctdc_age_band = Age band
stats-dim-glotip_form = Form of exploitation
stats-dim-citizenship = Citizenship
stats-dim-country_of_exploitation = Country of exploitation
stats-dim-flow_reach = Flow reach
stats-dim-exploitation_flag = Type of exploitation
stats-dim-control_method = Means of control
stats-dim-isic_section = Industry
stats-dim-recruiter_relation = Relation to recruiter
stats-dim-trafficking_status = Trafficking status
stats-dim-intake_channel = Intake channel
stats-dim-referral_flow = Referrals
stats-dim-partner_country = Country

stats-cat-UNKNOWN = Unknown
stats-cat-OTHER = Other
stats-cat-NOT_RECORDED = Not recorded
stats-cat-NOT_DECIDED = Not decided
stats-cat-FORCED_LABOUR = Forced labour
stats-cat-SEXUAL_EXPLOITATION = Sexual exploitation
stats-cat-OTHER_EXPLOITATION = Other exploitation
stats-cat-SENT = Sent
stats-cat-RECEIVED = Received
stats-cat-ACCEPTED = Accepted
