# Puente — case-record vocabulary: labels (code-<field>-<CODE>) and definitions
# (def-<field>-<CODE>) of the coded fields (common/src/vocab/codes.rs).
# Labels and definitions from HTCDS 2.0 (IOM and Tech Against Trafficking, CC BY 4.0) where it has them.

## intake_channel
code-intake_channel-CASE_MANAGEMENT = Case management
code-intake_channel-HOTLINE = Hotline
code-intake_channel-REFERRAL_IN = Referral from another organisation
code-intake_channel-OUTREACH = Outreach
code-intake_channel-LAW_ENFORCEMENT_OPERATION = Law enforcement operation
code-intake_channel-SELF_IDENTIFIED = Self-identified

## case_status
code-case_status-ACTIVE = Active
code-case_status-FOLLOW_UP = Follow Up
code-case_status-CLOSED = Closed
code-case_status-CLOSED_REFERRED = Closed Referred

## trafficking_status
code-trafficking_status-POSSIBLE_VICTIM = Possible victim of trafficking
def-trafficking_status-POSSIBLE_VICTIM = Someone who might be a victim of trafficking but who has not yet been verified.
code-trafficking_status-ACTUAL_VICTIM = Actual victim of trafficking
def-trafficking_status-ACTUAL_VICTIM = Someone who has been determined to be a victim of trafficking.
code-trafficking_status-NOT_A_VICTIM = Not a victim of trafficking
def-trafficking_status-NOT_A_VICTIM = Someone who has been determined not to be a victim of trafficking and whose information has been entered into the case management system.

## status_decided_by
code-status_decided_by-POLICE = Police
code-status_decided_by-NGO = NGO
code-status_decided_by-COURT_OR_PROSECUTION = Court or prosecution
code-status_decided_by-NON_POLICE_GOVERNMENT = Non-police governmental organization
code-status_decided_by-OTHER = Other

## gender
code-gender-FEMININE = Feminine
code-gender-MASCULINE = Masculine
code-gender-TRANSGENDER_FEMININE = Transgender Feminine
code-gender-TRANSGENDER_MASCULINE = Transgender Masculine
code-gender-NON_CONFORMING = Non-Conforming
code-gender-NOT_SPECIFIED_UNKNOWN = Not Specified/Unknown

## marital_status
code-marital_status-SINGLE = Single
code-marital_status-MARRIED = Married
code-marital_status-WIDOWED = Widowed
code-marital_status-DIVORCED = Divorced
code-marital_status-SEPARATED = Separated
code-marital_status-REGISTERED_PARTNERSHIP = Registered Partnership
code-marital_status-UNION_DE_HECHO = De facto union (cohabiting)
code-marital_status-UNKNOWN = Unknown

## education
code-education-NO_SCHOOLING = No schooling
code-education-EARLY_CHILDHOOD_EDUCATION = Early Childhood Education
code-education-PRIMARY_EDUCATION = Primary Education
code-education-LOWER_SECONDARY_EDUCATION = Lower Secondary Education
code-education-UPPER_SECONDARY_EDUCATION = Upper Secondary Education
code-education-POST_SECONDARY_NON_TERTIARY_EDUCATION = Post-secondary Non-tertiary Education
code-education-SHORT_CYCLE_TERTIARY_EDUCATION = Short-cycle Tertiary Education
code-education-BACHELORS_OR_EQUIVALENT_LEVEL = Bachelor’s or Equivalent Level
code-education-MASTERS_OR_EQUIVALENT_LEVEL = Master’s or Equivalent Level
code-education-DOCTORAL_OR_EQUIVALENT_LEVEL = Doctoral or Equivalent Level
code-education-UNKNOWN = Unknown

## migrant_type
code-migrant_type-NOT_A_MIGRANT = Not a migrant
code-migrant_type-FAMILY = Family migrant
code-migrant_type-VISITOR_TOURIST = Visitor / tourist migrant
def-migrant_type-VISITOR_TOURIST = A person who is allowed temporary entrance to a country for the purposes of tourism/visiting.
code-migrant_type-LABOUR = Labour migrant
def-migrant_type-LABOUR = A migrant with temporary permission to reside and work.
code-migrant_type-STUDENT = Student migrant
def-migrant_type-STUDENT = A migrant with temporary permission to reside and study.
code-migrant_type-IRREGULAR = Irregular migrant
def-migrant_type-IRREGULAR = A person who, owing to unauthorized entry, breach of a condition of entry or stay, the expiry of his or her visa, lacks legal status in a transit or destination country.

## protection_status
code-protection_status-NONE = None
code-protection_status-ASYLUM_SEEKER = Asylum seeker
def-protection_status-ASYLUM_SEEKER = Someone who is seeking international protection, has registered with the relevant authorities, and awaits a final decision on their application for international protection, or who seeks it but has not yet registered.
code-protection_status-REFUGEE = Refugee
def-protection_status-REFUGEE = Someone whose status as a refugee and claim to international protection has been formally recognized and is accepted by the relevant authorities, or who likely meets the refugee convention criteria but has not sought recognition.
code-protection_status-COMPLEMENTARY_PROTECTION = Recipient of complementary protection
def-protection_status-COMPLEMENTARY_PROTECTION = Someone who has been granted formal permission, under national law or practice, to reside in a country because they need international protection, even though they do not meet the criteria for refugeehood in the 1951 Convention.
code-protection_status-STATELESS = Stateless person
def-protection_status-STATELESS = A person who is not considered as a national by any State under the operation of its law, or who is likely not to be but is not (yet) formally recognized as such.

## migration_context
code-migration_context-DEPORTEE = Deportee
def-migration_context-DEPORTEE = A person who has been forcibly returned by a government to their country of origin or a third country.
code-migration_context-RETURNEE = Returnee
def-migration_context-RETURNEE = A person who has recently returned to their country of origin voluntarily.
code-migration_context-SEPARATED_OR_UNACCOMPANIED_CHILD = Separated or unaccompanied child
def-migration_context-SEPARATED_OR_UNACCOMPANIED_CHILD = Separated children have been separated from both parents or from their previous legal or customary primary caregiver, but not necessarily from other relatives; unaccompanied children have been separated from both parents and other relatives and are not cared for by a responsible adult.
code-migration_context-IDP = Internally displaced person
def-migration_context-IDP = A person who has been forced or obliged to flee or to leave their home or place of habitual residence, in particular to avoid the effects of armed conflict, generalized violence, violations of human rights or disasters, and who has not crossed an international border.
code-migration_context-ENVIRONMENTAL_MIGRANT = Environmental migrant
def-migration_context-ENVIRONMENTAL_MIGRANT = Someone who, predominantly for reasons of sudden or progressive changes in the environment that adversely affect their lives or living conditions, is obliged or chooses to leave their habitual home, temporarily or permanently.
code-migration_context-VULNERABLE_MIGRANT = Vulnerable migrant
def-migration_context-VULNERABLE_MIGRANT = A migrant who, due to a mix of factors, is vulnerable to the point where they are not able to realise their human rights, or their human rights are substantially threatened, and they are unable to remedy their situation.
code-migration_context-STRANDED_MIGRANT = Stranded migrant
def-migration_context-STRANDED_MIGRANT = A person whose migration process has been interrupted, who is in a precarious living and/or legal situation, and who is unable to return to their country of origin or move on to another state.
code-migration_context-FORCED_MIGRANT = Forced migrant
def-migration_context-FORCED_MIGRANT = A person who cannot be registered as a refugee or asylum seeker but who has moved in a context in which an element of coercion exists, including threats to life, livelihood, and human rights deprivation.
code-migration_context-EX_COMBATANT = Ex-combatant
def-migration_context-EX_COMBATANT = A person who has been, but is no longer, a combatant. A combatant is a person who takes an active part in hostilities.

## act
code-act-RECRUITMENT = Recruitment
code-act-TRANSPORTATION = Transportation
code-act-TRANSFER = Transfer
code-act-HARBOURING = Harbouring
code-act-RECEIPT = Receipt
code-act-RETENTION = Retention

## means
code-means-THREAT_OR_USE_OF_FORCE = Threat or use of force
code-means-OTHER_COERCION = Other forms of coercion
code-means-ABDUCTION = Abduction
code-means-FRAUD = Fraud
code-means-DECEPTION = Deception
code-means-ABUSE_OF_POWER = Abuse of power
code-means-ABUSE_OF_VULNERABILITY = Abuse of a position of vulnerability
code-means-PAYMENTS_OR_BENEFITS = Giving or receiving of payments or benefits

## control_method
code-control_method-PHYSICAL_THREATS = Physical threats
def-control_method-PHYSICAL_THREATS = Indicates whether the individual experienced a situation in which his/her exploiter(s) explicitly or implicitly communicated an intent to inflict harm or loss on the individual or another.
code-control_method-THREATS_LAW_ENFORCEMENT = Threats of law enforcement
def-control_method-THREATS_LAW_ENFORCEMENT = Indicates whether the individual experienced a situation in which their exploiter(s) explicitly or implicitly communicated an intent to contact or involve law enforcement or other relevant authorities, such as immigration authorities, in order to negatively impact the individual or another.
code-control_method-THREATENS_CHILDREN_FAMILY = Threatens children/family
code-control_method-USES_CHILDREN = Uses children
def-control_method-USES_CHILDREN = Indicates whether the exploiter limited the individual's access to their children as a means of control whether through separation, isolation, manipulation of custody, or physical removal of child to stay with individuals or family connected to or controlled by the exploiter.
code-control_method-DEBT_BONDAGE = Debt bondage
def-control_method-DEBT_BONDAGE = Indicates whether the individual is forced to work to pay off a created or perceived debt. The individual is deceived to work for little or no pay, with no control over his/her debt.
code-control_method-TAKES_EARNINGS = Takes earnings
def-control_method-TAKES_EARNINGS = Indicates whether the individual has experienced a situation where the exploiters have taken his/her remuneration in order to control him/her.
code-control_method-FALSE_PROMISES = False promises
def-control_method-FALSE_PROMISES = Indicates whether the individual was defrauded or tricked into entering the exploitative situation by their exploiter(s) using deception and false pretenses.
code-control_method-PHYSICAL_ABUSE = Physical abuse
def-control_method-PHYSICAL_ABUSE = Indicates whether the individual experienced a situation in which their exploiter(s) acted to cause physical injury, pain, disability, death or trauma to the individual.
code-control_method-SEXUAL_ABUSE = Sexual abuse
def-control_method-SEXUAL_ABUSE = Indicates whether the individual experienced any kind of unwanted or non-consenting sexual contact from their exploiter(s) as a means by which to control the individual, rather than a purpose for which the individual was trafficked.
code-control_method-PSYCHOLOGICAL_ABUSE = Psychological abuse
def-control_method-PSYCHOLOGICAL_ABUSE = Indicates whether the individual experienced a situation in which their exploiter(s) used emotionally abusive, deceptive, or devious tactics to influence the individual.
code-control_method-RESTRICTS_FINANCIAL_ACCESS = Restricts financial access
def-control_method-RESTRICTS_FINANCIAL_ACCESS = Indicates whether the individual experienced a situation in which his/her exploiter(s) prohibited or restricted the individual's access to necessary daily living funds or their own personal finances.
code-control_method-RESTRICTS_MOVEMENT = Restricts movement
def-control_method-RESTRICTS_MOVEMENT = Indicates whether the exploiter(s) isolated, confined or limited the movement of the individual in any way physically or socially.
code-control_method-RESTRICTS_MEDICAL_CARE = Restricts medical care
def-control_method-RESTRICTS_MEDICAL_CARE = Indicates whether the exploiter(s) limited the individual’s access to medical or health services.
code-control_method-WITHHOLDS_NECESSITIES = Withholds necessities
def-control_method-WITHHOLDS_NECESSITIES = Indicates whether the individual experienced a situation in which their exploiter(s) denied, restricted, or threatened to deny/restrict basic living necessities such as food, shelter, water, hygiene, appropriate clothes, or necessary items for religious observance or gender expression.
code-control_method-PSYCHOACTIVE_SUBSTANCE = Psychoactive substance
def-control_method-PSYCHOACTIVE_SUBSTANCE = Indicates whether the exploiter(s) induced the individual into substance abuse, provided substances to make the individual compliant or in order to influence their behavior, or exploited an existing substance abuse issue.
code-control_method-EXCESSIVE_WORKING_HOURS = Excessive working hours
def-control_method-EXCESSIVE_WORKING_HOURS = Indicates whether the individual was required to work a significant number of hours in excess of what they were contracted or promised; could include over-time, late or atypical shifts, or overnight hours.
code-control_method-WITHHOLDS_DOCUMENTS = Withholds documents
def-control_method-WITHHOLDS_DOCUMENTS = Indicates whether the individual experienced a situation in which their exploiter(s) limited, restricted, or controlled the individual’s access to important documents, such as passport, immigration documents, work permit, identification card or other official documents.
code-control_method-OTHER = Other
def-control_method-OTHER = Indicates whether the exploiter used a tactic intended to create or maintain power and control over the individual that cannot reasonably fit in any of the previous categories.

## exploitation_type
code-exploitation_type-SEXUAL_EXPLOITATION = Sexual exploitation
code-exploitation_type-FORCED_LABOUR = Forced labour
code-exploitation_type-CHILD_LABOUR = Child labour
code-exploitation_type-FORCED_MARRIAGE = Forced marriage
code-exploitation_type-SERVITUDE = Servitude
code-exploitation_type-SLAVERY = Slavery
code-exploitation_type-FORCED_MILITARY_NON_STATE = Forced military (by non-state actors)
code-exploitation_type-ORGAN_REMOVAL = Organ removal
code-exploitation_type-FORCED_BEGGING = Forced begging
code-exploitation_type-FORCED_CRIMINALITY = Forced criminality
code-exploitation_type-FORCED_ADOPTION = Forced adoption
code-exploitation_type-SURROGACY = Surrogacy
code-exploitation_type-FORCED_PREGNANCY = Forced pregnancy
code-exploitation_type-SALE_OF_PERSONS = Sale of persons
code-exploitation_type-ILLICIT_BIOMEDICAL_EXPERIMENTATION = Illicit biomedical experimentation
code-exploitation_type-OTHER = Other

## sexual_exploitation_type
code-sexual_exploitation_type-PROSTITUTION = Prostitution
code-sexual_exploitation_type-PORNOGRAPHY = Pornography
code-sexual_exploitation_type-REMOTE_INTERACTIVE = Remote Interactive Services
code-sexual_exploitation_type-PRIVATE_SEXUAL_SERVICES = Private Sexual Services

## recruitment_method
code-recruitment_method-AT_A_PLACE_OF_BUSINESS = At a place of business
code-recruitment_method-AT_AN_EDUCATIONAL_INSTITUTION = At an educational institution
code-recruitment_method-AT_WORK = At work
code-recruitment_method-THROUGH_ONLINE_SOCIAL_NETWORKS = Through online social networks
code-recruitment_method-THROUGH_AN_ONLINE_ADVERTISEMENT = Through an online advertisement
code-recruitment_method-THROUGH_A_TELEVISION_ADVERT = Through a television advert
code-recruitment_method-THROUGH_A_NEWSPAPER_ADVERT = Through a newspaper advert
code-recruitment_method-THROUGH_FAMILY_OR_FAMILY_EVENTS = Through family or family events
code-recruitment_method-THROUGH_FRIENDS_OR_SOCIAL_EVENTS = Through friends or social events
code-recruitment_method-OTHER = Other
code-recruitment_method-UNKNOWN = Unknown

## recruitment_platform
code-recruitment_platform-FACEBOOK = Facebook
code-recruitment_platform-INSTAGRAM = Instagram
code-recruitment_platform-WHATSAPP = WhatsApp
code-recruitment_platform-TELEGRAM = Telegram
code-recruitment_platform-FACEBOOK_MESSENGER = Facebook Messenger
code-recruitment_platform-VIBER = Viber
code-recruitment_platform-SNAPCHAT = SnapChat
code-recruitment_platform-LINE = Line
code-recruitment_platform-FOUR_SALE = 4Sale
code-recruitment_platform-WECHAT = WeChat
code-recruitment_platform-QQ = QQ
code-recruitment_platform-QZONE = QZone
code-recruitment_platform-TIKTOK = TikTok
code-recruitment_platform-TWITTER = Twitter
code-recruitment_platform-OTHER = Other
code-recruitment_platform-UNKNOWN = Unknown

## recruiter_relation
code-recruiter_relation-INTIMATE_PARTNER = Intimate partner
code-recruiter_relation-FRIEND = Friend
code-recruiter_relation-FAMILY = Family member
code-recruiter_relation-OTHER_KNOWN = Other known person
code-recruiter_relation-STRANGER = Stranger
code-recruiter_relation-UNKNOWN = Unknown

## route_event
code-route_event-RECRUITMENT = Recruitment
code-route_event-TRANSIT = Transit
code-route_event-EXPLOITATION = Exploitation

## perpetrator_role
code-perpetrator_role-TRAVELLING_PARTNER = Travelling Partner
code-perpetrator_role-TRANSPORTER = Transporter
code-perpetrator_role-RECRUITER_OR_INTERMEDIARY = Recruiter Or Intermediary
code-perpetrator_role-BROKER_TRAVEL_AGENT = Broker Travel Agent
code-perpetrator_role-TRANSFERRED_INDIVIDUAL = Transferred Individual
code-perpetrator_role-HARBOURED_INDIVIDUAL = Harboured Individual
code-perpetrator_role-SOLD_INDIVIDUAL = Sold Individual
code-perpetrator_role-BOUGHT_INDIVIDUAL = Bought Individual
code-perpetrator_role-RECEIVED_INDIVIDUAL = Received Individual
code-perpetrator_role-CONTROLLED_INDIVIDUAL = Controlled Individual
code-perpetrator_role-SMUGGLER = Smuggler
code-perpetrator_role-ABUSER = Abuser
code-perpetrator_role-KIDNAPPER = Kidnapper
code-perpetrator_role-EXPLOITER = Exploiter
code-perpetrator_role-OTHER = Other

## perpetrator_sex
code-perpetrator_sex-FEMALE = Female
code-perpetrator_sex-MALE = Male
code-perpetrator_sex-UNKNOWN = Unknown

## service_type
code-service_type-SHELTER = Shelter
code-service_type-HEALTH = Health
code-service_type-PSYCHOLOGICAL = Psychological support
code-service_type-LEGAL = Legal
code-service_type-EDUCATION = Education
code-service_type-FINANCIAL = Financial
code-service_type-LIVELIHOOD = Livelihood
code-service_type-SOCIAL_CARE = Social Care
code-service_type-RETURN_REINTEGRATION = Return and reintegration
code-service_type-INTERPRETATION = Interpretation
code-service_type-DOCUMENTATION = Documentation
code-service_type-LABOUR_EXPLOITATION_REHABILITATION = Labour Exploitation Rehabilitation
code-service_type-RIGHTS_BASED_TRAINING = Rights-based Training
code-service_type-SEXUAL_EXPLOITATION_REHABILITATION = Sexual Exploitation Rehabilitation
code-service_type-OTHER = Other

## population (regional service directory)
code-population-MINORS = Children and adolescents
code-population-WOMEN = Women
code-population-MEN = Men
code-population-LGBTI = LGBTI people
code-population-INDIGENOUS = Indigenous peoples

## service_status
code-service_status-PLANNED = Planned
code-service_status-IN_PROGRESS = In progress
code-service_status-COMPLETED = Completed
code-service_status-DECLINED = Declined
code-service_status-NOT_AVAILABLE = Not available

## proceeding_stage
code-proceeding_stage-COMPLAINT = Complaint
code-proceeding_stage-INVESTIGATION = Investigation
code-proceeding_stage-PROSECUTION = Prosecution
code-proceeding_stage-TRIAL = Trial
code-proceeding_stage-VERDICT = Verdict
code-proceeding_stage-APPEAL = Appeal

## verdict
code-verdict-CONVICTION = Conviction
code-verdict-ACQUITTAL = Acquittal
code-verdict-DISMISSED = Dismissed
code-verdict-PENDING = Pending

## consent_scope
code-consent_scope-CASE_MANAGEMENT = Case management
code-consent_scope-REFERRAL = Referral
code-consent_scope-STATISTICAL_USE = Statistical use

## consent_given_by
code-consent_given_by-PERSON = The person
code-consent_given_by-GUARDIAN = Parent or guardian
code-consent_given_by-LEGAL_BASIS = Another legal basis

## referral_field_group
code-referral_field_group-IDENTITY = Identity
code-referral_field_group-CONTACT = Contact details
code-referral_field_group-DEMOGRAPHICS = Demographics
code-referral_field_group-TRAFFICKING_PROCESS = Trafficking process
code-referral_field_group-ASSISTANCE = Assistance
code-referral_field_group-LEGAL_PROCEEDINGS = Legal proceedings
code-referral_field_group-TIMELINE = Timeline

## closure_reason
code-closure_reason-GOALS_MET = Goals met
code-closure_reason-REFERRED = Referred
code-closure_reason-LOST_CONTACT = Lost contact
code-closure_reason-DECLINED_SERVICES = Declined services
code-closure_reason-DECEASED = Deceased
code-closure_reason-OTHER = Other

## referral_reason
code-referral_reason-ADDITIONAL_SERVICES_REQUIRED = Additional services required
code-referral_reason-MIGRATION_OR_CHANGE_OF_LOCATION = Migration or change of location
code-referral_reason-RETURN_ASSISTANCE = Return assistance
code-referral_reason-OTHER = Other reason

## referral_urgency
code-referral_urgency-ROUTINE = Routine
code-referral_urgency-PRIORITY = Priority
code-referral_urgency-EMERGENCY = Emergency

## decline_reason
code-decline_reason-NO_CAPACITY = No capacity available
code-decline_reason-OUTSIDE_MANDATE = Outside the organisation's mandate
code-decline_reason-PERSON_NOT_REACHED = The person could not be reached
code-decline_reason-PERSON_DECLINED = The person did not accept the referral
code-decline_reason-OTHER = Other reason

## referral_update
code-referral_update-ARRIVAL_CONFIRMED = Arrival confirmed
code-referral_update-SERVICES_STARTED = Services started
code-referral_update-CONTACT_LOST = Contact lost
code-referral_update-OTHER = Other update

## recall_reason
code-recall_reason-CONSENT_WITHDRAWN = Consent withdrawn
code-recall_reason-REVOKED_BY_SENDER = Withdrawn by the referring organisation

## ctdc_age_band
code-ctdc_age_band-0_8 = 0–8 years
code-ctdc_age_band-9_17 = 9–17 years
code-ctdc_age_band-18_20 = 18–20 years
code-ctdc_age_band-21_23 = 21–23 years
code-ctdc_age_band-24_26 = 24–26 years
code-ctdc_age_band-27_29 = 27–29 years
code-ctdc_age_band-30_38 = 30–38 years
code-ctdc_age_band-39_47 = 39–47 years
code-ctdc_age_band-48_PLUS = 48 years or older

## glotip_age_band
code-glotip_age_band-0_17 = Child (0–17 years)
code-glotip_age_band-18_PLUS = Adult (18 years or older)

## duration_band
code-duration_band-M0_12 = 0–12 months
code-duration_band-M13_24 = 13–24 months
code-duration_band-M25_PLUS = 25 months or more

## flow_reach
code-flow_reach-DOMESTIC = Domestic
code-flow_reach-SUBREGIONAL = Subregional
code-flow_reach-REGIONAL = Regional
code-flow_reach-TRANSREGIONAL = Transregional

## glotip_sex
code-glotip_sex-F = Female
code-glotip_sex-M = Male
code-glotip_sex-OTHER_UNKNOWN = Other or unknown

## glotip_form
code-glotip_form-SEXUAL = Sexual exploitation
code-glotip_form-FORCED_LABOUR = Forced labour
code-glotip_form-FORCED_CRIMINALITY = Forced criminality
code-glotip_form-MIXED = Mixed forms of exploitation
code-glotip_form-OTHER = Other forms of exploitation
