"""Chat: conversations, the websocket, prompt planning, answer writing and stopping, retrieval."""
