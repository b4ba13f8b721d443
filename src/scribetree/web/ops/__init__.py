"""Platform staff pages: institutions and the job queue (operators), entering a tenant (support)."""
