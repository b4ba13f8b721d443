"""Insight pages: the course dashboard, a student's profile for educators, and a student's own progress."""
