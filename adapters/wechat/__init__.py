"""The WeChat 公众号 platform (not its payments): 网页授权 (OAuth2) today."""
