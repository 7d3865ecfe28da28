"""The case API: consumes events from Redis into cases, serves them and their evidence."""
