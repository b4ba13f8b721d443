"""Course pages (educators: courses, roster, join codes, assignment form; students: join by code, course home)."""
