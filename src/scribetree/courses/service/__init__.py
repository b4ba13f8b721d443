"""Business rules of the courses domain. Higher domains use only what this package exports.

``assignment_access`` and ``staff_course_ids`` are the contract the writing domain relies on.
"""

from scribetree.courses.access import AssignmentAccess, CourseAccess
from scribetree.courses.service._access import assignment_access, course_access, staff_course_ids
from scribetree.courses.service._assignments import AssignmentService, assignment
from scribetree.courses.service._courses import CourseService, course
from scribetree.courses.service._templates import TemplateService, template

__all__ = [
    "AssignmentAccess",
    "AssignmentService",
    "CourseAccess",
    "CourseService",
    "TemplateService",
    "assignment",
    "assignment_access",
    "course",
    "course_access",
    "staff_course_ids",
    "template",
]
