"""Courses: courses and their sections/terms, enrollments (course roles), assignment templates, assignments
with stages, rubrics, objectives and groups.

Answers *who may see or change which course or assignment* (``service.assignment_access``) for the
domains above it (writing, ai_partner, ...). It must not import those domains.
"""
