"""What every domain shares: HTTP helpers, per-member storage, live events, the Chroma client, processes."""
