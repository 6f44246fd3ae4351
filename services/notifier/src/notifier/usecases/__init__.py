"""The notifier's use cases: what it does on each event (`reactions`), the messages it renders,
defers and schedules (`messages`), how one message is delivered exactly once (`delivery`), and a
citizen's contact data erased on request (`erasure`)."""
