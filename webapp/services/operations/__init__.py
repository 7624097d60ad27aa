"""Keeping the service running: readiness probes, the reconciler, and the admin's view of the queues."""
