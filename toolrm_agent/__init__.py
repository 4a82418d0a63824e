"""toolrm-agent: a tool-use reward model between an agent's model and its tools.

The public surface is re-exported here and loaded lazily, so ``import toolrm_agent``
is cheap and never imports torch, transformers or vLLM::

    from toolrm_agent import ToolRMCritic, SchemaJudge, GenerativeJudge
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolrm_agent.core._lazy import lazy_exports as _lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # calls and specs
    "ToolCall": "toolrm_agent.core.calls",
    "ParseFailure": "toolrm_agent.core.calls",
    "Proposal": "toolrm_agent.core.calls",
    "ToolSpec": "toolrm_agent.core.specs",
    "JudgeContext": "toolrm_agent.core.context",
    "Turn": "toolrm_agent.core.context",
    # verdicts
    "Critique": "toolrm_agent.core.verdicts",
    "CallVerdict": "toolrm_agent.core.verdicts",
    "Issue": "toolrm_agent.core.verdicts",
    "IssueCode": "toolrm_agent.core.verdicts",
    "Preference": "toolrm_agent.core.verdicts",
    "Ranking": "toolrm_agent.core.verdicts",
    "TokenUsage": "toolrm_agent.core.verdicts",
    # judges
    "Judge": "toolrm_agent.judges.base",
    "BaseJudge": "toolrm_agent.judges.base",
    "JudgeCapabilities": "toolrm_agent.judges.base",
    "SchemaJudge": "toolrm_agent.judges.schema",
    "GenerativeJudge": "toolrm_agent.judges.generative.generative",
    "CascadeJudge": "toolrm_agent.judges.cascade",
    "DiscriminativeJudge": "toolrm_agent.judges.trained.discriminative",
    "TrainedJudge": "toolrm_agent.judges.trained.trained",
    "LikelihoodJudge": "toolrm_agent.judges.likelihood",
    "load_judge": "toolrm_agent.judges.loader",
    # the critic
    "ToolRMCritic": "toolrm_agent.critic.node",
    "ToolRMState": "toolrm_agent.critic.node",
    "add_critic": "toolrm_agent.critic.node",
    "build_agent_graph": "toolrm_agent.critic.node",
    "CriticBudget": "toolrm_agent.critic.node",
    "CriticOptions": "toolrm_agent.critic.node",
    "DecisionBands": "toolrm_agent.critic.node",
    "ToolRMMiddleware": "toolrm_agent.critic.middleware",
    # models
    "resolve_model": "toolrm_agent.models",
    "resolve_gguf": "toolrm_agent.models",
    "LocalChatModel": "toolrm_agent.models",
    "served_chat_model": "toolrm_agent.models.policy",
    # errors
    "ToolRMError": "toolrm_agent.core.errors",
    "ToolSpecError": "toolrm_agent.core.errors",
    "JudgeError": "toolrm_agent.core.errors",
    "JudgeBackendError": "toolrm_agent.core.errors",
    "JudgeParseError": "toolrm_agent.core.errors",
    "BudgetExhaustedError": "toolrm_agent.core.errors",
    "ModelProvisioningError": "toolrm_agent.core.errors",
    "CheckpointError": "toolrm_agent.core.errors",
    "ConfigurationError": "toolrm_agent.core.errors",
    "ConfigurationTypeError": "toolrm_agent.core.errors",
    "FrozenError": "toolrm_agent.core.errors",
    "TrainingError": "toolrm_agent.core.errors",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = _lazy_exports(globals(), _EXPORTS)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    # `X as X` marks each name re-exported for mypy --strict (no implicit re-export), since
    # it cannot read `__all__ = sorted(_EXPORTS)`
    from toolrm_agent.core.calls import ParseFailure as ParseFailure
    from toolrm_agent.core.calls import Proposal as Proposal
    from toolrm_agent.core.calls import ToolCall as ToolCall
    from toolrm_agent.core.context import JudgeContext as JudgeContext
    from toolrm_agent.core.context import Turn as Turn
    from toolrm_agent.core.errors import BudgetExhaustedError as BudgetExhaustedError
    from toolrm_agent.core.errors import CheckpointError as CheckpointError
    from toolrm_agent.core.errors import ConfigurationError as ConfigurationError
    from toolrm_agent.core.errors import ConfigurationTypeError as ConfigurationTypeError
    from toolrm_agent.core.errors import FrozenError as FrozenError
    from toolrm_agent.core.errors import JudgeBackendError as JudgeBackendError
    from toolrm_agent.core.errors import JudgeError as JudgeError
    from toolrm_agent.core.errors import JudgeParseError as JudgeParseError
    from toolrm_agent.core.errors import ModelProvisioningError as ModelProvisioningError
    from toolrm_agent.core.errors import ToolRMError as ToolRMError
    from toolrm_agent.core.errors import ToolSpecError as ToolSpecError
    from toolrm_agent.core.errors import TrainingError as TrainingError
    from toolrm_agent.core.specs import ToolSpec as ToolSpec
    from toolrm_agent.core.verdicts import CallVerdict as CallVerdict
    from toolrm_agent.core.verdicts import Critique as Critique
    from toolrm_agent.core.verdicts import Issue as Issue
    from toolrm_agent.core.verdicts import IssueCode as IssueCode
    from toolrm_agent.core.verdicts import Preference as Preference
    from toolrm_agent.core.verdicts import Ranking as Ranking
    from toolrm_agent.core.verdicts import TokenUsage as TokenUsage
    from toolrm_agent.critic.middleware import ToolRMMiddleware as ToolRMMiddleware
    from toolrm_agent.critic.node import CriticBudget as CriticBudget
    from toolrm_agent.critic.node import CriticOptions as CriticOptions
    from toolrm_agent.critic.node import DecisionBands as DecisionBands
    from toolrm_agent.critic.node import ToolRMCritic as ToolRMCritic
    from toolrm_agent.critic.node import ToolRMState as ToolRMState
    from toolrm_agent.critic.node import add_critic as add_critic
    from toolrm_agent.critic.node import build_agent_graph as build_agent_graph
    from toolrm_agent.judges.base import BaseJudge as BaseJudge
    from toolrm_agent.judges.base import Judge as Judge
    from toolrm_agent.judges.base import JudgeCapabilities as JudgeCapabilities
    from toolrm_agent.judges.cascade import CascadeJudge as CascadeJudge
    from toolrm_agent.judges.generative.generative import GenerativeJudge as GenerativeJudge
    from toolrm_agent.judges.likelihood import LikelihoodJudge as LikelihoodJudge
    from toolrm_agent.judges.loader import load_judge as load_judge
    from toolrm_agent.judges.schema import SchemaJudge as SchemaJudge
    from toolrm_agent.judges.trained.discriminative import DiscriminativeJudge as DiscriminativeJudge
    from toolrm_agent.judges.trained.trained import TrainedJudge as TrainedJudge
    from toolrm_agent.models import LocalChatModel as LocalChatModel
    from toolrm_agent.models import resolve_gguf as resolve_gguf
    from toolrm_agent.models import resolve_model as resolve_model
    from toolrm_agent.models.policy import served_chat_model as served_chat_model
