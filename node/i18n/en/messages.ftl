# Messages built by the server: field errors, page errors, notices.

msg-field-required = This field is required.
msg-field-too_long = The text is too long.
msg-field-invalid = The value is not valid.
msg-field-taken = A record with this value already exists.
msg-field-malformed = The value is not in the expected format.
msg-field-unknown_field = Unknown field.
msg-field-password_too_short = The password must have at least 12 characters.
msg-field-password_contains_username = The password must not contain the username.
msg-field-password_too_common = The password is too common or simple. Use a phrase of several words.
msg-field-wrong_password = The current password is not correct.
msg-field-password_unchanged = The new password must differ from the current one.
msg-field-password_mismatch = The passwords do not match.
msg-field-wrong_code = The code is not correct. Check your phone's clock and try the new code.
msg-field-org_code_format = The code must have 2 to 12 capital letters or digits, without spaces.
msg-field-username_format = The username must have 3 to 64 characters: lower-case letters, digits, dot, hyphen or underscore.
msg-field-org_inactive = The organisation is inactive.
msg-field-org_required_for_role = This role needs an organisation.
msg-field-org_not_for_role = This role is node-wide: it has no organisation.
msg-field-cannot_change_self = You cannot change your own account here; ask another administrator.
msg-field-days_out_of_range = Give a number of days between 1 and 365.
msg-field-already_revoked = The token was already revoked.
msg-field-email_format = Enter a valid e-mail address, without spaces, for example name@organisation.org.

msg-error-validation_failed = The data sent is not valid.
msg-error-unknown_field = The request contains an unknown field.
msg-error-unauthenticated = You must sign in.
msg-error-forbidden = You are not allowed to do this. The attempt was recorded.
msg-error-csrf_rejected = The form expired or did not come from this page. Reload the page and try again.
msg-error-not_found = The page or record does not exist.
msg-error-conflict = A record with these details already exists.
msg-error-rate_limited = Too many attempts. Wait a minute and try again.
msg-error-internal_error = An internal error occurred. No change was saved. If it happens again, tell the national administrators.

msg-login-failed = Wrong username or password, or the account is temporarily locked after several failed attempts.
msg-totp-failed = The code is not correct. Try the current code of your app, or a recovery code.

msg-notice-logged_out = You have signed out.
msg-notice-password_changed = Your password was changed. Your other sessions were closed.
msg-notice-org_created = Organisation created.
msg-notice-org_updated = Organisation updated.
msg-notice-user_created = User created. Hand over the temporary password in person.
msg-notice-user_updated = User updated.
msg-notice-password_reset = Password reset. Hand over the new temporary password in person.
msg-notice-token_revoked = Token revoked.
msg-notice-notice_email_saved = The e-mail address for notices was saved.
msg-notice-notice_email_removed = The e-mail address for notices was removed. You will get no more notices by e-mail.

# Case registry (cases/pages.rs and the checks of puente_common::case).
msg-field-end_before_start = The end date cannot be before the start date.
msg-field-in_future = The date cannot be in the future.
msg-field-implausible = The value is not plausible. Please check it.
msg-field-unknown_country = Choose a country from the list.
msg-field-unknown_language = Choose a language from the list.
msg-field-only_when_closed = A reason for closing only applies to a closed case.
msg-field-needs_sexual_exploitation = To record forms of sexual exploitation, also tick "sexual exploitation" among the types of exploitation.
msg-field-not_in_country = The subdivision is not in the country given.
msg-field-minor_needs_guardian = The person was a minor: the consent must be given by their mother, father or guardian.
msg-field-referral_fields_on_other_scope = Destination country, organisation and data to send only apply to a referral consent.
msg-field-only_for_verdict = An outcome only applies to a verdict or an appeal.
msg-field-case_management_consent_required = Consent to case management is missing.
msg-field-reason_too_short = Write a reason of at least 20 characters.
msg-field-not_permitted = Your role does not allow this.
msg-field-already_withdrawn = This consent was already withdrawn.
msg-field-unknown_code = Choose a value from the list.
msg-notice-draft_discarded = The registration draft was discarded.
msg-notice-case_registered = Case registered.
msg-notice-case_updated = Case updated.
msg-notice-person_updated = The person's details were updated.
msg-notice-note_added = Note added to the timeline.
msg-notice-consent_added = Consent recorded.
msg-notice-consent_withdrawn = Withdrawal of consent recorded.
msg-notice-service_saved = Service saved.
msg-notice-proceeding_saved = Stage of the legal proceedings saved.
msg-notice-case_closed = Case closed.
msg-notice-case_reassigned = Case reassigned.
