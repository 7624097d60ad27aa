"""What every paged listing (photos, jobs, audit events) says about its pages."""


class Paged:
    """A mixin for a listing's page of `total` items shown `per_page` at a time."""

    total: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the listing has; one even when it is empty."""
        return max(1, -(-self.total // self.per_page))
