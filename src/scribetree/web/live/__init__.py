"""The educator's live class view (docs/live.md): page, JSON refresh and WebSocket over ``core.pubsub``.
Adapters only: who may watch is the courses domain's rule; the numbers come from the writing service."""
