"""The replay page: a document's writing played back (``static/js/replay.js`` over the replay API)."""
