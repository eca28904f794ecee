"""Judge: evaluate by judgment — an LLM judge scores contestants' answers to a judge suite, with
its biases measured (flip rate, length correlation, self-preference, agreement with arena votes).

`suites` reads and validates judge suites (the built-in one is `builtin_suite.jsonl`: 54 code
instructions in six categories, Godot 4 GDScript among them); `prompts` holds the judge prompt of
each mode (multi-system 0–10, single 1–10 reference-guided, pairwise with both orders, rubric);
`verdicts` parses replies strictly; `requests` plans what is asked; `run` is the job (answers,
then judgments through the labeller's request engine, resumable without paying twice); `bias`
turns stored judgments into scores and bias figures. `multiturn` brings MT-bench's question and
reference-answer files as published: answers turn by turn, its multi-turn judge prompts, per-turn results.

    python -m evals judge suites|import|estimate|run|list|show|export
"""
JOB_KINDS = {"judge": "evals.judge.run:judge_job"}
