"""Alerts and interventions: rules over writing activity, delivery (in-app, live, email, digest), outcomes."""
