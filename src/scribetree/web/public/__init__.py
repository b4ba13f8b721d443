"""The landing page, institution lookup and each institution's generated brand stylesheet."""
