# Puente — web interface strings (English).
# Plain variables only; no functions or selectors.

## General structure

skip-to-content = Skip to main content
title-error-prefix = Error:
nav-label = Main menu
nav-home = Home
nav-orgs = Organisations
nav-users = Users
nav-roles = Roles
nav-tokens = API tokens
nav-audit = Audit
nav-account = My account
logout = Sign out
language-label = Language:
language-es = Español
language-en = English
footer-note = Puente: secure coordination for assisting victims of human trafficking.
form-has-errors = Please check the highlighted fields and try again.

## Buttons and common words

save = Save changes
cancel = Cancel
continue = Continue
yes = Yes
no = No
never = Never
allowed = Allowed
not-allowed = Not allowed

## Fields

field-username = Username
field-password = Password
field-display-name = Full name
field-role = Role
field-org = Organisation
field-current-password = Current password
field-new-password = New password
field-confirm-password = Confirm new password
field-totp-code = Verification code
field-org-code = Code
field-org-name = Name
field-org-type = Organisation type
field-org-active = Organisation is active
field-token-name = Token name
field-expires-days = Valid for (days)

## Columns and states

col-status = Status
col-users = Users
col-created = Created
col-last-login = Last sign-in
col-totp = Two-step verification
col-prefix = Prefix
col-owner = Owner
col-expires = Expires
col-last-used = Last used
col-actions = Actions
col-action = Action
status-active = Active
status-inactive = Inactive
status-disabled = Disabled
status-locked = Locked
status-revoked = Revoked
status-expired = Expired
org-none = No organisation

## Roles

role-node_admin = National administrator
role-org_admin = Organisation coordinator
role-caseworker = Caseworker
role-analyst = Analyst
role-auditor = Auditor

## Organisation types

org-type-NGO = NGO
org-type-LAW_ENFORCEMENT = Law enforcement / police
org-type-HEALTH_SERVICE = Health service
org-type-CENTRAL_GOVERNMENT = Central government
org-type-LOCAL_GOVERNMENT = Local government
org-type-IMMIGRATION_SERVICE = Immigration service
org-type-LEGAL_SERVICE = Legal service
org-type-CORPORATE_BUSINESS = Business
org-type-SCHOOL_OR_COLLEGE = School or college
org-type-INTERNATIONAL_ORG = International organisation

## Actions (roles page)

action-view_home = View the home page
action-manage_own_account = Manage own account
action-manage_own_tokens = Manage own API tokens
action-view_orgs = View organisations
action-manage_orgs = Create and edit organisations
action-view_users = View users
action-manage_users = Create and edit users
action-assign_node_roles = Assign national administrator roles
action-revoke_any_token = Revoke any API token
action-view_audit = View the audit log
action-view_roles = View roles and permissions
action-view_cases = View their organisation's cases
action-edit_cases = Register and update cases
action-reassign_cases = Reassign cases within the organisation
action-override_consent = Register without consent, with a written reason
action-export_cases = Export cases
action-import_cases = Import cases
action-view_case_index = View the node's case index, without identity
action-break_glass = Open a case's identity with a written reason (emergency access)

## Audit outcomes

outcome-success = Success
outcome-failure = Failure
outcome-denied = Denied

## Sign-in

login-title = Sign in
login-intro = Enter the username and password given to you by your organisation.
login-submit = Sign in
login-help = If you have forgotten your password or your account is locked, contact your organisation coordinator.
totp-title = Two-step verification
totp-intro = Open the authenticator app on your phone and enter the 6-digit code it shows.
totp-code-hint = 6-digit code or, if you do not have your phone, one of your recovery codes.
totp-submit = Verify
totp-cancel = Cancel and sign in again

## Home page

home-title = Welcome
home-greeting = Hello, { $name }.
home-role = Role: { $role }.
home-role-org = Role: { $role }, at { $org }.
home-shortcuts = Shortcuts
home-cases-desc = Register cases, find a person, follow assistance and legal proceedings.
home-orgs-desc = Organisations registered in the country and their status.
home-users-desc = User accounts, roles and access.
home-roles-desc = What each role can do.
home-tokens-desc = Keys for connecting other systems through the API.
home-audit-desc = Record of every action taken in the system.
home-account-desc = Password and two-step verification.

## My account

account-title = My account
account-password-heading = Password
account-password-desc = Change your password regularly, and whenever you suspect someone else may know it.
account-password-link = Change password
account-totp-heading = Two-step verification
account-totp-on = On
account-totp-off = Off
account-totp-desc = Protects your account with a code from your phone as well as your password. Recommended.
account-totp-enrol-link = Turn on two-step verification
account-totp-reenrol-link = Set up a different phone
account-recovery-left = Recovery codes left: { $count }
account-recovery-low = You have few recovery codes left. Set up two-step verification again to get new codes.
account-notice-email-heading = E-mail address for notices
account-notice-email-desc = If you give an address, Puente sends you an e-mail when you get a new notice. The e-mail only says what kind of notice it is and links to your notices: never names, case numbers or other data about people.
account-notice-email-current = Notices are sent to:
account-notice-email-none = You get no notices by e-mail.
account-notice-email-hint = Use a work address. To stop getting notices by e-mail, remove it.
account-notice-email-save = Save address
account-notice-email-remove = Remove address
account-notice-email-off = E-mail notices are not configured on this node. Your notices are on the "Notices" page.
field-notice-email = E-mail address for notices
mail-notice-subject = Puente: you have a new notice

## Password change

password-title = Change password
password-forced = Before you continue, you must replace your temporary password with your own.
password-rules = Use a long phrase that is easy for you to remember and that you do not use anywhere else.
password-submit = Change password

## Two-step verification setup

enrol-title = Turn on two-step verification
enrol-required = Your role requires two-step verification. Turn it on to continue.
enrol-replaces = A phone is already set up. Once you complete these steps, the old one will stop working.
enrol-step-app = Install an authenticator app
enrol-step-app-desc = For example Aegis, FreeOTP, Google Authenticator or Microsoft Authenticator.
enrol-step-scan = Scan the QR code
enrol-qr-alt = QR code for the authenticator app
enrol-secret-label = If you cannot scan it, enter this key manually:
enrol-step-confirm = Enter the code the app shows
enrol-code-hint = 6-digit code. It changes every 30 seconds.
enrol-submit = Turn on

## Recovery codes

recovery-title = Recovery codes
recovery-once = These codes are shown only once. Store them somewhere safe now.
recovery-desc = Each code can be used once to sign in if you lose your phone. Write them on paper or keep them in a password manager; do not share them.

## Organisations

orgs-title = Organisations
orgs-list-heading = Registered organisations
orgs-empty = No organisations registered yet.
orgs-create-heading = Register an organisation
orgs-create-submit = Create organisation
org-code-hint = A short, unique identifier for the organisation, without spaces.
org-title = Organisation
org-edit-heading = Edit details
org-active-hint = Untick the box to deactivate the organisation.
back-to-orgs = Back to organisations

## Users

users-title = Users
users-list-heading = User accounts
users-empty = No users yet.
users-create-heading = Create a user
users-create-desc = A temporary password will be generated, which the person must change the first time they sign in.
users-create-submit = Create user
username-hint = The name the person will sign in with. Avoid accents and spaces.
user-title = User
back-to-users = Back to users
user-must-change = Must change password
user-temp-password-heading = Temporary password
user-temp-password-hint = Shown only once. Hand it to the person directly or through a secure channel, never by email or in a group chat. They must change it when they sign in.
user-role-heading = Role and organisation
user-role-submit = Save role and organisation
user-security-heading = Account security
user-reset-password = Reset password
user-reset-password-desc = Generates a new temporary password; the current one stops working.
user-reset-totp = Reset two-step verification
user-reset-totp-desc = Removes the configured phone, for example if it was lost or stolen. The person will have to set it up again.
user-disable = Disable account
user-disable-desc = Stops the person from signing in. The account can be enabled again.
user-enable = Enable account
user-enable-desc = This account is disabled. Enabling it lets the person sign in again.
user-tokens-heading = This user's API tokens

## Roles and permissions

roles-title = Roles and permissions
roles-intro = Actions each role may perform on this node.
roles-caption = Permissions by role

## API tokens

tokens-title = API tokens
tokens-intro = Tokens let other systems connect to Puente on behalf of an account. Treat them like passwords.
tokens-new-heading = New token
tokens-new-once = Copy this token now: it will not be shown again.
tokens-list-heading = Existing tokens
tokens-empty = No API tokens.
tokens-revoke = Revoke
tokens-revoke-named = Revoke token { $name }
tokens-revoked-at = Revoked on { $date }
tokens-create-heading = Create a token
tokens-name-hint = What system or use it is for, for example: Monthly report.
tokens-expires-hint = Between 1 and 365 days.
tokens-create-submit = Create token

## Audit

audit-title = Audit log
audit-intro = Actions taken on this node. The log is protected against tampering by signed checkpoints.
audit-checkpoint = Latest signed checkpoint: entry { $seq }, { $at } (key { $key }).
audit-no-checkpoint = No signed checkpoints yet.
audit-filter-heading = Filter
audit-filter-actor = User
audit-filter-action = Action
audit-filter-outcome = Outcome
audit-filter-from = From
audit-filter-to = To
audit-filter-submit = Apply filters
audit-filter-clear = Clear filters
audit-any = Any
audit-entries-heading = Entries
audit-empty = No entries match the filters.
audit-col-seq = No.
audit-col-at = Date and time
audit-col-actor = User
audit-col-org = Organisation
audit-col-action = Action
audit-col-target = Target
audit-col-outcome = Outcome
audit-col-ip = IP address
pager-label = Pagination
pager-prev = Previous page
pager-next = Next page
pager-page = Page { $page }

## Errors

error-title = Error { $status }
error-home = Back to home
