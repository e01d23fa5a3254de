"""The simulated WeChat cashier page and what it needs from a payment simulator."""
