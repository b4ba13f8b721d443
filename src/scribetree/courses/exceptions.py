from __future__ import annotations

from scribetree.core.errors import Conflict, Forbidden, InvalidInput, NotFound, ScribetreeError


class CoursesError(ScribetreeError):
    pass


class CourseNotFound(NotFound):
    default_detail = "No such course, or you are not a member of it."


class AssignmentNotFound(NotFound):
    default_detail = "No such assignment, or it is not (yet) open to you."


class TemplateNotFound(NotFound):
    default_detail = "No such assignment template in your library."


class CourseMemberNotFound(NotFound):
    default_detail = "This person is not a member of the course."


class GroupNotFound(NotFound):
    default_detail = "No such group in this assignment."


class JoinCodeInvalid(NotFound):
    default_detail = (
        "No open course has this join code. Check the code with your instructor; codes can be changed or turned off."
    )


class CourseRoleRequired(Forbidden):
    default_detail = "Your role in this course does not allow this action."


class CourseCreatorRequired(Forbidden):
    default_detail = "Only educators and institution admins can create courses and assignment templates."


class JoinNotForStaff(Forbidden):
    default_detail = (
        "Joining by code enrolls students. Educators and admins are added to a course by one of its instructors."
    )


class CourseArchived(Conflict):
    default_detail = "This course is archived and read-only. Restore it first to change it."


class LastInstructor(Conflict):
    default_detail = (
        "This is the course's only instructor. Add another instructor first, so the course is never left without one."
    )


class AlreadyInCourse(Conflict):
    default_detail = "This person is already a member of the course."


class NotInstitutionMember(InvalidInput):
    default_detail = "This person is not an active member of your institution. Invite them to the institution first."


class InstructorNeedsEducator(InvalidInput):
    default_detail = "Only educators and institution admins of your institution can be course instructors."


class AssignmentInvalid(InvalidInput):
    pass


class AlreadyInGroup(Conflict):
    default_detail = "A student can be in only one group per assignment."


class CourseInvalid(InvalidInput):
    pass


class GroupNameTaken(Conflict):
    default_detail = "Another group of this assignment already has this name."


class TemplateAuthorRequired(Forbidden):
    default_detail = "Only the template's author or an institution admin can change or delete it."
