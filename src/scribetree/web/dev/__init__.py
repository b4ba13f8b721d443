"""Development-only pages (the local mailbox). Every route answers 404 outside development."""
