"""The notifier's use cases: what it does on each event (`reactions`), the messages it renders,
defers and schedules (`messages`), and how one message is delivered exactly once (`delivery`)."""
