"""Which of llama-cpp-python's multimodal chat handlers fits a model and its projector."""

from __future__ import annotations

from typing import Any

# Projector types that llama.cpp's converter writes, mapped to the handler whose prompt format
# the family was trained on. LLaVA-style "mlp" projectors are told apart by the language model.
_BY_PROJECTOR = {
    "resampler": "MiniCPMv26ChatHandler",
    "qwen2.5vl_merger": "Qwen25VLChatHandler",
    "qwen2vl_merger": "Qwen25VLChatHandler",
    "gemma4v": "Gemma4ChatHandler",
}
_MLP_BY_ARCHITECTURE = {
    "phi2": "MoondreamChatHandler",
    "qwen2": "NanoLlavaChatHandler",
}
_LLAVA_PROJECTORS = {"mlp", "mlp_downsample", "ldp", "ldpv2"}


def vision_handler_name(*, projector_type: str, architecture: str, model_name: str, grid_pinpoints: bool) -> str:
    if projector_type in _BY_PROJECTOR:
        return _BY_PROJECTOR[projector_type]
    if projector_type in _LLAVA_PROJECTORS:
        if architecture in _MLP_BY_ARCHITECTURE:
            return _MLP_BY_ARCHITECTURE[architecture]
        if "llama-3" in model_name.lower() or "llama3" in model_name.lower():
            return "Llama3VisionAlphaChatHandler"
        return "Llava16ChatHandler" if grid_pinpoints else "Llava15ChatHandler"
    # Newer families (Gemma 3, Pixtral, SmolVLM, InternVL…) go through libmtmd's generic handler.
    return "MTMDChatHandler"


def vision_handler_create(*, name: str, projector_path: str) -> Any:
    from llama_cpp import llama_chat_format

    handler_class = getattr(llama_chat_format, name)
    return handler_class(clip_model_path=projector_path, verbose=False)
