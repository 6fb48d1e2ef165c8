"""Application services (use cases): the only writers of events and of personal data."""
