"""Local language models: the models folder, imports, pairing, the Models page, and the chat engine.

The engine (engine.py, vision.py, llama_adapter.py) runs in the llm worker only; llama_cpp is imported on first use.
"""
