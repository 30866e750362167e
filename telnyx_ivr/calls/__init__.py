"""A call's database and network side: the runner that applies its events and sends its
commands, its call log (timeline, lanes, retention) and host actions on a live call."""
