"""When to capture: the daemon (`weidang run`), schedules and run history."""
