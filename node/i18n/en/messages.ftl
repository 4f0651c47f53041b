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
