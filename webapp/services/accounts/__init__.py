"""Accounts: users, passwords, sessions and API tokens, the first admin, admins' access, own settings."""
