"""One router module per business area; ``app.create_app`` includes them all."""
