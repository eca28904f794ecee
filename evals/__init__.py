"""Evaluations for CodeTune Studio: syntax validity, pass@k, LLM judge (see DESIGN.md)."""
