"""The Model Context Protocol adapter: Scribe Tree's services as MCP tools, resources and prompts."""
