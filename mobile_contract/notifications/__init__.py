"""Push notifications for the app: device tokens, the per-user notifications feed, and the
sender that delivers stored notifications (app/notifications.py) to devices."""
