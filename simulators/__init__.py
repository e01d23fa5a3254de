"""Stand-ins for the payment channel, posting, treasury and the cashier: dev and tests only."""
