"""SMS transports. A backend's `send(message)` returns the provider's message id, or
raises mediation.sms.SmsNotSent."""
