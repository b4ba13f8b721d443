"""The student's writing workspace: the editor page, version history with diff and restore, submitting."""
