"""Deciding images: in the pipeline, by an external service's callback, per job, and by human review.

The providers themselves (the interface, Rekognition, the local model, the external service's
client) are in `webapp/providers/`; these services apply their answers through `verdicts`.
"""
