"""Discriminative (Bradley-Terry) critics: ``toolrm train disc``.

Two trainers, one config dataclass each:

* :mod:`train.disc.cached` (:class:`~train.disc.config.CachedCriticConfig`) — the
  CPU-practical critic: the inputs of :class:`~toolrm_agent.judges.trained.trained.CriticReader`
  (call features, relevance, a frozen LM's log-likelihoods and hidden state) are read
  once per candidate and cached, then a small head is trained on top with the
  Bradley-Terry loss. Writes a critic directory that ``disc:DIR`` loads.
* :mod:`train.disc.reward_trainer` (:class:`~train.disc.config.RewardModelConfig`) — trl's
  ``RewardTrainer`` with a peft LoRA adapter on a sequence-classification head, for
  decoder (Qwen, SmolLM2) and encoder (MiniLM) bases; the full-backprop recipe for a GPU.
"""
