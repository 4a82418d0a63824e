"""toolrm-agent: a tool-use reward model between an agent's model and its tools.

The public surface is re-exported here and loaded lazily, so ``import toolrm_agent``
is cheap and never imports torch, transformers or vLLM::

    from toolrm_agent import ToolRMCritic, SchemaJudge, GenerativeJudge
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolrm_agent._internal.lazy import lazy_exports as _lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # calls and specs
    "ToolCall": "toolrm_agent.calls",
    "ParseFailure": "toolrm_agent.calls",
    "Proposal": "toolrm_agent.calls",
    "ToolSpec": "toolrm_agent.specs",
    "JudgeContext": "toolrm_agent.context",
    "Turn": "toolrm_agent.context",
    # verdicts
    "Critique": "toolrm_agent.verdicts",
    "CallVerdict": "toolrm_agent.verdicts",
    "Issue": "toolrm_agent.verdicts",
    "IssueCode": "toolrm_agent.verdicts",
    "Preference": "toolrm_agent.verdicts",
    "Ranking": "toolrm_agent.verdicts",
    "TokenUsage": "toolrm_agent.verdicts",
    # judges
    "Judge": "toolrm_agent.judges.base",
    "BaseJudge": "toolrm_agent.judges.base",
    "JudgeCapabilities": "toolrm_agent.judges.base",
    "SchemaJudge": "toolrm_agent.judges.schema",
    "GenerativeJudge": "toolrm_agent.judges.generative",
    "CascadeJudge": "toolrm_agent.judges.cascade",
    "DiscriminativeJudge": "toolrm_agent.judges.discriminative",
    "TrainedCritic": "toolrm_agent.judges.trained",
    "LikelihoodJudge": "toolrm_agent.judges.likelihood",
    "load_judge": "toolrm_agent.judges.loader",
    # the critic
    "ToolRMCritic": "toolrm_agent.critic",
    "ToolRMState": "toolrm_agent.critic",
    "add_critic": "toolrm_agent.critic",
    "build_agent_graph": "toolrm_agent.critic",
    "CriticBudget": "toolrm_agent.critic",
    "CriticOptions": "toolrm_agent.critic",
    "DecisionBands": "toolrm_agent.critic",
    "ToolRMMiddleware": "toolrm_agent.middleware",
    # models
    "resolve_model": "toolrm_agent.models",
    "resolve_gguf": "toolrm_agent.models",
    "LocalChatModel": "toolrm_agent.models",
    "served_chat_model": "toolrm_agent.models.policy",
    # errors
    "ToolRMError": "toolrm_agent.errors",
    "ToolSpecError": "toolrm_agent.errors",
    "JudgeError": "toolrm_agent.errors",
    "JudgeBackendError": "toolrm_agent.errors",
    "JudgeParseError": "toolrm_agent.errors",
    "BudgetExhaustedError": "toolrm_agent.errors",
    "ModelProvisioningError": "toolrm_agent.errors",
    "CheckpointError": "toolrm_agent.errors",
    "ConfigurationError": "toolrm_agent.errors",
    "ConfigurationTypeError": "toolrm_agent.errors",
    "FrozenError": "toolrm_agent.errors",
    "TrainingError": "toolrm_agent.errors",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = _lazy_exports(globals(), _EXPORTS)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    # `X as X` marks each name re-exported for mypy --strict (no implicit re-export), since
    # it cannot read `__all__ = sorted(_EXPORTS)`
    from toolrm_agent.calls import ParseFailure as ParseFailure
    from toolrm_agent.calls import Proposal as Proposal
    from toolrm_agent.calls import ToolCall as ToolCall
    from toolrm_agent.context import JudgeContext as JudgeContext
    from toolrm_agent.context import Turn as Turn
    from toolrm_agent.critic import CriticBudget as CriticBudget
    from toolrm_agent.critic import CriticOptions as CriticOptions
    from toolrm_agent.critic import DecisionBands as DecisionBands
    from toolrm_agent.critic import ToolRMCritic as ToolRMCritic
    from toolrm_agent.critic import ToolRMState as ToolRMState
    from toolrm_agent.critic import add_critic as add_critic
    from toolrm_agent.critic import build_agent_graph as build_agent_graph
    from toolrm_agent.errors import BudgetExhaustedError as BudgetExhaustedError
    from toolrm_agent.errors import CheckpointError as CheckpointError
    from toolrm_agent.errors import ConfigurationError as ConfigurationError
    from toolrm_agent.errors import ConfigurationTypeError as ConfigurationTypeError
    from toolrm_agent.errors import FrozenError as FrozenError
    from toolrm_agent.errors import JudgeBackendError as JudgeBackendError
    from toolrm_agent.errors import JudgeError as JudgeError
    from toolrm_agent.errors import JudgeParseError as JudgeParseError
    from toolrm_agent.errors import ModelProvisioningError as ModelProvisioningError
    from toolrm_agent.errors import ToolRMError as ToolRMError
    from toolrm_agent.errors import ToolSpecError as ToolSpecError
    from toolrm_agent.errors import TrainingError as TrainingError
    from toolrm_agent.judges.base import BaseJudge as BaseJudge
    from toolrm_agent.judges.base import Judge as Judge
    from toolrm_agent.judges.base import JudgeCapabilities as JudgeCapabilities
    from toolrm_agent.judges.cascade import CascadeJudge as CascadeJudge
    from toolrm_agent.judges.discriminative import DiscriminativeJudge as DiscriminativeJudge
    from toolrm_agent.judges.generative import GenerativeJudge as GenerativeJudge
    from toolrm_agent.judges.likelihood import LikelihoodJudge as LikelihoodJudge
    from toolrm_agent.judges.loader import load_judge as load_judge
    from toolrm_agent.judges.schema import SchemaJudge as SchemaJudge
    from toolrm_agent.judges.trained import TrainedCritic as TrainedCritic
    from toolrm_agent.middleware import ToolRMMiddleware as ToolRMMiddleware
    from toolrm_agent.models import LocalChatModel as LocalChatModel
    from toolrm_agent.models import resolve_gguf as resolve_gguf
    from toolrm_agent.models import resolve_model as resolve_model
    from toolrm_agent.models.policy import served_chat_model as served_chat_model
    from toolrm_agent.specs import ToolSpec as ToolSpec
    from toolrm_agent.verdicts import CallVerdict as CallVerdict
    from toolrm_agent.verdicts import Critique as Critique
    from toolrm_agent.verdicts import Issue as Issue
    from toolrm_agent.verdicts import IssueCode as IssueCode
    from toolrm_agent.verdicts import Preference as Preference
    from toolrm_agent.verdicts import Ranking as Ranking
    from toolrm_agent.verdicts import TokenUsage as TokenUsage
