"""The public surface of ``toolrm_agent``, pinned: adding or dropping an export is a
deliberate change to this list, and every listed name resolves."""

from __future__ import annotations

import toolrm_agent

PUBLIC_API = [
    "BaseJudge",
    "BudgetExhaustedError",
    "CallVerdict",
    "CascadeJudge",
    "CheckpointError",
    "ConfigurationError",
    "ConfigurationTypeError",
    "CriticBudget",
    "CriticOptions",
    "Critique",
    "DecisionBands",
    "DiscriminativeJudge",
    "FrozenError",
    "GenerativeJudge",
    "Issue",
    "IssueCode",
    "Judge",
    "JudgeBackendError",
    "JudgeCapabilities",
    "JudgeContext",
    "JudgeError",
    "JudgeParseError",
    "LikelihoodJudge",
    "LocalChatModel",
    "ModelProvisioningError",
    "ParseFailure",
    "Preference",
    "Proposal",
    "Ranking",
    "SchemaJudge",
    "TokenUsage",
    "ToolCall",
    "ToolRMCritic",
    "ToolRMError",
    "ToolRMMiddleware",
    "ToolRMState",
    "ToolSpec",
    "ToolSpecError",
    "TrainedJudge",
    "TrainingError",
    "Turn",
    "add_critic",
    "build_agent_graph",
    "load_judge",
    "resolve_gguf",
    "resolve_model",
    "served_chat_model",
]


def test_all_is_exactly_the_pinned_list() -> None:
    assert sorted(toolrm_agent.__all__) == PUBLIC_API
    assert len(toolrm_agent.__all__) == len(set(toolrm_agent.__all__))


def test_every_exported_name_resolves() -> None:
    for name in PUBLIC_API:
        value = getattr(toolrm_agent, name)  # no tolerance: a missing module or name fails here
        assert value is not None, name
        assert value.__module__.startswith("toolrm_agent."), (name, value.__module__)
