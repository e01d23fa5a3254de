"""The payment channel: its interface, and the WeChat Pay v3 client (wechatpay/)."""
