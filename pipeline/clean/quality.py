"""Length and quality filters for instruction pairs: each returns flag names, never deletes.

Flags (stored as a JSON list in pairs.flags):
  short_instruction   the instruction says too little to learn from
  short_output        the output is (nearly) empty
  too_long            instruction + input + output is longer than the training context allows
  long_line           a line is longer than any hand-written code (minified, data blobs)
  low_alnum           the output is mostly symbols/whitespace (base64-ish, ASCII art, tables)
  code_in_instruction the instruction contains a code block (godot-dodo keeps code out of it)
  echo                the output repeats the instruction
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class QualityThresholds:
    min_instruction_chars: int = field(default=10, metadata={"help": "flag instructions shorter than this (characters)"})
    min_output_chars: int = field(default=10, metadata={"help": "flag outputs shorter than this (characters)"})
    max_total_chars: int = field(default=20000, metadata={"help": "flag pairs longer than this in total (characters)"})
    max_line_chars: int = field(default=1000, metadata={"help": "flag outputs with a line longer than this (characters)"})
    min_alnum_ratio: float = field(default=0.25, metadata={"help": "flag outputs whose share of letters and digits is below this"})


def quality_flags(instruction: str, input: str, output: str, limits: QualityThresholds) -> list[str]:
    instruction, input, output = instruction or "", input or "", output or ""
    flags = []
    if len(instruction.strip()) < limits.min_instruction_chars:
        flags.append("short_instruction")
    if len(output.strip()) < limits.min_output_chars:
        flags.append("short_output")
    if len(instruction) + len(input) + len(output) > limits.max_total_chars:
        flags.append("too_long")
    if output and max(len(line) for line in output.splitlines() or [""]) > limits.max_line_chars:
        flags.append("long_line")
    visible = [c for c in output if not c.isspace()]
    if visible and sum(c.isalnum() for c in visible) / len(visible) < limits.min_alnum_ratio:
        flags.append("low_alnum")
    if "```" in instruction:
        flags.append("code_in_instruction")
    if output.strip() and output.strip() == instruction.strip():
        flags.append("echo")
    return flags
