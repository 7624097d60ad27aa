"""Domain logic: the views and the workers call these with plain values, never a request."""
