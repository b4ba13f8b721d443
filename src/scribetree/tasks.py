"""Imports every module that registers job actors, so a worker knows them all (top layer, like app)."""

import scribetree.alerts.interventions
import scribetree.alerts.tasks
import scribetree.analytics.tasks
import scribetree.core.mail
import scribetree.identity.tasks
import scribetree.integrity.similarity
import scribetree.integrity.tasks
import scribetree.writing.notifications  # noqa: F401
