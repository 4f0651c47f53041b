# Case registry pages (cases/pages.rs, templates/cases/*.html).
# Case registry: list, registration in steps, case page, editing and emergency access.

## Navigation and list

nav-cases = Cases
cases-title = Cases
cases-case = Case
cases-index-title = National case index
cases-index-intro = Index of every case on this node, without identifying data. To see a case's identity you must give a written reason; the access is recorded and shown to the other administrators and auditors.
cases-register = Register a case
cases-filter-heading = Search and filter
cases-filter-search = Name or document number
cases-filter-search-hint = Whole words of the given or family names (accents and capitals ignored), or a document number.
cases-filter-from = Registered from
cases-filter-to = Registered until
cases-filter-submit = Filter
cases-filter-clear = Clear filters
cases-any = Any
cases-list-heading = Cases found: { $total }
cases-page-of = Page { $page } of { $pages }
cases-empty = No cases match the search.
cases-number = Case number
cases-person = Person
cases-caseworker = Responsible caseworker
cases-exploitation-type = Type of exploitation
cases-break-glass-link = Open with a reason
cases-back-to-list = Back to the case list
cases-back-to-case = Back to the case

## Registration in steps

cases-new-title = Register a case
cases-step-search = Person search
cases-step-person = Person
cases-step-case = Case
cases-step-process = Trafficking process
cases-step-consent = Consent
cases-step-review = Review
cases-step-of = Step { $n } of { $total }:
cases-next = Save and continue
cases-back = Back to the previous step
cases-draft-saved-hint = Each step is saved as a draft: if the connection drops or you sign out, you can continue from "Register a case".
cases-draft-heading = You have an unfinished registration
cases-draft-desc = It was saved at the step "{ $step }".
cases-draft-person = Person:
cases-draft-continue = Continue the registration
cases-draft-discard = Discard the draft
cases-search-heading = Before registering: search for the person
cases-search-intro = Search by name or document number so that the same person is not registered twice. Only persons registered by your organisation are searched.
cases-search-name = Given or family names
cases-search-document = Document number
cases-search-submit = Search
cases-search-results = Search results
cases-duplicate-warning = This person may already be registered. Check the cases listed before registering a new person.
cases-no-matches = No person was found with these details.
cases-cases-of-person = Cases
cases-use-this-person = Register a new case for this person
cases-new-person-desc = If the person is not listed, register them as a new person.
cases-new-person = Register a new person
cases-existing-person = Person already registered:
cases-register-submit = Register the case
cases-review-incomplete = Required information is missing in a step. Press "Register the case" to see what is missing.
cases-review-no-consent = There is no case-management consent: only a coordinator can register without it, with a written reason.

## Person

cases-person-identity = Identity
cases-identity-sealed = These details identify the person: they are stored encrypted and only their organisation sees them.
cases-person-facts = About the person
cases-given-names = Given names
cases-family-names = Family names
cases-no-name = (no name)
cases-birth-date = Date of birth
cases-birth-date-hint = Leave it blank if it is not known.
cases-document-n = Document { $n }
cases-document-kind = Type of document
cases-document-kind-hint = For example DPI, DUI, passport, CURP.
cases-document-number = Number
cases-document-country = Issuing country
cases-documents = Documents
cases-contact-n = Contact { $n }
cases-contact-kind = Means
cases-contact-value = Number or address
cases-contact-phone = Phone
cases-contact-whatsapp = WhatsApp
cases-contact-email = Email
cases-contact-other = Other
cases-contacts = Contacts
cases-address = Address
cases-gender = Gender
cases-citizenship = Citizenship
cases-citizenship-second = Second citizenship
cases-country-of-birth = Country of birth
cases-language-primary = Main language
cases-language-other = Other language
cases-languages = Languages
cases-marital-status = Marital status
cases-number-of-children = Number of children
cases-education = Highest level of education
cases-migrant-type = Type of migrant
cases-protection-status = International protection
cases-migration-context = Other migration situations
cases-age-at-registration = Age when the case was registered
cases-minor-at-registration = Minor when registered
cases-minor = Minor
cases-unknown = Unknown
cases-person-edit-title = Change the person's details
cases-person-edit-hint = Changes apply to every case of this person. Which fields changed is recorded, not their values.
cases-edit-person = Change person

## Case

cases-case-data = Case details
cases-intake-channel = Intake channel
cases-registration-date = Registration date
cases-identification-date = Identification date
cases-identification-date-hint = When the person was identified as a possible victim, if different from the registration date.
cases-status = Case status
cases-closure-reason = Reason for closing
cases-closure-reason-hint = Only for closed cases.
cases-trafficking-status = Trafficking victim status
cases-status-decided-by = Who decided the status
cases-status-decided-by-hint = The kind of institution that decided the victim status.
cases-location = Case location
cases-location-hint = Department or state where the case is handled.
cases-narrative = Account
cases-narrative-hint = Free text. Stored encrypted. Do not write anything here that the assistance does not need.
cases-not-recorded = — Not recorded —
cases-updated-at = Last changed
cases-edit-title = Change the case
cases-edit-case = Change case
cases-reload = Reload the case to see the other person's changes before saving yours.
cases-error-version = Someone else changed this case while you were editing it. Reload the page: your changes were not saved.

## Trafficking process

cases-process-palermo = Trafficking process (Palermo Protocol)
cases-process-intro = Tick everything that applies according to the person's account. You can complete it later.
cases-acts = Acts
cases-acts-hint = What was done to the person.
cases-means = Means
cases-means-hint = How it was achieved (for minors no means are needed).
cases-exploitation-types = Types of exploitation
cases-sexual-exploitation-types = Forms of sexual exploitation
cases-sexual-exploitation-types-hint = Only if sexual exploitation is ticked.
cases-process-details = Process details
cases-control-methods = Methods of control
cases-recruitment-methods = Means of recruitment
cases-recruiter-relation = Relation to the recruiter
cases-forced-labour-industry = Industry of forced labour
cases-forced-labour-industry-hint = ISIC Rev.4 section.
cases-age-when-trafficked = Age when trafficked
cases-exploitation-start = Exploitation began
cases-exploitation-end = Exploitation ended
cases-partial-date-hint = YYYY, YYYY-MM or YYYY-MM-DD (for example 2024 or 2024-05).
cases-country-of-recruitment = Country of recruitment
cases-country-of-exploitation = Country of exploitation
cases-countries-region = Region
cases-countries-other = Other countries
cases-palermo-met = Are the elements of the Palermo Protocol met?
cases-palermo-hint = Derived from the acts, means and types of exploitation recorded; for minors no means are required.
cases-route = Route
cases-perpetrators = Perpetrators (roles)
cases-definitions = Definitions
cases-what-is-this = What does it mean?

## Consent

cases-consents = Consents
cases-consent-scopes = What the person consents to
cases-consent-intro = Consent to case management is required. The others are optional.
cases-consent-cm = Case management (required)
cases-consent-stat = Anonymous statistical use
cases-consent-ref = Referral to another organisation
cases-consent-who = Who gave the consent
cases-consent-scope = Scope
cases-consent-given-by = Given by
cases-consent-given-by-hint = If the person is a minor, their mother, father or guardian must give it.
cases-consent-guardian-name = Name of the mother, father or guardian
cases-consent-guardian-name-hint = Only if a guardian gave it.
cases-consent-given-on = Date of consent
cases-consent-evidence = Reference of the signed form
cases-consent-evidence-hint = Where the signed form is kept (for example a file number). Do not upload the document.
cases-consent-referral = Referral (only if referral is ticked)
cases-consent-referral-hint = Which country the data may go to, which groups of data, and until when.
cases-consent-destination-country = Destination country
cases-consent-destination-org = Destination organisation
cases-consent-field-groups = Data that may be sent
cases-consent-expires-on = Expires on
cases-consent-expires-on-hint = Required for a referral.
cases-override-heading = Register without case-management consent
cases-override-desc = Only coordinators can do this, for example when the person cannot sign yet. The reason goes to the timeline and the audit log.
cases-override-reason = Reason
cases-reason-hint = At least 20 characters. Do not write the person's identifying details.
cases-consent-details = Details
cases-consent-in-force = In force
cases-consent-not-in-force = Not in force
cases-consent-withdrawn-on = Withdrawn on { $date }
cases-consent-recorded-at = Recorded: { $at }
cases-consent-withdraw = Record withdrawal
cases-consent-withdrawn-date = Date of withdrawal
cases-consent-withdraw-submit = Record the withdrawal of consent
cases-consent-add = Record a consent
cases-consent-add-submit = Record consent
cases-no-consents = This case has no consents recorded.

## Services and legal proceedings

cases-services = Assistance services
cases-service-type = Service
cases-service-provider = Provided by
cases-start-date = Start
cases-end-date = End
cases-notes = Notes
cases-no-services = No services recorded yet.
cases-service-add = Add a service
cases-service-add-submit = Add service
cases-service-edit = Change service { $n }: { $what }
cases-proceedings = Legal proceedings
cases-proceeding-stage = Stage
cases-proceeding-date = Date
cases-proceeding-authority = Authority
cases-proceeding-reference = File number
cases-proceeding-verdict = Outcome
cases-proceeding-verdict-hint = Only for a verdict or an appeal.
cases-proceeding-victim-witness = The person testified as a witness
cases-proceeding-protection = With protection measures
cases-proceeding-reparation = Reparation was ordered
cases-no-proceedings = No stages of legal proceedings recorded yet.
cases-proceeding-add = Add a stage
cases-proceeding-add-submit = Add stage
cases-proceeding-edit = Change stage { $n }: { $what }

## Timeline, closing and reassignment

cases-timeline = Timeline
cases-timeline-hint = Notes cannot be changed or deleted. The newest is at the end.
cases-timeline-case-registered = Case registered
cases-timeline-consent-override = Registered without case-management consent
cases-timeline-case-closed = Case closed
cases-timeline-note = Note
cases-note-add = Add a note
cases-note-hint = Stored encrypted. Write only what the assistance needs.
cases-note-submit = Add note
cases-close-heading = Close the case
cases-close-note = Closing note
cases-close-note-hint = Optional. Added to the timeline.
cases-close-submit = Close the case
cases-reassign-heading = Reassign the case
cases-reassign-submit = Reassign

## Emergency access

cases-glass-title = Emergency access to a case
cases-glass-warning = You are about to see the identifying details of another organisation's case. This is only justified in an emergency. The access and its reason are recorded and shown to the other administrators and auditors.
cases-glass-heading = Reason for the access
cases-glass-reason = Explain why you need to see this case
cases-glass-submit = Record the reason and open the case
cases-glass-banner-title = Emergency access recorded.
cases-glass-banner = This access and its reason are in the audit log. Read-only view.
cases-export-label = Export the organisation's cases:
cases-export-ctdc = CTDC (no identity)
cases-export-htcds = HTCDS (with identity; handle with care)
