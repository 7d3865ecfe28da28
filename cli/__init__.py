"""The `streetwatch` command: demo, worker, api, replay."""
