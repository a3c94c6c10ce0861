"""Stage 4, the public web pages: the change pages and one-click unsubscribe."""
