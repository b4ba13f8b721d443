"""Writing: students' documents, the append-only edit-event log, versions, writing sessions and submissions.

Owns the hottest write path (edit batches). May use ``courses`` (assignment access) and lower domains; never
imports a higher domain: analytics, integrity and alerts read the log or subscribe to its events.
"""
