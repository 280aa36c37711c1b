"""The shared web floor: login, page frame, messages, timelines and forms used by the portal and the back office."""
