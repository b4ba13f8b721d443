"""The bounded AI partner: educator settings, reflections and their scoring, access levels, the Socratic
engine (``engine/``), providers, the validator and the log of every exchange.

It may import writing, courses, tenancy, identity and core; nothing imports it except the adapters
(web, api, app). It never writes the student's text and never lets a request choose its own level.
"""
