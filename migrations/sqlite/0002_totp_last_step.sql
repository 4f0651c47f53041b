-- The time step of the last accepted TOTP code, so that a code cannot be used twice.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
