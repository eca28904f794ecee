"""`python -m pipeline models list|add|remove|try|prepare-default|export-gguf`."""
from __future__ import annotations

from pipeline.cli import add_wait_flags, follow_job
from pipeline.models.templates import template_names
from pipeline.store import open_store


def register(sub) -> None:
    p = sub.add_parser("models", help="register models and try a prompt")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    ls = msub.add_parser("list", help="registered models")
    ls.set_defaults(func=cmd_list)

    add = msub.add_parser("add", help="register a model by folder, hub id, GGUF file or endpoint")
    add.add_argument("name", help="a short unique name shown in the studio")
    add.add_argument("--kind", choices=["local", "hf", "gguf", "openai"], required=True,
                     help="local folder, hub id, GGUF file, or OpenAI-compatible endpoint")
    add.add_argument("--path", required=True,
                     help="folder / hub id / .gguf file / model id served by the endpoint")
    add.add_argument("--base", help="base model when --path is a LoRA adapter folder")
    add.add_argument("--endpoint", help="base_url of an OpenAI-compatible server, e.g. http://host:8000/v1")
    add.add_argument("--api-key-env", help="NAME of the env var that holds the key (the key is never stored)")
    add.add_argument("--template", default="chat", choices=template_names(),
                     help="prompt layout the model expects: chat (its tokenizer's chat template), "
                          "alpaca or octopack")
    add.add_argument("--replace", action="store_true", help="overwrite a model with the same name")
    add.set_defaults(func=cmd_add)

    rm = msub.add_parser("remove", help="forget a registered model (files are not touched)")
    rm.add_argument("name", help="the model's name")
    rm.set_defaults(func=cmd_remove)

    tr = msub.add_parser("try", help="send one prompt and print the reply as it streams")
    tr.add_argument("name", help="the model's name")
    tr.add_argument("prompt", help="the user message")
    tr.add_argument("--max-new-tokens", type=int, default=128, help="most tokens to generate")
    tr.add_argument("--temperature", type=float, default=0.0, help="0 = greedy")
    tr.set_defaults(func=cmd_try)

    exp = msub.add_parser("export-gguf", help="export a checkpoint or model folder to GGUF (f16, q8_0, q4_k_m) "
                                              "with an Ollama Modelfile, registered as models (a job)")
    exp.add_argument("model", help="the registered model to export (a LoRA checkpoint is merged first)")
    from pipeline.config import add_config_arguments
    from pipeline.models.export_gguf import ExportConfig

    add_config_arguments(exp, ExportConfig, skip=("model",))
    add_wait_flags(exp)
    exp.set_defaults(func=cmd_export)

    prep = msub.add_parser("prepare-default", help="convert and register the embedded SmolLM2 model (a job)")
    add_wait_flags(prep)
    prep.set_defaults(func=cmd_prepare)


def cmd_list(args) -> int:
    models = open_store().list_models()
    if not models:
        print("no models registered; run `python -m pipeline models prepare-default --wait`")
    for m in models:
        where = m["endpoint"] + " " + m["path"] if m["kind"] == "openai" else m["path"]
        print(f"{m['name']:<28} {m['kind']:<7} {where}" + (f"  (base {m['base']})" if m["base"] else ""))
    return 0


def cmd_add(args) -> int:
    from pipeline.models import register

    m = register(open_store(), args.name, args.kind, args.path, base=args.base, endpoint=args.endpoint,
                 api_key_env=args.api_key_env, template=args.template, replace=args.replace)
    print(f"registered {m['name']} ({m['kind']})")
    return 0


def cmd_remove(args) -> int:
    from pipeline import access

    access.require(access.Cap.WRITE_DATA, access.Target(what=f"remove model {args.name}"))
    open_store().delete_model(args.name)
    print(f"removed {args.name}")
    return 0


def cmd_try(args) -> int:
    from pipeline.models import GenParams, stream_chat

    params = GenParams(max_new_tokens=args.max_new_tokens, temperature=args.temperature)
    printed = 0
    for text in stream_chat(args.name, [{"role": "user", "content": args.prompt}], params):
        print(text[printed:], end="", flush=True)
        printed = len(text)
    print()
    return 0


def cmd_prepare(args) -> int:
    from pipeline.models.default_model import ensure_default_model_job

    store = open_store()
    job_id = ensure_default_model_job(store)
    if job_id is None:
        print("the default model is already prepared and registered")
        return 0
    return follow_job(store, job_id, args.wait)


def cmd_export(args) -> int:
    from pipeline.models.export_gguf import ExportConfig, submit_export

    store = open_store()
    config = ExportConfig.from_args(args, model=args.model)
    job_id = submit_export(store, config)

    def report(job):
        result = job.get("result") or {}
        if job["status"] != "done" or not isinstance(result, dict):
            return []
        return [f"registered {', '.join(result.get('models', []))}",
                f"Ollama: ollama create NAME -f {result.get('modelfile')}"]

    return follow_job(store, job_id, args.wait, report)
