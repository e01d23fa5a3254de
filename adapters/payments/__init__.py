"""The payment channel (WeChat Pay v3): interface, simulator and, later, the real client."""
