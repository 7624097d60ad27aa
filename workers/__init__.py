"""RQ job functions (thin: they take ids and call services) and the worker entry point."""
