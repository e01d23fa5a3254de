"""WeChat Pay v3: the client, callback verification, signing and encryption, the trade bill."""
