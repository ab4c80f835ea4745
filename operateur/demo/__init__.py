"""Demo data for `make run`: one operator, its staff, a dozen customers over the five offers."""
