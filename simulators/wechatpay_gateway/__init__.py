"""A local WeChat Pay v3 gateway: the real signing scheme over the payment simulator's state.

It speaks WeChat Pay's wire format, so it signs, encrypts and writes bills with the same code
as our client does (adapters/payments/wechatpay/crypto.py and bill.py): that format is the
provider's published interface, not our client's internals.
"""
