"""Stand-ins for WeChat itself (not its payments): 网页授权 and its browser's WeixinJSBridge."""
