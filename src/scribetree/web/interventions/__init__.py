"""Intervention pages: acting on an alert or a student, and a course's interventions with their effectiveness."""
