"""The 公众号's message API (模板消息): how payers hear from us inside WeChat."""
