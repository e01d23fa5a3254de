"""A local WeChat Pay v3 gateway: the real signing scheme over the payment simulator's state."""
