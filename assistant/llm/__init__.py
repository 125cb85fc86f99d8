"""Local language models. Nothing here is imported by the web process except gguf_header."""
