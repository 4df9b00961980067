"""In-portal notifications: a content-free inbox, mail copies and the daily digest."""
