"""Photos: accepting an upload, the worker's pipeline, reading and listing them, deleting them."""
