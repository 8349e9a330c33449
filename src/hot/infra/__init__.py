"""Infrastructure: settings, PostgreSQL and Redis wiring, embedded servers."""
