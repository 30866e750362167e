"""Reading the call log: a call's timeline of events and commands."""
