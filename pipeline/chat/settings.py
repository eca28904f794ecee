"""ChatSettings: the generation settings of one chat column (defaults, help, CLI flags, UI form)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pipeline.errors import ConfigError


@dataclass
class ChatSettings:
    system: str = field(default="", metadata={"help": "system prompt sent before the conversation"})
    temperature: float = field(default=0.0, metadata={"help": "0 = greedy; higher = more random (0 to 2)"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling mass (0 < top_p <= 1)"})
    max_new_tokens: int = field(default=256, metadata={"help": "most tokens per answer (1 to 8192)"})
    stop: list[str] = field(default_factory=list, metadata={"help": "cut the answer at any of these strings"})
    repetition_penalty: float = field(default=1.0, metadata={
        "help": "above 1 discourages repeats (1 = off; local models and vLLM servers)"})
    seed: int | None = field(default=None, metadata={"help": "sampling seed, for reproducible sampled answers"})
    context_tokens: int = field(default=0, metadata={
        "help": "context window to fit the history into; 0 = the model's own (local) or 8192 (endpoint)"})

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """One check for CLI and UI; the message names the setting and its range."""
        if not 0 <= self.temperature <= 2:
            raise ConfigError(f"temperature must be between 0 and 2, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be above 0 and at most 1, got {self.top_p}")
        if not 1 <= self.max_new_tokens <= 8192:
            raise ConfigError(f"max_new_tokens must be between 1 and 8192, got {self.max_new_tokens}")
        if not 0.5 <= self.repetition_penalty <= 2:
            raise ConfigError(f"repetition_penalty must be between 0.5 and 2, got {self.repetition_penalty}")
        if self.context_tokens < 0:
            raise ConfigError(f"context_tokens must be 0 (auto) or positive, got {self.context_tokens}")
        self.stop = [s for s in (self.stop or []) if s]

    def gen_params(self, extra_stop: list[str] | None = None):
        from pipeline.models import GenParams

        stop = list(dict.fromkeys([*self.stop, *(extra_stop or [])]))
        return GenParams(max_new_tokens=self.max_new_tokens, temperature=self.temperature, top_p=self.top_p,
                         stop=stop, seed=self.seed, repetition_penalty=self.repetition_penalty)

    def to_dict(self) -> dict:
        return asdict(self)
