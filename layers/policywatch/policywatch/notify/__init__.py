"""Stage 3, notification: fan a change out to the subscribers who watch its platform, within their tier."""
