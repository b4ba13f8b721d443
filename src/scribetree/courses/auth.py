"""Route aliases for the courses API (STYLE N5).

Routes only require a signed-in member of an institution (reading) or one whose credential may change things
(writing). Who may do what *in a course* is a domain rule, decided in ``access.py`` from the caller's course
role; see docs/api.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from scribetree.tenancy.auth import Authorize
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.permissions import Permission

CoursesRead = Annotated[AuthContext, Depends(Authorize(Permission.profile_read))]
CoursesWrite = Annotated[AuthContext, Depends(Authorize(Permission.profile_write))]
