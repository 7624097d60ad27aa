"""Bulk jobs: their creation, uploads refused, counters, how they move on, and the job.completed webhook."""
