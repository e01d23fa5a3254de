"""The social-insurance agency's posting (记账) system: interface and simulator."""
