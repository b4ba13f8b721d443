"""Pages of the process evidence report (a submission's report, an assignment's table)."""
